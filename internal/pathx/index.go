package pathx

import (
	"path"
	"slices"
	"sort"
)

// Index is a set of paths, each cleaned (Clean), that says which of them
// lie at or above a path (Above: a lookup per component of that path) and
// which at or below it (Below: a range of the paths in Compare order).
// Asked about each of n paths, it costs n lookups or binary searches, not
// n² comparisons. It is read-only once made, safe for concurrent use.
type Index struct {
	first  map[string]int // each path, to its first position in the list
	sorted []string       // the paths, each once, in Compare order
	lens   []bool         // lens[k]: a path of the index is k bytes long
}

// NewIndex indexes paths.
func NewIndex(paths []string) *Index {
	ix := &Index{first: make(map[string]int, len(paths))}
	for i, p := range paths {
		p = Clean(p)
		if _, dup := ix.first[p]; dup {
			continue
		}
		ix.first[p] = i
		ix.sorted = append(ix.sorted, p)
		for len(ix.lens) <= len(p) {
			ix.lens = append(ix.lens, false)
		}
		ix.lens[len(p)] = true
	}
	slices.SortFunc(ix.sorted, Compare)
	return ix
}

// Above returns the first position in the list of a path that is p or an
// ancestor of it (Contains(q, p)), -1 when there is none.
func (ix *Index) Above(p string) int {
	best := -1
	Ancestors(Clean(p), func(q string) bool {
		if len(q) < len(ix.lens) && ix.lens[len(q)] {
			if i, ok := ix.first[q]; ok && (best < 0 || i < best) {
				best = i
			}
		}
		return true
	})
	return best
}

// At returns the first position in the list of the path p (cleaned), -1
// when it is not in the list.
func (ix *Index) At(p string) int {
	if i, ok := ix.first[Clean(p)]; ok {
		return i
	}
	return -1
}

// Below returns the paths of the index that are p or lie below it
// (Contains(p, q)), cleaned, in Compare order: a part of the index, not a
// copy.
func (ix *Index) Below(p string) []string {
	p = Clean(p)
	s := ix.sorted
	lo := sort.Search(len(s), func(i int) bool { return Compare(s[i], p) >= 0 })
	// A directory's subtree is contiguous in Compare order.
	n := sort.Search(len(s)-lo, func(i int) bool { return !HasPrefix(s[lo+i], p) })
	return s[lo : lo+n]
}

// Ancestors calls f with the clean path p, then each of its ancestors up
// to "/" (for a relative p, up to its first component), until f returns
// false: every q with Contains(q, p).
func Ancestors(p string, f func(q string) bool) {
	for {
		if !f(p) || p == "/" || p == "." {
			return
		}
		d := path.Dir(p)
		if d == "." || d == p {
			return
		}
		p = d
	}
}
