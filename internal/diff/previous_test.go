package diff

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/btrfs"

	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/testutil"
)

// prevTree builds a previous root named 2026-11-28_10:00:00 from a build
// spec.
func prevTree(t *testing.T, spec string) *btrfs.OldRoot {
	t.Helper()
	prev := previous(t, nil)
	testutil.Tree(t, prev.Dir, spec)
	return prev
}

func histories(a *Audit) map[string]string {
	out := map[string]string{}
	for _, it := range a.Lost {
		out[it.Path] = it.History.String()
	}
	return out
}

// Each lost path's history against the previous root: new, changed (by
// content at equal size, by size, by symlink target, by type, by mode),
// same; a symlink in the previous root is never followed.
func TestLostHistory(t *testing.T) {
	live := `
f /srv/new.txt hello
f /srv/same.txt abc
f /srv/changed.txt abc
f /srv/grown.txt abc
l /srv/link -> /a
l /srv/link2 -> /b
l /srv/retyped -> x
d /srv/dir
d /srv/dir2
f /srv/viasym/f x
`
	prev := prevTree(t, `
f /srv/same.txt abc
f /srv/changed.txt abd
f /srv/grown.txt abcd
l /srv/link -> /a
l /srv/link2 -> /c
f /srv/retyped x
d /srv/dir
d /srv/dir2
l /srv/viasym -> real
f /srv/real/f x
`)
	testutil.Must(t, os.Chmod(filepath.Join(prev.Dir, "srv/dir2"), 0o700))
	a := check(t, live, btrfsSystem, []persist.Entry{dir("/var/lib/x")}, func(cfg *Config) { cfg.PreviousRoot = prev })
	want := map[string]string{
		"/srv":             "same",
		"/srv/new.txt":     "new",
		"/srv/same.txt":    "same",
		"/srv/changed.txt": "changed",
		"/srv/grown.txt":   "changed",
		"/srv/link":        "same",
		"/srv/link2":       "changed",
		"/srv/retyped":     "changed",
		"/srv/dir":         "same",
		"/srv/dir2":        "changed",
		"/srv/viasym":      "changed", // a directory now, a symlink then
		"/srv/viasym/f":    "new",     // not read through the old symlink
	}
	got := histories(a)
	for p, w := range want {
		if got[p] != w {
			t.Errorf("%s: history %q, want %q", p, got[p], w)
		}
	}
	if len(a.Warnings) != 0 {
		t.Errorf("warnings %q", a.Warnings)
	}

	// No previous root: no history.
	a = check(t, live, btrfsSystem, []persist.Entry{dir("/var/lib/x")}, nil)
	for _, it := range a.Lost {
		if it.History != NoHistory {
			t.Errorf("%s: history %s without a previous root", it.Path, it.History)
		}
	}
}

// What vanished at the last reboot: absent now, not under a mount point,
// and at a declared path only when its persistent copy lacks it too (the
// copy was not mounted over it: the data lay on the root, and check
// predicted its loss); a vanished directory is one entry with its count
// and size.
func TestVanished(t *testing.T) {
	live := `
f /srv/kept.txt k
d /var/lib
d /etc
`
	prev := prevTree(t, `
f /srv/kept.txt k
f /srv/gone.txt bye
f /srv/gonedir/a 12345
f /srv/gonedir/b/c 678
f /var/lib/declared/x declared
f /var/lib/declared/persisted in the copy
f /etc/declared.conf a declared file
f /etc/persisted.conf a declared file in its copy
f /var/lib/declared.txt not-declared
f /var/log/old.log log
f /proc/1/status x
f /nix/store/x y
d /var/lib/empty
`)
	decls := []persist.Entry{dir("/var/lib/declared"), file("/etc/declared.conf"), file("/etc/persisted.conf")}
	now := prev.Time.Add(3*24*time.Hour + time.Hour)
	for _, lockstep := range []bool{true, false} {
		vanishedRows(t, live, prev, decls, now, lockstep)
	}
	a := check(t, live, btrfsSystem, decls, func(cfg *Config) { cfg.PreviousRoot = prev; cfg.Now = now })
	if len(a.Vanished) == 0 || a.Vanished[0].From != prev.Name {
		t.Errorf("vanished %+v", a.Vanished)
	}

	// --old-roots DIR: restore reads the directory; a late clock: 0 days
	// left, never negative.
	prev.From = prev.Dir
	a = check(t, live, btrfsSystem, decls, func(cfg *Config) { cfg.PreviousRoot = prev; cfg.Now = prev.Time.Add(40 * 24 * time.Hour) })
	if len(a.Vanished) == 0 || a.Vanished[0].From != prev.Dir || a.Vanished[0].DaysLeft != 0 || a.Vanished[0].AgeDays != 40 {
		t.Errorf("vanished %+v", a.Vanished)
	}
	// Just before the deletion: 0 whole days left; the day before: 1.
	for _, tc := range []struct {
		after time.Duration
		left  int
	}{{31*24*time.Hour - time.Minute, 0}, {30*24*time.Hour - time.Minute, 1}, {0, 31}} {
		a = check(t, live, btrfsSystem, decls, func(cfg *Config) { cfg.PreviousRoot = prev; cfg.Now = prev.Time.Add(tc.after) })
		if len(a.Vanished) == 0 || a.Vanished[0].DaysLeft != tc.left {
			t.Errorf("%v after: vanished %+v, want %d days left", tc.after, a.Vanished, tc.left)
		}
	}
}

// vanishedRows checks TestVanished's rows, found by the lockstep walk or
// by the walk of the previous root with one lookup a path.
func vanishedRows(t *testing.T, live string, prev *btrfs.OldRoot, decls []persist.Entry, now time.Time, lockstep bool) {
	t.Helper()
	old := lockstepHistory
	lockstepHistory = lockstep
	defer func() { lockstepHistory = old }()
	a := check(t, live, btrfsSystem, decls, func(cfg *Config) {
		cfg.PreviousRoot = prev
		cfg.Now = now
		writeFiles(t, cfg.Root, map[string]string{"/nix/persist/var/lib/declared/persisted": "in the copy", "/nix/persist/etc/persisted.conf": "x"})
		// impermanence's link to the missing copy of a declared file
		testutil.Must(t, os.Symlink("/nix/persist/etc/declared.conf", filepath.Join(cfg.Root, "etc/declared.conf")))
	})
	type row struct {
		path           string
		entries, bytes int64
		decl           string
	}
	var got []row
	for _, v := range a.Vanished {
		got = append(got, row{v.Path, v.Entries, v.Bytes, v.Decl})
		if v.Root != prev.Name || v.From != prev.Name || v.AgeDays != 3 || v.DaysLeft != 27 {
			t.Errorf("%s: root %q from %q age %d left %d, want %s, %s, 3, 27", v.Path, v.Root, v.From, v.AgeDays, v.DaysLeft, prev.Name, prev.Name)
		}
	}
	want := []row{
		{"/etc/declared.conf", 1, 15, "/etc/declared.conf"},
		{"/srv/gone.txt", 1, 3, ""},
		{"/srv/gonedir", 4, 8, ""},
		{"/var/lib/declared/x", 1, 8, "/var/lib/declared"},
		{"/var/lib/declared.txt", 1, 12, ""},
		{"/var/lib/empty", 1, 0, ""},
	}
	if len(got) != len(want) {
		t.Fatalf("vanished %+v\nwant %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("lockstep %v: vanished %+v, want %+v", lockstep, got[i], want[i])
		}
	}
}
