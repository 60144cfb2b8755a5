package diff

import (
	"slices"
	"sort"

	"github.com/nix-drift/drift/internal/hashindex"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
)

// declIndex answers what Check asks of the declared paths at each mount:
// the first declaration of a path (at), whether a declaration, or a
// directory's, lies at or above a path (above, dirAbove: a lookup per
// component of the path), and which declared paths lie at or below it
// (below). It holds no path of its own, only positions in the
// declarations: a hash index of each distinct path's first declaration
// (8 to 16 bytes a path), a bit per declaration, and the paths' order
// (4 bytes a path), made at the first call of below. A pathx.Index of
// the paths, another of the directories' and a map of the first
// declarations cost 190 MB for a million declarations, more than the
// declarations themselves.
type declIndex struct {
	entries []persist.Entry // clean paths (persist.Entry.Path)
	first   hashindex.Index // each distinct path, by its first declaration
	dir     []uint64        // bit i: a declaration of the path of first declaration i is a directory
	lens    []bool          // lens[k]: a declared path is k bytes long
	sorted  []int32         // the first declarations, in pathx.Compare order of their paths; nil until below
}

// newDeclIndex indexes the paths of entries, which it reads and does not
// copy: they must not change while the index is in use.
func newDeclIndex(entries []persist.Entry) *declIndex {
	ix := &declIndex{entries: entries, dir: make([]uint64, (len(entries)+63)/64)}
	hashOf := func(i int) uint64 { return hashindex.HashString(entries[i].Path) }
	ix.first.Grow(len(entries), hashOf)
	for i := range entries {
		p := entries[i].Path
		h := hashindex.HashString(p)
		j := ix.first.Find(h, func(j int) bool { return entries[j].Path == p })
		if j < 0 {
			j = i
			ix.first.Add(h, i, hashOf)
			for len(ix.lens) <= len(p) {
				ix.lens = append(ix.lens, false)
			}
			ix.lens[len(p)] = true
		}
		if entries[i].Kind == persist.Dir {
			ix.dir[j/64] |= 1 << (j % 64)
		}
	}
	return ix
}

// at returns the first declaration of the path p (as written; declared
// paths are clean), -1 when p is not declared.
func (ix *declIndex) at(p string) int {
	if len(p) >= len(ix.lens) || !ix.lens[len(p)] {
		return -1
	}
	return ix.first.Find(hashindex.HashString(p), func(j int) bool { return ix.entries[j].Path == p })
}

// above reports whether p (cleaned) or an ancestor of it is declared.
func (ix *declIndex) above(p string) bool {
	return ix.anyAbove(p, func(int) bool { return true })
}

// dirAbove reports whether p (cleaned) or an ancestor of it is declared
// as a directory.
func (ix *declIndex) dirAbove(p string) bool {
	return ix.anyAbove(p, func(j int) bool { return ix.dir[j/64]&(1<<(j%64)) != 0 })
}

// anyAbove reports whether ok is true of the first declaration of p
// (cleaned) or of one of its ancestors.
func (ix *declIndex) anyAbove(p string, ok func(first int) bool) bool {
	found := false
	pathx.Ancestors(pathx.Clean(p), func(q string) bool {
		if j := ix.at(q); j >= 0 && ok(j) {
			found = true
		}
		return !found
	})
	return found
}

// below returns the first declarations of the declared paths that are p
// (cleaned) or lie below it, in pathx.Compare order of their paths: a
// part of the index, not a copy. The first call sorts the paths (not safe
// for concurrent use).
func (ix *declIndex) below(p string) []int32 {
	if ix.sorted == nil {
		ix.sort()
	}
	p = pathx.Clean(p)
	s, es := ix.sorted, ix.entries
	lo := sort.Search(len(s), func(i int) bool { return pathx.Compare(es[s[i]].Path, p) >= 0 })
	// A directory's subtree is contiguous in Compare order.
	n := sort.Search(len(s)-lo, func(i int) bool { return !pathx.HasPrefix(es[s[lo+i]].Path, p) })
	return s[lo : lo+n]
}

// sort fills ix.sorted.
func (ix *declIndex) sort() {
	ix.sorted = make([]int32, 0, ix.first.Len())
	for i := range ix.entries {
		if ix.at(ix.entries[i].Path) == i {
			ix.sorted = append(ix.sorted, int32(i))
		}
	}
	slices.SortFunc(ix.sorted, func(x, y int32) int { return pathx.Compare(ix.entries[x].Path, ix.entries[y].Path) })
}
