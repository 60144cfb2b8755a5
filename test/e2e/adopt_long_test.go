package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/testutil"
)

// deepName is one of the 40 levels of the deep tree: 200 bytes.
var deepName = strings.Repeat("d", 200)

// openDeep opens dir's 40 levels of deepName one at a time (the whole
// path is twice PATH_MAX), making each with mkdir, and returns the
// deepest (O_PATH); the caller closes it.
func openDeep(t *testing.T, dir string, mkdir bool) int {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	testutil.Must(t, err)
	for range 40 {
		if mkdir {
			testutil.Must(t, unix.Mkdirat(fd, deepName, 0o755))
		}
		next, err := unix.Openat(fd, deepName, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		testutil.Must(t, err)
		unix.Close(fd)
		fd = next
	}
	return fd
}

// TestAdoptTreeDeeperThanPathMax (real btrfs): a declared, unmounted
// /srv/app holding 40 nested directories of 200 bytes with a file at the
// bottom (8,000-byte paths, twice PATH_MAX). drift adopt /srv/app copies
// it, and drift check then has no row beneath /srv/app and warns of no
// path "not compared"; a file added at the bottom is a row whose printed
// drift adopt runs (exit 0) and leaves check clean; after a real wipe and
// the next boot's mount of the copy, both files are there. Field case:
// check kept the deepest 20 paths declared-unbacked after the adopt ("not
// compared ... counted as lost") and the adopt it printed for them exited
// 2 with "file name too long".
func TestAdoptTreeDeeperThanPathMax(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	extra := filepath.Join(s.dir, "adopt.json")
	testutil.Must(t, os.WriteFile(extra, []byte(adoptDecls), 0o644))
	decl := []string{"--root", s.root, "--persist", s.declPath(), "--persist", extra}
	testutil.Must(t, os.MkdirAll(s.M("/srv/app"), 0o755))
	fd := openDeep(t, s.M("/srv/app"), true)
	testutil.Must(t, os.WriteFile(procFD(fd)+"/leaf.txt", []byte("deep data\n"), 0o644))
	unix.Close(fd)

	s.drift(0, append([]string{"adopt"}, append(decl, "/srv/app")...)...)
	rows := func() []string {
		var rep struct {
			Items []struct{ Path, Category string }
		}
		_, out, errOut := s.driftAll(append([]string{"check", "--format", "json"}, decl...)...)
		testutil.Must(t, json.Unmarshal([]byte(out), &rep))
		if strings.Contains(errOut, "not compared") {
			t.Errorf("check warns of paths not compared:\n%.600s", errOut)
		}
		var r []string
		for _, it := range rep.Items {
			if strings.HasPrefix(it.Path, "/srv/app/") {
				r = append(r, it.Category+" "+it.Path[:min(len(it.Path), 60)]+"…")
			}
		}
		return r
	}
	if r := rows(); len(r) != 0 {
		t.Errorf("after the adopt, check has %d rows beneath /srv/app: %q", len(r), r)
	}

	fd = openDeep(t, s.M("/srv/app"), false)
	testutil.Must(t, os.WriteFile(procFD(fd)+"/new.txt", []byte("new\n"), 0o644))
	unix.Close(fd)
	_, out, _ := s.driftAll(append([]string{"check", "-q"}, decl...)...)
	var cmd string
	for _, l := range strings.Split(out, "\n") {
		if i := strings.Index(l, "drift adopt "); strings.HasPrefix(l, "[") && i > 0 && strings.HasSuffix(l, "/new.txt") {
			cmd = l[i:]
		}
	}
	if cmd == "" {
		t.Fatalf("check prints no drift adopt of the new deep file:\n%.2000s", out)
	}
	s.drift(0, strings.Fields(strings.TrimPrefix(cmd, "drift "))...)
	if r := rows(); len(r) != 0 {
		t.Errorf("after the printed adopt, check has %d rows beneath /srv/app: %q", len(r), r)
	}

	s.unmountBelow(s.root)
	w := &wipeImage{t: t, top: s.top, dev: s.dev}
	w.drift()
	s.boot(nil)
	testutil.Must(t, os.MkdirAll(s.M("/srv/app"), 0o755))
	run(t, "mount", "--bind", s.M(storage+"/srv/app"), s.M("/srv/app"))
	fd = openDeep(t, s.M("/srv/app"), false)
	defer unix.Close(fd)
	for name, want := range map[string]string{"leaf.txt": "deep data\n", "new.txt": "new\n"} {
		if b, err := os.ReadFile(procFD(fd) + "/" + name); err != nil || string(b) != want {
			t.Errorf("after the wipe, the deep %s holds %q (%v), want %q", name, b, err, want)
		}
	}
}

// procFD is the name of the descriptor fd's directory under /proc/self/fd.
func procFD(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }
