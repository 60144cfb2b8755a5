package e2e

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestRestoreLatest: after a real drift wipe, drift restore --from latest
// finds the old root the wipe just made (through the top level of the
// filesystem mounted at --root, on a private temporary mount) and copies a
// lost file back into persistent storage with its content, mode and times.
// An older old root whose name sorts after it as a string (day 9 against
// day 1x) is not "latest"; --from NAME picks it.
func TestRestoreLatest(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	const p = "/srv/declared-unmounted/data.txt" // declared, not mounted: lost
	mtime := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	writeFile(t, s.M(p), "from the latest root\n", 0o640)
	testutil.Must(t, os.Chtimes(s.M(p), mtime, mtime))

	// The root is retired under a name with a two-digit day (its mtime);
	// an older old root of day 9 of the same month sorts after it as a string.
	d := time.Now().UTC()
	for d.Day() < 10 {
		d = d.AddDate(0, 0, -1)
	}
	retired := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 1, 0, time.UTC)
	older := time.Date(d.Year(), d.Month(), 9, 8, 0, 0, 0, time.UTC)
	retiredName, olderName := retired.Format("2006-01-2_15:04:05"), older.Format("2006-01-2_15:04:05")
	if olderName < retiredName {
		t.Fatalf("test setup: %s sorts before %s", olderName, retiredName)
	}

	s.unmountBelow(s.root)
	testutil.Must(t, os.MkdirAll(filepath.Join(s.top, "old_roots"), 0o755))
	run(t, "btrfs", "subvolume", "create", filepath.Join(s.top, "old_roots", olderName))
	writeFile(t, filepath.Join(s.top, "old_roots", olderName, p), "from the older root\n", 0o600)
	testutil.Must(t, os.Chtimes(filepath.Join(s.top, "root"), retired, retired))
	w := &wipeImage{t: t, top: s.top, dev: s.dev}
	w.drift("--keep-days", "60")
	if _, err := os.Stat(filepath.Join(s.top, "old_roots", retiredName, p)); err != nil {
		t.Fatalf("the wipe did not retire the root to old_roots/%s: %v", retiredName, err)
	}
	s.boot(unbackedAtFirstBoot)
	if _, err := os.Lstat(s.M(p)); err == nil {
		t.Fatalf("%s survived the wipe", p)
	}

	restore := func(args ...string) string {
		t.Helper()
		return string(s.drift(0, append([]string{"restore", p, "--root", s.root, "--persist", s.declPath()}, args...)...))
	}
	out := restore("--from", "latest", "--dry-run")
	if !strings.Contains(out, "would restore "+s.dev+":/old_roots/"+retiredName+p) {
		t.Errorf("--from latest --dry-run: not from old_roots/%s:\n%s", retiredName, out)
	}
	dest := s.M(storage + p)
	if _, err := os.Lstat(dest); err == nil {
		t.Fatalf("--dry-run wrote %s", dest)
	}
	out = restore("--from", "latest")
	t.Logf("drift restore --from latest:\n%s", out)
	got, err := os.ReadFile(dest)
	testutil.Must(t, err)
	fi, err := os.Stat(dest)
	testutil.Must(t, err)
	if string(got) != "from the latest root\n" || fi.Mode().Perm() != 0o640 || !fi.ModTime().Equal(mtime) {
		t.Errorf("restored %s: %q, mode %v, mtime %s; want the latest root's copy, 0640, %s", dest, got, fi.Mode(), fi.ModTime(), mtime)
	}
	// Never over it without --force; --from NAME picks the older root, by
	// the seed's name (day 9) or one that denotes the same time (day 09).
	s.drift(2, "restore", p, "--root", s.root, "--persist", s.declPath(), "--from", "latest")
	padded := older.Format("2006-01-02_15:04:05")
	out = restore("--from", padded, "--device", s.dev, "--force", "--dry-run")
	if !strings.Contains(out, s.dev+":/old_roots/"+olderName+p) {
		t.Errorf("--from %s --dry-run: not from old_roots/%s:\n%s", padded, olderName, out)
	}
	out = restore("--from", olderName, "--device", s.dev, "--force")
	if !strings.Contains(out, "replaced "+dest+" from "+s.dev+":/old_roots/"+olderName+p) {
		t.Errorf("--from %s --force:\n%s", olderName, out)
	}
	if got, _ := os.ReadFile(dest); string(got) != "from the older root\n" {
		t.Errorf("--from %s: %s holds %q", olderName, dest, got)
	}
	// The top level's temporary mount is gone.
	if b, err := os.ReadFile("/proc/self/mountinfo"); err == nil && strings.Contains(string(b), "drift-top-") {
		t.Errorf("a drift-top mount is left:\n%s", b)
	}
}

// TestRestoreRefusesBindMounts: on real btrfs, drift restore never crosses a
// mount boundary, on either side, as it never goes through a symlink. A
// bind mount inside the old root (of a directory holding what is not in the
// old root) would make restore copy what it binds; one inside the
// persistent storage path would send the copy outside it; one inside the
// persistent copy that --force replaces would make the removal of that copy
// delete what it binds. Each is refused with the mount point named, and
// nothing is written anywhere. Once the bind mounts are gone, the same
// restore succeeds.
func TestRestoreRefusesBindMounts(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	const p = "/srv/declared-unmounted" // declared: its persistent copy is storage+p
	old := filepath.Join(s.top, "old_roots", "2026-11-5_09:03:07")
	testutil.Must(t, os.MkdirAll(filepath.Dir(old), 0o755))
	run(t, "btrfs", "subvolume", "create", old)
	writeFile(t, filepath.Join(old, p, "state/data.txt"), "from the old root\n", 0o640)
	testutil.Must(t, os.MkdirAll(filepath.Join(old, p, "state/cache"), 0o755))
	// What the bind mounts expose: on another subvolume, outside both sides.
	secret := s.M("/home/outside")
	writeFile(t, filepath.Join(secret, "key"), "not in the old root\n", 0o600)
	dest := s.M(storage + p)
	bind := func(src, dst string) func() {
		t.Helper()
		testutil.Must(t, os.MkdirAll(dst, 0o755))
		run(t, "mount", "--bind", src, dst)
		return func() { run(t, "umount", dst) }
	}
	restore := func(want string, args ...string) {
		t.Helper()
		beforeSecret, beforeStore := snapshot(t, secret), snapshot(t, s.M(storage))
		code, out, errOut := s.driftAll(append([]string{"restore", p, "--root", s.root, "--persist", s.declPath(), "--from", old}, args...)...)
		if code != 2 || !strings.Contains(errOut, want+" is a mount point") {
			t.Errorf("restore %v: exit %d, want 2 naming the mount point %s\nstdout:\n%s\nstderr:\n%s", args, code, want, out, errOut)
		}
		if got := snapshot(t, secret); !reflect.DeepEqual(got, beforeSecret) {
			t.Errorf("restore %v changed the bound directory: %v, was %v", args, got, beforeSecret)
		}
		if got := snapshot(t, s.M(storage)); !reflect.DeepEqual(got, beforeStore) {
			t.Errorf("restore %v changed persistent storage: %v, was %v", args, got, beforeStore)
		}
	}

	// The source side: a bind mount inside the old root.
	undo := bind(secret, filepath.Join(old, p, "state/cache"))
	restore(filepath.Join(old, p, "state/cache"))
	restore(filepath.Join(old, p, "state/cache"), "--dry-run")
	undo()

	// The destination side: a bind mount on a directory below the
	// persistent storage path, on the way to the destination.
	undo = bind(secret, s.M(storage+"/srv"))
	restore(s.M(storage + "/srv"))
	undo()

	// The destination that --force replaces holds a bind mount.
	writeFile(t, filepath.Join(dest, "old/file"), "the previous copy\n", 0o600)
	undo = bind(secret, filepath.Join(dest, "old/bound"))
	restore(filepath.Join(dest, "old/bound"), "--force")
	undo()

	// Without the bind mounts, the same restore works.
	s.drift(0, "restore", p, "--root", s.root, "--persist", s.declPath(), "--from", old, "--force")
	if b, err := os.ReadFile(filepath.Join(dest, "state/data.txt")); err != nil || string(b) != "from the old root\n" {
		t.Errorf("after the restore: %q, %v", b, err)
	}
}
