package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// diffPaths runs drift diff a b --format paths ARGS (exiting wantExit)
// and returns its lines, sorted, and its stderr.
func (s *system) diffPaths(wantExit int, a, b string, args ...string) ([]string, string) {
	s.t.Helper()
	code, out, errOut := s.driftAll(append([]string{"diff", a, b, "--format", "paths"}, args...)...)
	if code != wantExit {
		s.t.Fatalf("drift diff %s %s: exit %d, want %d\n%s\n%s", a, b, code, wantExit, tail(out, 4000), errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if out == "" {
		lines = nil
	}
	sort.Strings(lines)
	return lines, errOut
}

// chrootDiff runs drift diff a b --format paths chrooted into the system
// (installChroot), as on the running machine (exiting wantExit), and
// returns its lines, sorted, and its stderr.
func (s *system) chrootDiff(wantExit int, a, b string) ([]string, string) {
	s.t.Helper()
	var stdout, stderr strings.Builder
	cmd := command("chroot", s.root, chrootDrift, "diff", a, b, "--format", "paths")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		s.t.Fatalf("chroot drift diff %s %s: %v", a, b, err)
	}
	if code != wantExit {
		s.t.Fatalf("chroot drift diff %s %s: exit %d, want %d\n%s\n%s", a, b, code, wantExit, tail(stdout.String(), 4000), stderr.String())
	}
	var lines []string
	if out := stdout.String(); out != "" {
		lines = strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	}
	sort.Strings(lines)
	return lines, stderr.String()
}

// snapshotRoot makes an old root of the live root subvolume as the wipe
// would move it to old_roots: a snapshot, with its nested subvolumes
// (which a snapshot leaves as empty directories) snapshotted into place.
func (s *system) snapshotRoot(name string, nested ...string) string {
	t := s.t
	old := filepath.Join(s.top, "old_roots", name)
	testutil.Must(t, os.MkdirAll(filepath.Dir(old), 0o755))
	run(t, "btrfs", "subvolume", "snapshot", filepath.Join(s.top, "root"), old)
	for _, n := range nested { // parents first
		testutil.Must(t, os.Remove(filepath.Join(old, n)))
		run(t, "btrfs", "subvolume", "snapshot", filepath.Join(s.top, "root", n), filepath.Join(old, n))
	}
	return old
}

// TestDiffOldRootAgainstLiveSystem: drift diff OLDROOT / (the README's
// example) compares like with like: the live root, with persistent bind
// mounts (/etc/machine-id, /etc/nixos, /root/.bash_history), other
// subvolumes (/nix, /var/log, /home) and /proc mounted on it, is read
// beneath those mounts, as the old root is. Nothing that did not change is
// reported — not the mount points, not a file written through a bind mount
// (it is on persistent storage) — and what changed on the root subvolume
// is, in its nested subvolumes and under a mount point too.
func TestDiffOldRootAgainstLiveSystem(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	s.populate()
	testutil.Must(t, os.MkdirAll(s.M("/proc"), 0o555))
	testutil.Must(t, os.MkdirAll(s.M("/mnt/old"), 0o755)) // where the chrooted diff sees the old root
	nested := []string{"srv/nested-subvol", "srv/nested-subvol/inner"}
	old := s.snapshotRoot("2026-12-01_08:00:00", nested...)
	s.installChroot() // the drift binary on /nix, /proc mounted

	// Nothing changed on the root subvolume since the snapshot.
	got, errOut := s.diffPaths(0, old, s.root)
	if len(got) != 0 {
		t.Errorf("unchanged root: drift diff reports %q", got)
	}
	if !strings.Contains(errOut, "reading "+s.root+" beneath the ") {
		t.Errorf("drift diff does not say it read the live root beneath its mounts:\n%s", errOut)
	}
	// Without open_tree (before Linux 5.2), the live root is read as its
	// subvolume through the top level: the same answer.
	if got, _ := s.diffPaths(0, old, s.root, "--no-open-tree"); len(got) != 0 {
		t.Errorf("unchanged root, read through the top level: drift diff reports %q", got)
	}
	// The README's own example, drift diff OLDROOT /, on the running
	// system (chrooted into it, the old root bind-mounted at /mnt/old):
	// nothing either, though / has bind-mounted files and directories,
	// other subvolumes and /proc on it.
	run(t, "mount", "--bind", old, s.M("/mnt/old"))
	defer run(t, "umount", s.M("/mnt/old"))
	got, errOut = s.chrootDiff(0, "/mnt/old", "/")
	if len(got) != 0 {
		t.Errorf("unchanged root: chrooted drift diff /mnt/old / reports %q", got)
	}
	if !strings.Contains(errOut, "drift: reading / beneath the ") {
		t.Errorf("chrooted drift diff does not say it read / beneath its mounts:\n%s", errOut)
	}

	// Written through bind mounts and onto other subvolumes: persistent
	// storage, not the root subvolume.
	writeFile(t, s.M("/etc/machine-id"), "00000000000000000000000000000000\n", 0o444)
	writeFile(t, s.M("/root/.bash_history"), "ls\nreboot\nexit\n", 0o600)
	writeFile(t, s.M("/var/log/new.log"), "log\n", 0o644)
	writeFile(t, s.M("/etc/nixos/flake.nix"), "{ }\n", 0o644)
	// Changes on the root subvolume.
	writeFile(t, s.M("/etc/my-local-tweak.conf"), "tweak=2\n", 0o644)
	writeFile(t, s.M("/new-file"), "new\n", 0o644)
	testutil.Must(t, os.Remove(s.M("/imperm_test/testfile")))
	writeFile(t, s.M("/srv/nested-subvol/inner/deep.txt"), "changed in a nested subvolume", 0o644)
	writeFile(t, filepath.Join(s.top, "root", "var/log/hidden-new.txt"), "under the /var/log mount", 0o644)

	want := []string{
		"+ /new-file",
		"+ /var/log/hidden-new.txt",
		"- /imperm_test/testfile",
		"M /etc/my-local-tweak.conf",
		"M /srv/nested-subvol/inner/deep.txt",
	}
	sort.Strings(want)
	if got, _ := s.diffPaths(1, old, s.root); !reflect.DeepEqual(got, want) {
		t.Errorf("drift diff OLDROOT ROOT:\n got %q\nwant %q", got, want)
	}
	if got, _ := s.diffPaths(1, old, s.root, "--no-open-tree"); !reflect.DeepEqual(got, want) {
		t.Errorf("drift diff OLDROOT ROOT --no-open-tree:\n got %q\nwant %q", got, want)
	}
	if got, _ := s.chrootDiff(1, "/mnt/old", "/"); !reflect.DeepEqual(got, want) {
		t.Errorf("chrooted drift diff /mnt/old /:\n got %q\nwant %q", got, want)
	}
	// The other way round, the JSON names the trees as given.
	code, out, errOut := s.driftAll("diff", s.root, old, "--format", "json")
	var r struct {
		A, B    string
		Summary map[string]int64
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 1 {
		t.Fatalf("drift diff --format json: exit %d, %v\n%s", code, err, errOut)
	}
	if r.A != s.root || r.B != old || r.Summary["added"] != 1 || r.Summary["removed"] != 2 || r.Summary["changed"] != 2 || r.Summary["meta"] != 0 {
		t.Errorf("json: a %q b %q summary %v", r.A, r.B, r.Summary)
	}

	// A user without root can make no view beneath the mounts (open_tree
	// and mounting the top level need CAP_SYS_ADMIN): refused, never
	// compared above the mounts, with the command that works.
	bin := os.Getenv(envDrift)
	for _, p := range []string{s.root, old, bin} {
		for d := filepath.Dir(p); d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
			testutil.Must(t, os.Chmod(d, 0o755)) // test directories: let nobody reach them
		}
	}
	cmd := command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", bin, "diff", old, s.root)
	outB, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("drift diff as nobody: %v, want exit 2\n%s", err, outB)
	}
	for _, want := range []string{
		"drift: error: " + s.root + " has ",
		" below it, and it cannot be read beneath its mounts: open_tree " + s.root + ": operation not permitted",
		"drift: hint: reading it beneath its mounts needs root: sudo drift diff " + old + " " + s.root + "\n",
	} {
		if !strings.Contains(string(outB), want) {
			t.Errorf("drift diff as nobody: no %q in\n%s", want, outB)
		}
	}
}

// TestDiffNestedSubvolumes: two old roots whose nested subvolume
// var/lib/machines/box differs (once nested, once nested twice) are
// different; the files inside the subvolumes are compared, not skipped.
func TestDiffNestedSubvolumes(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	roots := filepath.Join(s.top, "old_roots")
	testutil.Must(t, os.MkdirAll(roots, 0o755))
	var olds []string
	for i, release := range []string{"ID=nixos\n", "ID=debian\n"} {
		old := filepath.Join(roots, []string{"2026-12-01_08:00:00", "2026-12-02_08:00:00"}[i])
		run(t, "btrfs", "subvolume", "create", old)
		writeFile(t, filepath.Join(old, "etc/hostname"), "box-host\n", 0o644)
		testutil.Must(t, os.MkdirAll(filepath.Join(old, "var/lib/machines"), 0o755))
		run(t, "btrfs", "subvolume", "create", filepath.Join(old, "var/lib/machines/box"))
		writeFile(t, filepath.Join(old, "var/lib/machines/box/etc/os-release"), release, 0o644)
		run(t, "btrfs", "subvolume", "create", filepath.Join(old, "var/lib/machines/box/inner"))
		writeFile(t, filepath.Join(old, "var/lib/machines/box/inner/data"), "same\n", 0o644)
		olds = append(olds, old)
	}
	got, _ := s.diffPaths(1, olds[0], olds[1])
	if want := []string{"M /var/lib/machines/box/etc/os-release"}; !reflect.DeepEqual(got, want) {
		t.Errorf("drift diff of two old roots: %q, want %q", got, want)
	}
	writeFile(t, filepath.Join(olds[1], "var/lib/machines/box/inner/data"), "other\n", 0o644)
	got, _ = s.diffPaths(1, olds[0], olds[1])
	if want := []string{"M /var/lib/machines/box/etc/os-release", "M /var/lib/machines/box/inner/data"}; !reflect.DeepEqual(got, want) {
		t.Errorf("drift diff, nested twice: %q, want %q", got, want)
	}
	// Counted: / etc etc/hostname var var/lib var/lib/machines box box/etc
	// box/inner (the differing files apart).
	code, out, _ := s.driftAll("diff", olds[0], olds[1], "--format", "json")
	var r struct{ Summary map[string]int64 }
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 1 || r.Summary["same"] != 9 {
		t.Errorf("json: exit %d, %v, summary %v, want 9 same", code, err, r.Summary)
	}
}
