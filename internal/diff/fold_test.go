package diff

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/testutil"
)

// sameAudit fails unless a (Check's one walk with the history) and b (the
// classification walk and the lockstep walk apart) say the same: every
// item with all its fields, totals, scan count, errors, warnings, what
// vanished and the alerts.
func sameAudit(t *testing.T, a, b *Audit) {
	t.Helper()
	if len(a.Lost) != len(b.Lost) {
		t.Errorf("one walk: %d lost items, two walks: %d", len(a.Lost), len(b.Lost))
	}
	for i := range min(len(a.Lost), len(b.Lost)) {
		// The one walk knows the previous root's mtimes as well
		// (MtimeAsPrevious, held against a lookup in
		// TestMtimeAsPreviousIsThePreviousRootsMtime); the two walks leave
		// that to the caller.
		x, y := *a.Lost[i], *b.Lost[i]
		x.twin = y.twin
		if !reflect.DeepEqual(x, y) {
			t.Errorf("lost item %d: one walk %+v, two walks %+v", i, x, y)
			break
		}
	}
	for _, f := range []struct {
		name string
		a, b any
	}{
		{"totals", a.Totals, b.Totals}, {"scanned", a.Scanned, b.Scanned}, {"vanished", a.Vanished, b.Vanished},
		{"alerts", a.Alerts, b.Alerts}, {"warnings", a.Warnings, b.Warnings},
		{"errors", fmt.Sprint(a.Errors), fmt.Sprint(b.Errors)},
	} {
		if !reflect.DeepEqual(f.a, f.b) {
			t.Errorf("%s: one walk %v, two walks %v", f.name, f.a, f.b)
		}
	}
}

// foldMounts adds to btrfsSystem an ephemeral tmpfs at /tmp, walked after
// the lockstep walk, and a persistent bind mount at /srv/data.
const foldMounts = btrfsSystem + `50 22 0:40 / /tmp rw - tmpfs tmpfs rw
51 22 0:31 /persist/srv/data /srv/data rw - btrfs /dev/vda2 rw
`

// Check's one walk with the history says what the two walks apart say
// (check compares them for every fixture with a previous root): at mount
// points walked after it (an ephemeral tmpfs) or not at all (persistent),
// through a view beneath the mounts that is the root's own directory,
// in directories lost whole whose history is uniform or not, and where
// the previous root cannot be read.
func TestOneWalkWithHistory(t *testing.T) {
	live := `
f /same/a 1
f /same/deep/b 22
f /part/keep/x 1
f /part/keep/y 2
f /part/chg/z 3
f /part/new/w 4
f /tmp/a/b tmp
f /tmp/c tmp2
f /srv/data/kept persisted
f /var/log/hidden shadowed
d /unreadable
f /unreadable/f u
l /link -> /nix/store/x
`
	prev := previous(t, map[string]string{
		"/same/a": "1", "/same/deep/b": "22",
		"/part/keep/x": "1", "/part/keep/y": "2", "/part/chg/z": "three",
		"/tmp/a/b": "tmp", "/gone/x": "g", "/var/log/hidden": "shadowed",
		"/unreadable/f": "u",
	})
	// Side A unreadable below /unreadable: side B is still classified.
	testutil.Must(t, os.Chmod(filepath.Join(prev.Dir, "unreadable"), 0))
	t.Cleanup(func() { os.Chmod(filepath.Join(prev.Dir, "unreadable"), 0o755) })
	for _, under := range []bool{false, true} {
		a := check(t, live, foldMounts, []persist.Entry{dir("/srv/data")}, func(c *Config) {
			c.Ephemeral = []string{"/", "/tmp"}
			c.PreviousRoot = prev
			if under {
				root := c.Root
				c.Under = func(mp string) (string, func(), error) { return root + mp, func() {}, nil }
			}
		})
		for p, h := range map[string]History{"/same/a": HistorySame, "/part/chg/z": HistoryChanged, "/part/new/w": HistoryNew, "/tmp/a/b": HistorySame, "/tmp/c": HistoryNew} {
			if it := itemAt(a, p); it == nil || it.History != h {
				t.Errorf("under %v: %s: %+v, want history %s", under, p, it, h)
			}
		}
		if it := itemAt(a, "/unreadable/f"); it == nil {
			t.Errorf("under %v: /unreadable/f not classified", under)
		}
	}
}

// A subdirectory whose history is uniform is let go of as soon as its own
// subtree is read, even when its parent's entries differ: before, only the
// subdirectories of a parent with nothing differing below it were, so on
// a tree with 1% of its files changed most of the entries stayed kept
// until the walk's end (752,000 of 1,000,000 on the benchmark's pair, 307,000 after).
func TestOneWalkLetsGoOfAUniformSubtreeInAChangedDirectory(t *testing.T) {
	live := `
f /data/x/f1 1
f /data/x/f2 2
f /data/y 3
`
	prev := previous(t, map[string]string{"/data/x/f1": "1", "/data/x/f2": "2", "/data/y": "three"})
	before := foldedSubs.Load()
	a := check(t, live, btrfsSystem, []persist.Entry{dir("/srv/data")}, func(c *Config) {
		c.PreviousRoot = prev
		c.Collapse = true
	})
	if foldedSubs.Load() == before {
		t.Error("the walk let go of no uniform subtree")
	}
	if it := itemAt(a, "/data/x"); it == nil || it.Below().Count != 2 || it.History != HistorySame {
		t.Errorf("/data/x: %+v, want it listed, the same, standing for its 2 files", it)
	}
	if it := itemAt(a, "/data/y"); it == nil || it.History != HistoryChanged {
		t.Errorf("/data/y: %+v, want it listed, changed", it)
	}
	for _, p := range []string{"/data/x/f1", "/data/x/f2"} {
		if itemAt(a, p) != nil {
			t.Errorf("%s listed, want it counted in /data/x", p)
		}
	}
}

// A directory lost whole whose history is not uniform is listed down to
// the directories whose history is; the walk lets go of what lies below
// a subdirectory once it and its parent's subtree are read and nothing
// below that parent differs (foldDone), counting it into the Item's
// Below: the one walk says what the two walks apart say (check), and the
// counts are those of the entries let go.
func TestOneWalkLetsGoOfUniformSubtrees(t *testing.T) {
	live := `
f /data/a/b/c/f1 1
f /data/a/b/g 2
f /data/a/h/i 3
f /data/k/l/m 4
f /data/k/l/o/p 5
f /data/k/n 6
f /data/q/r/s 7
`
	prev := previous(t, map[string]string{
		"/data/a/b/c/f1": "1", "/data/a/b/g": "2", "/data/a/h/i": "three",
		"/data/k/l/m": "4", "/data/k/l/o/p": "5", "/data/q/r/s": "7",
	})
	before := foldedSubs.Load()
	a := check(t, live, btrfsSystem, []persist.Entry{dir("/srv/data")}, func(c *Config) {
		c.PreviousRoot = prev
		c.Collapse = true
	})
	if foldedSubs.Load() == before {
		t.Error("the walk let go of no uniform subtree")
	}
	for p, want := range map[string]int64{"/data/a/b": 3, "/data/k/l": 3, "/data/q": 2, "/data/a/h/i": 0, "/data/k/n": 0} {
		it := itemAt(a, p)
		if it == nil {
			t.Errorf("%s not listed", p)
			continue
		}
		if got := it.Below().Count; got != want {
			t.Errorf("%s stands for %d entries below it, want %d", p, got, want)
		}
	}
	for _, p := range []string{"/data/a/b/c", "/data/a/b/g", "/data/k/l/o", "/data/q/r"} {
		if itemAt(a, p) != nil {
			t.Errorf("%s listed, want it counted in its uniform parent", p)
		}
	}
}

// Check's one walk with the previous root reads both sides' modification
// times: MtimeAsPrevious says what a lookup in the previous root says, for
// every lost path the walk compared, and is unknown for a path on another
// filesystem (the tmpfs at /tmp, walked after it). The audit's rule of
// "made again at every boot" reads it instead of an lstat per path.
func TestMtimeAsPreviousIsThePreviousRootsMtime(t *testing.T) {
	live := `
f /same/a 1
f /same/b 2
f /tmp/c tmp
`
	prev := previous(t, map[string]string{"/same/a": "1", "/same/b": "2", "/tmp/c": "tmp"})
	a := check(t, live, foldMounts, nil, func(c *Config) {
		c.Ephemeral = []string{"/", "/tmp"}
		c.PreviousRoot = prev
		fi, err := os.Lstat(filepath.Join(c.Root, "same/a"))
		testutil.Must(t, err)
		testutil.Must(t, os.Chtimes(filepath.Join(prev.Dir, "same/a"), fi.ModTime(), fi.ModTime()))
		old := fi.ModTime().Add(-time.Hour)
		testutil.Must(t, os.Chtimes(filepath.Join(prev.Dir, "same/b"), old, old))
	})
	want := map[string]string{"/same/a": "same", "/same/b": "other", "/tmp/c": "unknown"}
	for p, w := range want {
		it := itemAt(a, p)
		if it == nil {
			t.Fatalf("%s: not lost", p)
		}
		same, known := it.MtimeAsPrevious()
		got := map[[2]bool]string{{true, true}: "same", {false, true}: "other", {false, false}: "unknown"}[[2]bool{same, known}]
		if got != w {
			t.Errorf("%s: MtimeAsPrevious %s, want %s", p, got, w)
		}
	}
	for _, it := range a.Lost {
		same, known := it.MtimeAsPrevious()
		if !known {
			continue
		}
		fi, err := os.Lstat(filepath.Join(prev.Dir, it.Path))
		if err != nil {
			t.Errorf("%s: known (%v) but not in the previous root: %v", it.Path, same, err)
			continue
		}
		if (fi.ModTime().UnixNano() == it.Mtime) != same {
			t.Errorf("%s: MtimeAsPrevious %v, the previous root's mtime %v, the walk's %v", it.Path, same, fi.ModTime().UnixNano(), it.Mtime)
		}
	}
}
