package diff

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/testutil"
	"golang.org/x/sys/unix"
)

// TestSameInDiffers: SameIn gives the same answers whatever differs says,
// and a directory below which a path of differs is found different in the
// old root is settled without comparing its subtree (Compare); a path of
// differs that is the same there, that lies beyond a symlink, or that
// neither side has settles nothing.
func TestSameInDiffers(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 11, 12, 9, 0, 0, 0, time.UTC)
	n := func(c string) testutil.Node { return testutil.Node{Content: c} }
	live, old := filepath.Join(dir, "live"), filepath.Join(dir, "old")
	testutil.Build(t, live, map[string]testutil.Node{
		"churn/a": n("a"), "churn/sub/c": n("c3"), // c changes at every boot
		"once/a": n("a"), "once/b": n("b2"), // b the same as in this old root
		"same/a": n("a"), "same/sub/b": n("b"),
		"gone/a":   n("a"),
		"link/d/x": n("x"), "link/y": n("y2"),
	}, at)
	testutil.Build(t, old, map[string]testutil.Node{
		"churn/a": n("a"), "churn/sub/c": n("c1"),
		"once/a": n("a"), "once/b": n("b2"),
		"same/a": n("a"), "same/sub/b": n("b"),
		"gone/a": n("a"), "gone/v": n("vanished"),
		"link/x": n("x"), "link/y": n("y1"),
	}, at)
	testutil.Must(t, os.Symlink("x", filepath.Join(old, "link/d")))
	testutil.Must(t, os.Chtimes(filepath.Join(old, "link"), at, at))
	d := func(p string) *Item { return &Item{Path: p, Mode: unix.S_IFDIR | 0o755} }
	items := []*Item{d("/churn"), d("/gone"), d("/link"), d("/once"), d("/same")}
	want := []bool{false, false, false, true, true}
	// In path order: what differs from another root, and paths that
	// settle nothing (the same here, beyond a symlink, on neither side).
	differs := []string{"/churn/sub/c", "/gone/v", "/link/d/x", "/once/b", "/same/none"}
	for _, tc := range []struct {
		differs  []string
		compares int64
	}{
		{nil, 5},     // every subtree compared
		{differs, 3}, // churn and gone settled; link, once, same compared
	} {
		before := subtreeCompares.Load()
		got, err := SameIn(context.Background(), live, old, items, tc.differs)
		testutil.Must(t, err)
		for i, it := range items {
			if got[i] != want[i] {
				t.Errorf("differs %q: %s: same %v, want %v", tc.differs, it.Path, got[i], want[i])
			}
		}
		if n := subtreeCompares.Load() - before; n != tc.compares {
			t.Errorf("differs %q: %d subtrees compared, want %d", tc.differs, n, tc.compares)
		}
	}
}
