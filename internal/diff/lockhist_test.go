package diff

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/testutil"
)

// The history and the vanished list from the one lockstep walk of the
// previous root are exactly what looking each lost path up in it, and
// walking it for what vanished, say: new, changed (content of the same
// size, size, mode, type, symlink target), same; vanished files and whole
// directories, a declared path's data its persistent copy lacks too (it
// was not mounted over it), but not what the copy holds, what is ignored,
// under a mount point, or a directory re-made at boot.
func TestLockstepHistoryMatchesLookups(t *testing.T) {
	live := `
f /same/a 1
f /same/b 22
f /chg/content abc
f /chg/size abc
f /chg/mode abc
l /chg/link -> one
d /chg/type
f /new/file x
f /mixed/keep k
f /mixed/new n
f /mixed/deep/x/y 1
f /mixed/deep/x/z 2
f /srv/app/x declared
f /var/cache/x ignored
`
	prev := map[string]string{
		"/same/a": "1", "/same/b": "22",
		"/chg/content": "abd", "/chg/size": "abcd", "/chg/mode": "abc", "/chg/type": "file",
		"/mixed/keep": "k", "/mixed/gone": "g", "/mixed/deep/x/y": "1", "/mixed/deep/x/z": "2",
		"/gone/dir/a": "1", "/gone/dir/b/c": "22", "/gone/file": "f",
		"/srv/app/old": "declared, not in the copy", "/srv/app/kept": "declared, in the copy", "/var/cache/old": "ignored", "/var/log/old": "under a mount point",
		"/tmp-ignored/x": "y",
	}
	run := func(lockstep bool) *Audit {
		old := lockstepHistory
		lockstepHistory = lockstep
		defer func() { lockstepHistory = old }()
		p := previous(t, prev)
		testutil.Must(t, os.Symlink("two", filepath.Join(p.Dir, "chg/link")))
		ig := &Ignore{}
		testutil.Must(t, ig.Add("/var/cache", "t"))
		testutil.Must(t, ig.Add("/tmp-ignored", "t"))
		return check(t, live, btrfsSystem, []persist.Entry{dir("/srv/app")}, func(c *Config) {
			c.PreviousRoot = p
			c.Ignore = ig
			testutil.Must(t, os.Chmod(filepath.Join(c.Root, "chg/mode"), 0o600))
			writeFiles(t, c.Root, map[string]string{"/nix/persist/srv/app/kept": "declared, in the copy"})
		})
	}
	a, b := run(true), run(false)
	hist := func(a *Audit) map[string]string {
		m := map[string]string{}
		for _, it := range a.Lost {
			m[it.Path] = it.History.String()
		}
		return m
	}
	ha, hb := hist(a), hist(b)
	for p, h := range hb {
		if ha[p] != h {
			t.Errorf("%s: lockstep %q, lookups %q", p, ha[p], h)
		}
	}
	if len(ha) != len(hb) {
		t.Errorf("lockstep %v\nlookups %v", ha, hb)
	}
	want := map[string]string{"/same/a": "same", "/chg/content": "changed", "/chg/size": "changed", "/chg/mode": "changed",
		"/chg/link": "changed", "/chg/type": "changed", "/new/file": "new", "/new": "new", "/mixed/keep": "same", "/mixed/new": "new"}
	for p, h := range want {
		if ha[p] != h {
			t.Errorf("%s: %q, want %q", p, ha[p], h)
		}
	}
	vanished := func(a *Audit) []string {
		var out []string
		for _, v := range a.Vanished {
			out = append(out, v.Path+" "+strconv.FormatInt(v.Entries, 10)+"/"+strconv.FormatInt(v.Bytes, 10))
		}
		return out
	}
	va, vb := vanished(a), vanished(b)
	if !slices.Equal(va, vb) {
		t.Errorf("vanished: lockstep %q, lookups %q", va, vb)
	}
	if w := []string{"/gone 6/4", "/mixed/gone 1/1", "/srv/app/old 1/25"}; !slices.Equal(va, w) {
		t.Errorf("vanished %q, want %q", va, w)
	}
	for _, v := range a.Vanished {
		if decl := map[string]string{"/srv/app/old": "/srv/app"}[v.Path]; v.Decl != decl {
			t.Errorf("vanished %s: declared by %q, want %q", v.Path, v.Decl, decl)
		}
	}
	if len(a.Warnings) != len(b.Warnings) {
		t.Errorf("warnings: lockstep %q, lookups %q", a.Warnings, b.Warnings)
	}
}

// An old root further back than the previous one (drift suggest --boots)
// is compared as the previous root is, by the one lockstep walk: HistoryIn
// against the previous root says what Check said (Item.History), and
// against an older root, with other changes, what looking each lost path
// up says.
func TestHistoryInIsTheLockstepComparison(t *testing.T) {
	live := `
f /same/a 1
f /chg/content abc
f /chg/size abc
l /chg/link -> one
d /chg/type
f /new/file x
f /mixed/keep k
f /mixed/new n
f /mixed/deep/x/y 1
`
	prev := map[string]string{
		"/same/a": "1", "/chg/content": "abd", "/chg/size": "abcd", "/chg/type": "file",
		"/mixed/keep": "k", "/mixed/deep/x/y": "1", "/gone/file": "f",
	}
	older := map[string]string{
		"/same/a": "2", "/chg/content": "abc", "/chg/size": "abc", "/chg/type/x": "now a directory",
		"/new/file": "x", "/mixed/new": "n", "/mixed/deep/x/y": "1",
	}
	p := previous(t, prev)
	testutil.Must(t, os.Symlink("two", filepath.Join(p.Dir, "chg/link")))
	o := previous(t, older)
	testutil.Must(t, os.Symlink("one", filepath.Join(o.Dir, "chg/link")))
	var root string
	a := check(t, live, btrfsSystem, []persist.Entry{dir("/srv/app")}, func(c *Config) {
		c.PreviousRoot = p
		root = c.Root
	})
	in := func(dir string, lockstep bool) map[string]string {
		old := lockstepHistory
		lockstepHistory = lockstep
		defer func() { lockstepHistory = old }()
		hs, ws, err := HistoryIn(context.Background(), root, dir, "old_roots/x", a.Lost, 0)
		if err != nil || len(ws) > 0 {
			t.Fatalf("HistoryIn %s: %v %q", dir, err, ws)
		}
		m := map[string]string{}
		for i, it := range a.Lost {
			m[it.Path] = hs[i].String()
		}
		return m
	}
	checked := map[string]string{}
	for _, it := range a.Lost {
		checked[it.Path] = it.History.String()
	}
	if got := in(p.Dir, true); !maps.Equal(got, checked) {
		t.Errorf("HistoryIn of the previous root %v, Check said %v", got, checked)
	}
	before := lookups.Load()
	got := in(o.Dir, true)
	if n := lookups.Load() - before; n != 0 {
		t.Errorf("HistoryIn of an older root looked %d lost paths up one by one, want none: all lie on the filesystem at /", n)
	}
	if one := in(o.Dir, false); !maps.Equal(got, one) {
		t.Errorf("HistoryIn of an older root: lockstep %v, lookups %v", got, one)
	}
	if n := lookups.Load() - before; n != int64(len(a.Lost)) {
		t.Errorf("%d lookups one by one, want %d (one per lost path)", n, len(a.Lost))
	}
	want := map[string]string{"/same/a": "changed", "/chg/content": "same", "/chg/size": "same", "/chg/link": "same",
		"/chg/type": "same", "/new/file": "same", "/mixed/keep": "new", "/mixed/new": "same", "/mixed/deep/x/y": "same"}
	for p, h := range want {
		if got[p] != h {
			t.Errorf("%s: %q against the older root, want %q", p, got[p], h)
		}
	}
}
