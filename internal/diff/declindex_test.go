package diff

import (
	"fmt"
	"math/rand"
	"runtime"
	"slices"
	"testing"

	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
)

// TestDeclIndexAgreesWithScans: at, above, dirAbove and below answer what
// a scan of the declarations says, on random declarations over a few
// names that nest and repeat (a path declared twice, once as a file and
// once as a directory), asked of random paths, some written unclean.
func TestDeclIndexAgreesWithScans(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	names := []string{"a", "b", "a-b", "c"}
	randPath := func() string {
		p := ""
		for range 1 + r.Intn(3) {
			p += "/" + names[r.Intn(len(names))]
		}
		return p
	}
	for round := range 500 {
		var es []persist.Entry
		for range r.Intn(10) {
			k := persist.Dir
			if r.Intn(3) == 0 {
				k = persist.File
			}
			es = append(es, persist.Entry{Kind: k, Path: randPath()})
		}
		ix := newDeclIndex(es)
		for range 8 {
			p := randPath()
			q := p
			if r.Intn(4) == 0 {
				q += "/"
			}
			at, above, dirAbove := -1, false, false
			var below []string
			for i, e := range es {
				if e.Path == p && at < 0 {
					at = i
				}
				if pathx.Contains(e.Path, p) {
					above = true
					dirAbove = dirAbove || e.Kind == persist.Dir
				}
				if pathx.Contains(p, e.Path) && !slices.Contains(below, e.Path) {
					below = append(below, e.Path)
				}
			}
			if got := ix.at(p); got != at {
				t.Fatalf("round %d: at(%q) in %v: %d, a scan says %d", round, p, es, got, at)
			}
			if got := ix.above(q); got != above {
				t.Fatalf("round %d: above(%q) in %v: %v, a scan says %v", round, q, es, got, above)
			}
			if got := ix.dirAbove(q); got != dirAbove {
				t.Fatalf("round %d: dirAbove(%q) in %v: %v, a scan says %v", round, q, es, got, dirAbove)
			}
			var got []string
			for _, j := range ix.below(q) {
				if ix.at(es[j].Path) != int(j) {
					t.Fatalf("round %d: below(%q) in %v gave %d, not the first declaration of %q", round, q, es, j, es[j].Path)
				}
				got = append(got, es[j].Path)
			}
			slices.SortFunc(below, pathx.Compare)
			if !slices.Equal(got, below) {
				t.Fatalf("round %d: below(%q) in %v: %q, a scan says %q", round, q, es, got, below)
			}
		}
	}
}

// TestDeclIndexAllocBound: the index of 200,000 declared paths, sorted
// for below, allocates at most 32 bytes a declaration (the paths are the
// declarations'): the drift check budget (a million declarations within
// 10x the input's text) leaves no room for a copy of the paths or a map
// of them. The pathx.Index of the paths and of the directories' and the
// map of first declarations it replaces allocated about 300 here.
func TestDeclIndexAllocBound(t *testing.T) {
	const n = 200000
	es := make([]persist.Entry, n)
	for i := range es {
		es[i] = persist.Entry{Kind: persist.Dir, Path: fmt.Sprintf("/var/lib/d%d", i%(n/2))}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ix := newDeclIndex(es)
	if len(ix.below("/var/lib")) != n/2 {
		t.Fatalf("below(/var/lib): %d paths, want %d", len(ix.below("/var/lib")), n/2)
	}
	runtime.ReadMemStats(&after)
	per := float64(after.TotalAlloc-before.TotalAlloc) / n
	if per > 32 {
		t.Errorf("%.1f bytes allocated a declaration, want at most 32", per)
	}
	t.Logf("%.1f bytes allocated a declaration", per)
}
