package btrfs

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRecentRootsIn: the last n boots' roots of a directory of old roots,
// newest first by real time (2026-11-10 after 2026-11-9), never a name that
// is not an old-root name, never the live root, never a symlink.
func TestRecentRootsIn(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"2026-11-9_09:00:00", "2026-11-10_09:00:00", "2026-11-8_09:00:00", "2026-11-10_09:00:00.1", "manual-backup"} {
		if err := os.Mkdir(filepath.Join(dir, n), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	live := filepath.Join(dir, "2026-11-11_09:00:00")
	if err := os.Mkdir(live, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("2026-11-8_09:00:00", filepath.Join(dir, "2026-11-12_09:00:00")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		n    int
		want []string
	}{
		{0, nil},
		{1, []string{"2026-11-10_09:00:00.1"}},
		{3, []string{"2026-11-10_09:00:00.1", "2026-11-10_09:00:00", "2026-11-9_09:00:00"}},
		{10, []string{"2026-11-10_09:00:00.1", "2026-11-10_09:00:00", "2026-11-9_09:00:00", "2026-11-8_09:00:00"}},
	} {
		got, err := RecentRootsIn(dir, live, tc.n)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range got.Roots {
			names = append(names, r.Name)
		}
		if len(names) != len(tc.want) {
			t.Fatalf("n=%d: %q, want %q", tc.n, names, tc.want)
		}
		for i := range names {
			if names[i] != tc.want[i] {
				t.Fatalf("n=%d: %q, want %q", tc.n, names, tc.want)
			}
		}
	}
}

// An old root dated after now (a clock set back, or a root named by hand)
// is not the previous boot's root: the newest root dated before now is, and
// the future one is listed in Future (for the warning check and suggest
// give, in the words of drift wipe's "the clock looks wrong").
func TestFutureDatedOldRootIsNotThePreviousRoot(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"2026-11-9_09:00:00", "2999-01-1_00:00:00"} {
		if err := os.Mkdir(filepath.Join(dir, n), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	live := t.TempDir()
	got, err := RecentRootsIn(dir, live, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Roots) != 1 || got.Roots[0].Name != "2026-11-9_09:00:00" {
		t.Errorf("roots %+v, want 2026-11-9_09:00:00 alone", got.Roots)
	}
	if len(got.Future) != 1 || got.Future[0].Name != "2999-01-1_00:00:00" {
		t.Errorf("future %+v, want 2999-01-1_00:00:00", got.Future)
	}
	if got.Count != 2 {
		t.Errorf("count %d, want both old roots counted", got.Count)
	}
}
