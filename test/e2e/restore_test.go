package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	must(t, os.Chtimes(s.M(p), mtime, mtime))

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
	must(t, os.MkdirAll(filepath.Join(s.top, "old_roots"), 0o755))
	run(t, "btrfs", "subvolume", "create", filepath.Join(s.top, "old_roots", olderName))
	writeFile(t, filepath.Join(s.top, "old_roots", olderName, p), "from the older root\n", 0o600)
	must(t, os.Chtimes(filepath.Join(s.top, "root"), retired, retired))
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
	must(t, err)
	fi, err := os.Stat(dest)
	must(t, err)
	if string(got) != "from the latest root\n" || fi.Mode().Perm() != 0o640 || !fi.ModTime().Equal(mtime) {
		t.Errorf("restored %s: %q, mode %v, mtime %s; want the latest root's copy, 0640, %s", dest, got, fi.Mode(), fi.ModTime(), mtime)
	}
	// Never over it without --force; --from NAME picks the older root.
	s.drift(2, "restore", p, "--root", s.root, "--persist", s.declPath(), "--from", "latest")
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
