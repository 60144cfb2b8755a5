package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
	"golang.org/x/sys/unix"
)

// mkdirDeep makes 40 nested directories of 200 bytes each in dir (by
// mkdirat: the path is twice PATH_MAX) with a file leaf.txt at the bottom,
// and returns the deepest directory's path inside dir ("d…d/…/d…d").
func mkdirDeep(t *testing.T, dir string) string {
	t.Helper()
	name := strings.Repeat("d", 200)
	testutil.WriteFileAt(t, testutil.MkdirChain(t, dir, name, 40), "leaf.txt", "deep data\n")
	return strings.TrimSuffix(strings.Repeat(name+"/", 40), "/")
}

// deepRows are the paths of drift check's rows beneath /opt/deep.
func deepRows(t *testing.T, flags []string) []string {
	t.Helper()
	code, out, errs := runDrift(t, append([]string{"check", "--format", "json"}, flags...)...)
	if code > 1 {
		t.Fatalf("check: exit %d\n%s", code, errs)
	}
	var rep struct {
		Items []struct{ Path, Category string }
	}
	testutil.Must(t, json.Unmarshal([]byte(out), &rep))
	var rows []string
	for _, it := range rep.Items {
		if strings.HasPrefix(it.Path, "/opt/deep") {
			rows = append(rows, it.Category+" "+it.Path[:min(len(it.Path), 60)]+"…")
		}
	}
	return rows
}

// TestCheckIsCleanAfterAdoptingPathsLongerThanPathMax: a declared
// directory holding 40 nested directories of 200 bytes (paths of 8,000
// bytes, twice PATH_MAX) is adopted whole, and drift check then counts
// every path of it copied: no row. A file added at the bottom afterwards
// is a row whose printed drift adopt runs (exit 0) and leaves check clean
// again. Field case: check counted the deepest 20 paths declared-unbacked
// ("not compared … counted as lost") right after the adopt, and the adopt
// it printed for them failed with "file name too long" (exit 2): a path
// longer than PATH_MAX was looked up by its whole name.
func TestCheckIsCleanAfterAdoptingPathsLongerThanPathMax(t *testing.T) {
	fix, err := filepath.Abs("../../fixtures/demo")
	testutil.Must(t, err)
	dir := filepath.Join(t.TempDir(), "sys")
	if out, err := exec.Command("cp", "-a", fix, dir).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v\n%s", err, out)
	}
	extra := filepath.Join(dir, "deep.nix")
	testutil.Must(t, os.WriteFile(extra, []byte(`{ environment.persistence."/nix/persist".directories = [ "/opt/deep" ]; }`+"\n"), 0o644))
	flags := append(demoFlags(dir), "--persist", extra)
	live := filepath.Join(dir, "root/opt/deep")
	testutil.Must(t, os.MkdirAll(live, 0o755))
	deep := mkdirDeep(t, live)

	if code, out, errs := runDrift(t, append([]string{"adopt", "/opt/deep"}, flags...)...); code != 0 {
		t.Fatalf("adopt /opt/deep: exit %d\n%s%s", code, out, errs)
	}
	if rows := deepRows(t, flags); len(rows) != 0 {
		t.Errorf("after adopting /opt/deep whole, check still has %d rows beneath it: %q", len(rows), rows)
	}

	fd, err := unix.Open(live, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	testutil.Must(t, err)
	for _, c := range strings.Split(deep, "/") {
		next, err := unix.Openat(fd, c, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		testutil.Must(t, err)
		unix.Close(fd)
		fd = next
	}
	testutil.WriteFileAt(t, fd, "new.txt", "new\n")
	unix.Close(fd)
	_, out, _ := runDrift(t, append([]string{"check", "-q"}, flags...)...)
	var cmd string
	for _, l := range strings.Split(out, "\n") {
		if c := adoptCmdRe.FindString(l); strings.HasPrefix(l, "[") && strings.HasSuffix(c, "/new.txt") {
			cmd = c
		}
	}
	if cmd == "" {
		t.Fatalf("check prints no drift adopt of the new deep file:\n%.2000s", out)
	}
	if code, out, errs := runDrift(t, strings.Fields(strings.TrimPrefix(cmd, "drift "))...); code != 0 {
		t.Errorf("the printed adopt of the new deep file: exit %d\n%.500s%.500s", code, out, errs)
	}
	if rows := deepRows(t, flags); len(rows) != 0 {
		t.Errorf("after the printed adopt, check still has %d rows beneath /opt/deep: %q", len(rows), rows)
	}
}
