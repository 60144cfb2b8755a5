package suggest

import (
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/knowledge"
	"github.com/nix-drift/drift/internal/persist"
)

// TestSuggestHistoryNote: the note says what the old roots show, each
// compared with now, never with the next one, and claims state lost at
// every boot only when every old root that held the path differs from now
// and most held it. A tester's path held v1, v2, v3, v3 in the 4 old roots
// (oldest first) and v4 now: it was noted 'changed in 4 of the last 4 old
// roots', though it did not change between the last two; one in the
// oldest root only was noted 'changed in 1 of the last 4 old roots: state
// lost at every boot'. History letters per old root, newest first: c
// differs from now, s identical, n absent (new since).
func TestSuggestHistoryNote(t *testing.T) {
	h := map[byte]diff.History{'n': diff.HistoryNew, 'c': diff.HistoryChanged, 's': diff.HistorySame}
	for _, tc := range []struct{ hist, want string }{
		{"cccc", "differs from now in 4 of the last 4 old roots: state lost at every boot"}, // v3 v3 v2 v1, v4 now
		{"nnnc", "differs from now in 1 of the last 4 old roots (absent from 3)"},
		{"cccn", "differs from now in 3 of the last 4 old roots (absent from 1): state lost at every boot that had it"},
		{"ccnn", "differs from now in 2 of the last 4 old roots (absent from 2)"},
		{"ccsc", "differs from now in 3 of the last 4 old roots (identical in 1)"},
		{"csnn", "differs from now in 1 of the last 4 old roots (identical in 1, absent from 2)"},
		{"ssnn", "in 2 of the last 4 old roots, identical"},
		{"nnnn", "in none of the last 4 old roots: new since the last boot"},
	} {
		a := &diff.Audit{Decls: &persist.Set{}, Lost: []*diff.Item{item("/srv/state.db", 10)}}
		var old []RootHistory
		for i := range tc.hist {
			old = append(old, RootHistory{Root: btrfs.OldRoot{Name: string(rune('4' - i))}, Hist: []diff.History{h[tc.hist[i]]}})
		}
		got, _ := Suggest(Input{Audit: a, Root: t.TempDir(), Old: old, Knowledge: knowledge.Builtin(), StoragePath: "/persist", Now: time.Unix(0, 0)})
		if len(got) != 1 {
			t.Fatalf("%s: %d suggestions, want 1", tc.hist, len(got))
		}
		if note := got[0].Note(func(x string) string { return x }); !strings.HasSuffix(note, tc.want) {
			t.Errorf("%s: note %q, want it to end %q", tc.hist, note, tc.want)
		}
	}
}
