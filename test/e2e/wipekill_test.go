package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/testutil"
)

// killNow is the clock of the kill-point sweep's wipes.
var killNow = time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)

// killImage is one btrfs image of the sweep: made once as a template, then
// copied for every run (only one copy is mounted at a time: they share a
// filesystem id).
type killImage struct {
	t        *testing.T
	img, top string
	dev      string
}

// mount attaches and mounts the image's top level at top.
func (k *killImage) mount() {
	k.t.Helper()
	testutil.Must(k.t, os.MkdirAll(k.top, 0o755))
	run(k.t, "mount", "-o", "loop,subvolid=5", k.img, k.top)
	out := strings.TrimSpace(run(k.t, "findmnt", "-n", "-o", "SOURCE", "--mountpoint", k.top))
	k.dev = strings.SplitN(out, "[", 2)[0]
}

// unmount unmounts every mount of the image's device — the test's and any a
// killed drift left behind — so that the loop device detaches.
func (k *killImage) unmount() {
	k.t.Helper()
	out, _ := command("findmnt", "-rn", "-o", "TARGET", "-S", k.dev).Output()
	targets := strings.Fields(string(out))
	for i := len(targets) - 1; i >= 0; i-- {
		if err := command("umount", targets[i]).Run(); err != nil {
			run(k.t, "umount", "-l", targets[i])
		}
	}
}

func (k *killImage) P(p string) string { return filepath.Join(k.top, p) }

func (k *killImage) subvol(p string, mtime time.Time, files ...string) {
	run(k.t, "btrfs", "subvolume", "create", k.P(p))
	for _, f := range files {
		testutil.Must(k.t, os.MkdirAll(filepath.Dir(k.P(p+"/"+f)), 0o755))
		testutil.Must(k.t, os.WriteFile(k.P(p+"/"+f), []byte(p+"/"+f+"\n"), 0o644))
	}
	if !mtime.IsZero() {
		testutil.Must(k.t, os.Chtimes(k.P(p), mtime, mtime))
	}
}

// killTemplate makes the sweep's machine: the live root (files, a nested
// subvolume), three siblings (nix, persist, and blank for --blank), and five old roots 50, 45, 40,
// 20 and 10 days old — the oldest holding nested subvolumes down to a
// read-only snapshot, the next read-only itself around a nested one. With
// --keep-min 1 the wipe deletes the three oldest, with 4 the two oldest.
func killTemplate(t *testing.T, dir string) string {
	k := &killImage{t: t, img: filepath.Join(dir, "template.img"), top: filepath.Join(dir, "template-top")}
	f, err := os.Create(k.img)
	testutil.Must(t, err)
	testutil.Must(t, f.Truncate(256<<20))
	testutil.Must(t, f.Close())
	run(t, "mkfs.btrfs", "-q", "-f", k.img)
	k.mount()
	defer k.unmount()
	k.subvol("nix", time.Time{}, "store/abc-hello/bin/hello")
	k.subvol("persist", time.Time{}, "etc/machine-id", "var/lib/nixos/uid-map")
	k.subvol("blank", time.Time{}, "etc/issue")
	testutil.Must(t, os.Mkdir(k.P("old_roots"), 0o755))
	for _, d := range []int{50, 45, 40, 20, 10} {
		at := killNow.Add(-time.Duration(d) * 24 * time.Hour)
		p := "old_roots/" + at.Format("2006-01-2_15:04:05")
		k.subvol(p, time.Time{}, "etc/state", fmt.Sprintf("home/day%d", d))
		for _, m := range []string{"nix", "proc", "sys", "dev", "run"} { // a booted root's mount points
			testutil.Must(t, os.Mkdir(k.P(p+"/"+m), 0o755))
		}
		switch d {
		case 50:
			testutil.Must(t, os.MkdirAll(k.P(p+"/var/lib"), 0o755))
			k.subvol(p+"/var/lib/machines", time.Time{})
			k.subvol(p+"/var/lib/machines/box", time.Time{}, "image")
			run(t, "btrfs", "subvolume", "snapshot", "-r", k.P(p+"/var/lib/machines/box"), k.P(p+"/var/lib/machines/box/.snap-ro"))
		case 45:
			k.subvol(p+"/srv", time.Time{}, "www/index.html")
			run(t, "btrfs", "property", "set", "-ts", k.P(p), "ro", "true")
		}
		if d != 45 {
			testutil.Must(t, os.Chtimes(k.P(p), at, at))
		}
	}
	k.subvol("root", time.Time{}, "etc/passwd", "var/log/boot.log")
	testutil.Must(t, os.MkdirAll(k.P("root/var/lib"), 0o755))
	k.subvol("root/var/lib/machines", time.Time{}, "box.raw")
	at := killNow.Add(-2 * time.Hour)
	testutil.Must(t, os.Chtimes(k.P("root"), at, at))
	return k.img
}

// killState is the end state compared: every subvolume with its read-only
// flag, and every entry of the top level (nested subvolumes are walked like
// directories) with its type and, for a file, its bytes.
func killState(t *testing.T, top string) []string {
	t.Helper()
	subs := func(args ...string) []string {
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(run(t, "btrfs", append([]string{"subvolume", "list"}, append(args, top)...)...)), "\n") {
			if i := strings.Index(l, " path "); i >= 0 {
				out = append(out, l[i+len(" path "):])
			}
		}
		return out
	}
	ro := subs("-r")
	var state []string
	for _, p := range subs() {
		state = append(state, fmt.Sprintf("subvol %s ro=%v", p, slices.Contains(ro, p)))
	}
	err := filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(top, p)
		switch {
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			state = append(state, fmt.Sprintf("file %s %q", rel, b))
		case d.IsDir():
			state = append(state, "dir "+rel)
		default:
			state = append(state, fmt.Sprintf("%v %s", d.Type(), rel))
		}
		return nil
	})
	testutil.Must(t, err)
	slices.Sort(state)
	return state
}

var changeLine = regexp.MustCompile(`(?m)^drift: test: step (\d+) change (\d+): (.*)$`)

// change is one change drift wipe logged under DRIFT_TEST_STOP_AFTER.
type change struct {
	step int
	what string
}

func changes(stderr []byte) []change {
	var out []change
	for _, m := range changeLine.FindAllSubmatch(stderr, -1) {
		s, _ := strconv.Atoi(string(m[1]))
		out = append(out, change{s, string(m[3])})
	}
	return out
}

// killRun is one run of drift wipe on dev.
func killRun(t *testing.T, dev, bootID string, now time.Time, sc killScenario, stop string) (stdout, stderr []byte, err error) {
	t.Helper()
	args := []string{"wipe", "--device", dev, "--resume-device", "none",
		"--boot-id", bootID, "--now", now.Format(time.RFC3339), "--keep-min", strconv.Itoa(sc.keepMin)}
	if sc.blank {
		args = append(args, "--blank", "blank")
	}
	cmd := command(os.Getenv(envDrift), args...)
	tmp := filepath.Join(childDir(t), "tmp")
	testutil.Must(t, os.MkdirAll(tmp, 0o755))
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "DRIFT_TEST_STOP_AFTER="+stop)
	var ob, eb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &ob, &eb
	err = cmd.Run()
	return ob.Bytes(), eb.Bytes(), err
}

// killScenario is one uninterrupted wipe the sweep interrupts everywhere.
type killScenario struct {
	keepMin int
	blank   bool     // --blank blank: the fresh root is not empty
	boots   []string // when the rerun is: "same" boot, "next" boot
}

func (sc killScenario) String() string {
	s := fmt.Sprintf("keep-min-%d", sc.keepMin)
	if sc.blank {
		s += "-blank"
	}
	return s
}

// TestWipeKillPoints stops the real drift wipe — the binary doing its real
// ioctls — after each of its changes to the filesystem in turn, by SIGKILL
// and by SIGTERM, then runs it again at the same boot or the next one, and
// compares the end state with an uninterrupted run on an identical image,
// with --keep-min 1 and 4, and with --blank (rerun at the next boot, where
// a blank snapshot nothing used must not be retired). SIGTERM must let the step in progress finish
// and stop before the next. Never an old root the uninterrupted run keeps
// is lost, never a boot without a root.
func TestWipeKillPoints(t *testing.T) {
	if !driftChild(t) {
		return
	}
	dir := childDir(t)
	tmpl := killTemplate(t, dir)
	k := &killImage{t: t, img: filepath.Join(dir, "case.img"), top: filepath.Join(dir, "case-top")}
	// fresh copies the template to the case image and mounts it.
	fresh := func() {
		t.Helper()
		run(t, "cp", "--sparse=always", tmpl, k.img)
		k.mount()
	}
	start := time.Now()
	runs := 0
	both := []string{"same", "next"}
	for _, sc := range []killScenario{{1, false, both}, {4, false, both}, {4, true, []string{"next"}}} {
		fresh()
		_, stderr, err := killRun(t, k.dev, "boot-a", killNow, sc, "0")
		if err != nil {
			t.Fatalf("uninterrupted wipe %s: %v\n%s", sc, err, stderr)
		}
		want := killState(t, k.top)
		k.unmount()
		all := changes(stderr)
		t.Logf("%s: %d changes in an uninterrupted wipe:\n%s", sc, len(all), stderr)
		checkKillReference(t, sc, want, all)
		// the last change of each step, for SIGTERM
		stepEnd := map[int]int{}
		for i, c := range all {
			stepEnd[c.step] = i + 1
		}
		for n := 1; n <= len(all); n++ {
			for _, sig := range []string{"KILL", "TERM"} {
				for _, boot := range sc.boots {
					what := strings.Fields(all[n-1].what)
					name := fmt.Sprintf("%s/%s-after-change-%d-%s-%s/rerun-%s-boot", sc, sig, n, what[0], filepath.Base(what[1]), boot)
					ok := t.Run(name, func(t *testing.T) {
						k.t = t
						fresh()
						defer k.unmount()
						stop := strconv.Itoa(n)
						if sig == "TERM" {
							stop += ":TERM"
						}
						stdout, stderr, err := killRun(t, k.dev, "boot-a", killNow, sc, stop)
						got := changes(stderr)
						var ee *exec.ExitError
						switch {
						case sig == "KILL":
							if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
								t.Fatalf("not killed: %v\n%s", err, stderr)
							}
							if len(got) != n {
								t.Fatalf("killed after %d changes, want %d\n%s", len(got), n, stderr)
							}
						default:
							// the step in progress finishes, and no other starts
							end := stepEnd[all[n-1].step]
							if len(got) != end {
								t.Fatalf("SIGTERM after change %d (step %d): %d changes made, want %d (the end of that step)\n%s", n, all[n-1].step, len(got), end, stderr)
							}
							if end < len(all) && (!errors.As(err, &ee) || ee.ExitCode() != 143 || !bytes.Contains(stderr, []byte("interrupted by SIGTERM"))) {
								t.Fatalf("SIGTERM: %v, want exit 143 saying so\n%s", err, stderr)
							}
							// What it prints says how far it got, never "done".
							if end < len(all) && (!bytes.Contains(stdout, []byte("stopped: ")) || bytes.Contains(stdout, []byte("done: "))) {
								t.Fatalf("SIGTERM after step %d: the table does not say the wipe stopped:\n%s", all[n-1].step, stdout)
							}
						}
						bootID, now := "boot-a", killNow
						if boot == "next" {
							bootID, now = "boot-b", killNow.Add(time.Hour)
						}
						if _, stderr, err := killRun(t, k.dev, bootID, now, sc, ""); err != nil {
							t.Fatalf("rerun: %v\n%s", err, stderr)
						}
						if mark, err := xattr(k.P("root"), "user.drift.created-boot"); err != nil || mark != bootID {
							t.Errorf("the root's mark: %q, %v; want %s, the boot of the rerun (drift check reads it)", mark, err, bootID)
						}
						if got := killState(t, k.top); !slices.Equal(got, want) {
							t.Errorf("end state after the rerun differs from the uninterrupted run's:\n%s", stateDiff(want, got))
						}
					})
					runs++
					if !ok {
						return // one failure says enough; the rest would repeat it
					}
				}
			}
		}
	}
	t.Logf("%d interrupted runs and reruns in %s", runs, time.Since(start).Round(time.Millisecond))
}

// checkKillReference checks the uninterrupted run against what the sweep
// is built for, so that comparing with it means something: the root
// retired with its contents and nested subvolume, a fresh empty root, the
// siblings untouched, the old roots kept or deleted by --keep-min, and at
// least one change in each kind of step.
func checkKillReference(t *testing.T, sc killScenario, state []string, all []change) {
	t.Helper()
	keepMin := sc.keepMin
	day := func(d int) string {
		return "old_roots/" + killNow.Add(-time.Duration(d)*24*time.Hour).Format("2006-01-2_15:04:05")
	}
	retired := "old_roots/" + btrfs.FormatName(killNow.Add(-2*time.Hour), 0) // drift wipe's name
	want := []string{
		"subvol root ro=false", "dir root", "file nix/store/abc-hello/bin/hello \"nix/store/abc-hello/bin/hello\\n\"",
		"file persist/etc/machine-id \"persist/etc/machine-id\\n\"",
		"subvol " + retired + " ro=false", "subvol " + retired + "/var/lib/machines ro=false",
		"file " + retired + "/etc/passwd \"root/etc/passwd\\n\"",
		"file " + retired + "/var/lib/machines/box.raw \"root/var/lib/machines/box.raw\\n\"",
		"subvol " + day(10) + " ro=false", "subvol " + day(20) + " ro=false",
	}
	gone := []string{"subvol " + day(50) + " ro=false", "subvol " + day(45) + " ro=true", "subvol " + day(50) + "/var/lib/machines/box/.snap-ro ro=true"}
	if keepMin == 4 {
		want = append(want, "subvol "+day(40)+" ro=false")
	} else {
		gone = append(gone, "subvol "+day(40)+" ro=false")
	}
	for _, w := range want {
		if !slices.Contains(state, w) {
			t.Errorf("%s: the uninterrupted run's end state lacks %q", sc, w)
		}
	}
	for _, g := range gone {
		if slices.Contains(state, g) {
			t.Errorf("%s: the uninterrupted run kept %q", sc, g)
		}
	}
	for _, s := range state {
		if (strings.HasPrefix(s, "file root/") || strings.HasPrefix(s, "dir root/")) && !(sc.blank && (s == "dir root/etc" || s == `file root/etc/issue "blank/etc/issue\n"`)) {
			t.Errorf("the fresh root holds more than it should: %s", s)
		}
	}
	if sc.blank && !slices.Contains(state, `file root/etc/issue "blank/etc/issue\n"`) {
		t.Errorf("the fresh root is not a snapshot of blank")
	}
	var kinds []string
	for _, c := range all {
		kinds = append(kinds, strings.Fields(c.what)[0])
	}
	for _, k := range []string{"mark", "record", "rename", "make", "delete"} {
		if !slices.Contains(kinds, k) {
			t.Errorf("no %q among the changes: %q", k, kinds)
		}
	}
	if !slices.ContainsFunc(all, func(c change) bool { return strings.HasSuffix(c.what, "writable") }) {
		t.Errorf("no read-only flag cleared among the changes: %v", all)
	}
}

// xattr reads the extended attribute name of p.
func xattr(p, name string) (string, error) {
	buf := make([]byte, 256)
	n, err := unix.Getxattr(p, name, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// stateDiff lists the lines only in want (-) and only in got (+).
func stateDiff(want, got []string) string {
	var b strings.Builder
	for _, w := range want {
		if !slices.Contains(got, w) {
			fmt.Fprintf(&b, "  - %s\n", w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			fmt.Fprintf(&b, "  + %s\n", g)
		}
	}
	return b.String()
}
