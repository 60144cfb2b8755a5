package audit

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/testutil"
)

// TestOlderRootsComparedBeforeTheWalk: a model built for drift suggest
// --boots 3 has compared its two old roots past the previous one before
// its walk (one comparison each, none for the previous root, whose history
// the walk sets), and OlderHistories answers from them exactly what a
// comparison made afterwards (diff.HistoryIn) answers: new, changed and
// the same. A model for drift check (Previous) compares nothing ahead.
func TestOlderRootsComparedBeforeTheWalk(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 11, 12, 9, 0, 0, 0, time.UTC)
	node := func(c string) testutil.Node { return testutil.Node{Content: c, Mtime: at} }
	testutil.Build(t, filepath.Join(dir, "root"), map[string]testutil.Node{
		"etc/app/state": node("now"), "etc/app/same": node("same"), "etc/app/new": node("n"), "nix/persist/.keep": node(""),
	}, at)
	for _, n := range []string{"2026-11-11_09:00:00", "2026-11-10_09:00:00", "2026-11-09_09:00:00"} {
		testutil.Build(t, filepath.Join(dir, "old", n), map[string]testutil.Node{
			"etc/app/state": node(n), "etc/app/same": node("same"),
		}, at)
	}
	o := tmpfsRootOptions(t, dir, Options{OldRoots: filepath.Join(dir, "old"), Boots: 3, Paths: true})
	m, err := Build(context.Background(), o)
	testutil.Must(t, err)
	defer m.Close()
	if len(m.OldRoots.Roots) != 3 || len(m.older) != 3 || m.older[0].cmp != nil || m.older[1].cmp == nil || m.older[2].cmp == nil {
		t.Fatalf("%d old roots, compared ahead: %+v; want the 2 past the previous one", len(m.OldRoots.Roots), m.older)
	}
	want := map[string]diff.History{"/etc/app/state": diff.HistoryChanged, "/etc/app/same": diff.HistorySame, "/etc/app/new": diff.HistoryNew}
	var items []*diff.Item
	for _, it := range m.Audit.Lost {
		if _, ok := want[it.Path]; ok {
			items = append(items, it)
		}
	}
	if len(items) != len(want) {
		t.Fatalf("lost items %d, want %d", len(items), len(want))
	}
	for i := 1; i < 3; i++ {
		got, ws, err := m.OlderHistories(context.Background(), i, items, 0)
		testutil.Must(t, err)
		r := m.OldRoots.Roots[i]
		after, _, err := diff.HistoryIn(context.Background(), m.Root, r.Dir, "old_roots/"+r.Name, items, 0)
		testutil.Must(t, err)
		if !slices.Equal(got, after) || len(ws) != 0 {
			t.Errorf("%s: compared ahead %v (warnings %v), afterwards %v", r.Name, got, ws, after)
		}
		for j, it := range items {
			if got[j] != want[it.Path] {
				t.Errorf("%s: %s history %v, want %v", r.Name, it.Path, got[j], want[it.Path])
			}
		}
	}
	o.Boots, o.Previous = 0, true
	c, err := Build(context.Background(), o)
	testutil.Must(t, err)
	defer c.Close()
	if c.older != nil {
		t.Errorf("drift check's model compared old roots ahead: %+v", c.older)
	}
}

// TestOlderRootWalkedOnce: an old root past the previous one is walked
// beside the root once per model, whoever asks first: drift check's rule
// of made again at every boot (judgeRegen, past lookupsAtMost paths) walks
// it, and drift suggest's history of the same root (OlderHistories) reads
// that walk, not a second one.
func TestOlderRootWalkedOnce(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 11, 12, 9, 0, 0, 0, time.UTC)
	node := func(c string) testutil.Node { return testutil.Node{Content: c, Mtime: at} }
	live := map[string]testutil.Node{"nix/persist/.keep": node("")}
	for i := range 5 {
		live[fmt.Sprintf("srv/f%d", i)] = node("same")
	}
	testutil.Build(t, filepath.Join(dir, "root"), live, at)
	for _, n := range []string{"2026-11-11_09:00:00", "2026-11-10_09:00:00"} {
		testutil.Build(t, filepath.Join(dir, "old", n), map[string]testutil.Node{"srv/f0": node("same"), "srv/f1": node("same")}, at.Add(-time.Hour))
	}
	old := lookupsAtMost
	lookupsAtMost = 0
	defer func() { lookupsAtMost = old }()
	m, err := Build(context.Background(), tmpfsRootOptions(t, dir, Options{OldRoots: filepath.Join(dir, "old"), Previous: true, Paths: true}))
	testutil.Must(t, err)
	defer m.Close()
	if !m.comparedOlder(1) {
		t.Fatalf("judgeRegen past lookupsAtMost did not walk the older root: %+v", m.older)
	}
	walked := m.older[1].cmp
	hs, _, err := m.OlderHistories(context.Background(), 1, m.Audit.Lost, 0)
	testutil.Must(t, err)
	if m.older[1].cmp != walked || len(hs) != len(m.Audit.Lost) {
		t.Errorf("OlderHistories walked the old root again (or answered %d of %d)", len(hs), len(m.Audit.Lost))
	}
}
