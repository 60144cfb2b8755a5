package diff

import (
	"path"
	"slices"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
)

// What Check asks of each mount (is it a bind mount from an ephemeral
// mount, from a storage path, declared or inside a declared directory,
// is a declaration at or below the mount point it hides) is answered from
// indexes built once: pathIndex and fsIndex. Each answer walks up one path
// (a lookup per component) or searches a sorted list, never the table or
// the declarations: a table of n mounts costs n of them, not n². A
// 16,000-mount table took 6 s that way, 100,000 did not finish.

// indexProbes counts the lookups and the candidates looked at through the
// indexes (tests hold it to the algorithmic bound).
var indexProbes atomic.Int64

// pathIndex indexes a list of paths, each cleaned (pathx.Clean): which lie
// at or above a path (above: a lookup per component of it), and which at
// or below it (below: a range of the sorted paths).
type pathIndex struct {
	first  map[string]int // each path, to its first position in the list
	sorted []string       // the paths, each once, in pathx.Compare order
	lens   []bool         // lens[k]: a path of the index is k bytes long
}

// newPathIndex indexes the n paths at(0) … at(n-1).
func newPathIndex(n int, at func(i int) string) *pathIndex {
	ix := &pathIndex{first: make(map[string]int, n)}
	for i := 0; i < n; i++ {
		p := pathx.Clean(at(i))
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
	slices.SortFunc(ix.sorted, pathx.Compare)
	return ix
}

// above returns the first position of a path of the index that is p or an
// ancestor of it (pathx.Contains(q, p)), -1 when there is none.
func (ix *pathIndex) above(p string) int {
	best := -1
	ancestors(pathx.Clean(p), func(q string) bool {
		if len(q) < len(ix.lens) && ix.lens[len(q)] {
			indexProbes.Add(1)
			if i, ok := ix.first[q]; ok && (best < 0 || i < best) {
				best = i
			}
		}
		return true
	})
	return best
}

// below returns the paths of the index that are p or lie below it
// (pathx.Contains(p, q)), in pathx.Compare order: a part of the index,
// not a copy.
func (ix *pathIndex) below(p string) []string {
	p = pathx.Clean(p)
	s := ix.sorted
	lo := sort.Search(len(s), func(i int) bool { return pathx.Compare(s[i], p) >= 0 })
	// A directory's subtree is contiguous in pathx.Compare order.
	n := sort.Search(len(s)-lo, func(i int) bool { return !pathx.HasPrefix(s[lo+i], p) })
	indexProbes.Add(1)
	return s[lo : lo+n]
}

// ancestors calls f with the clean path p, then each of its ancestors up
// to "/" (for a relative p, up to its first component), until f returns
// false.
func ancestors(p string, f func(q string) bool) {
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

// fsKey is a directory (root, clean) of a filesystem (mounts.SameFS: its
// MAJOR:MINOR).
type fsKey struct {
	major, minor int
	root         string
}

// fsIndex indexes mounts by filesystem and root: which of them hold the
// root of a mount of the same filesystem (a bind mount's source).
type fsIndex struct {
	t  *mounts.Table
	by map[fsKey][]int // in table order
}

// newFSIndex indexes the mounts of t that keep says to.
func newFSIndex(t *mounts.Table, keep func(i int) bool) *fsIndex {
	ix := &fsIndex{t: t, by: map[fsKey][]int{}}
	for i := range t.Mounts {
		if keep(i) {
			m := &t.Mounts[i]
			k := fsKey{m.Major, m.Minor, pathx.Clean(m.Root)}
			ix.by[k] = append(ix.by[k], i)
		}
	}
	return ix
}

// holding returns the first mount of the index in table order, other than
// m, of m's filesystem whose root is m's root or an ancestor of it
// (pathx.Rel(its root, m.Root) is ok), or nil.
func (ix *fsIndex) holding(m *mounts.Mount) *mounts.Mount {
	best := -1
	ancestors(pathx.Clean(m.Root), func(r string) bool {
		indexProbes.Add(1)
		for _, i := range ix.by[fsKey{m.Major, m.Minor, r}] {
			indexProbes.Add(1)
			if &ix.t.Mounts[i] != m {
				if best < 0 || i < best {
					best = i
				}
				break // the rest come later in the table
			}
		}
		return true
	})
	if best < 0 {
		return nil
	}
	return &ix.t.Mounts[best]
}

// storageIndex answers which storage path a mount shows a part of, the
// first in the order of the list (undeclaredBind): the paths at or above
// its mount point, and those whose directory in their filesystem holds
// its root.
type storageIndex struct {
	paths []string
	shows []*mounts.Mount   // per storage path, the mount that shows it
	at    *pathIndex        // the storage paths
	by    map[fsKey][]int32 // the storage paths by filesystem and directory in it, in order
}

func newStorageIndex(t *mounts.Table, storage []string) *storageIndex {
	ix := &storageIndex{paths: storage, shows: make([]*mounts.Mount, len(storage)), at: newPathIndex(len(storage), func(i int) string { return storage[i] }), by: map[fsKey][]int32{}}
	for k, s := range storage {
		sm := t.Shows(s)
		ix.shows[k] = sm
		if sm == nil {
			continue
		}
		if src := sm.SourcePath(s); src != "" {
			key := fsKey{sm.Major, sm.Minor, pathx.Clean(src)}
			ix.by[key] = append(ix.by[key], int32(k))
		}
	}
	return ix
}

// sourceOf returns the path under a storage path that m shows, and true,
// when the first storage path (in order) m relates to holds its source:
// a FUSE mount's absolute source inside it, or for another mount, the
// directory of the same filesystem that the storage path is, holding m's
// root (m is not the mount that shows the storage path). It returns false
// when there is none, or when an earlier (or the same) storage path holds
// m's mount point: the storage itself, or something mounted inside it.
func (ix *storageIndex) sourceOf(m *mounts.Mount) (string, bool) {
	first, source := -1, ""
	if strings.HasPrefix(m.FSType, "fuse") {
		if path.IsAbs(m.Source) {
			src := pathx.Clean(m.Source)
			if first = ix.at.above(src); first >= 0 {
				source = src
			}
		}
	} else {
		root := pathx.Clean(m.Root)
		ancestors(root, func(r string) bool {
			indexProbes.Add(1)
			for _, k := range ix.by[fsKey{m.Major, m.Minor, r}] {
				indexProbes.Add(1)
				if int(k) >= first && first >= 0 {
					break
				}
				if ix.shows[k] == m {
					continue
				}
				rest, _ := pathx.Rel(r, root)
				first, source = int(k), path.Join(ix.paths[k], rest)
				break
			}
			return true
		})
	}
	if first < 0 {
		return "", false
	}
	if in := ix.at.above(m.MountPoint); in >= 0 && in <= first {
		return "", false
	}
	return source, true
}
