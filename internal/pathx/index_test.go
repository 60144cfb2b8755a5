package pathx

import (
	"math/rand"
	"slices"
	"testing"
)

// TestIndexAgreesWithContains: Above and Below answer what Contains says
// of every path of the list, on random paths over a few names that nest
// and repeat, some written unclean.
func TestIndexAgreesWithContains(t *testing.T) {
	r := rand.New(rand.NewSource(13))
	names := []string{"a", "b", "a-b", "..", "c"}
	randPath := func() string {
		p := ""
		for range r.Intn(4) {
			p += "/" + names[r.Intn(len(names))]
		}
		if p == "" || r.Intn(8) == 0 {
			p += "/"
		}
		return p
	}
	for round := range 500 {
		var paths []string
		for range r.Intn(8) {
			paths = append(paths, randPath())
		}
		ix := NewIndex(paths)
		for range 8 {
			p := randPath()
			above := -1
			var below []string
			for i, q := range paths {
				if Contains(q, p) && above < 0 {
					above = i
				}
				if c := Clean(q); Contains(p, q) && !slices.Contains(below, c) {
					below = append(below, c)
				}
			}
			if got := ix.Above(p); got != above {
				t.Fatalf("round %d: Above(%q) in %q: %d, Contains says %d", round, p, paths, got, above)
			}
			got := slices.Clone(ix.Below(p))
			slices.Sort(got)
			slices.Sort(below)
			if !slices.Equal(got, below) {
				t.Fatalf("round %d: Below(%q) in %q: %q, Contains says %q", round, p, paths, got, below)
			}
		}
	}
}
