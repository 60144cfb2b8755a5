package diff

import (
	"path"
	"strings"
	"sync/atomic"

	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
)

// What Check asks of each mount (is it a bind mount from an ephemeral
// mount, from a storage path, declared or inside a declared directory,
// is a declaration at or below the mount point it hides) is answered
// from indexes built once: declIndex, pathx.Index, fsIndex and
// storageIndex. Each answer walks up one path (a lookup per component) or
// searches a sorted list, never the table or the declarations: a table
// of n mounts costs n of them, not n². A 16,000-mount table took 6 s that
// way, 100,000 did not finish.

// indexProbes counts the lookups and the candidates looked at through the
// indexes (tests hold it to the algorithmic bound).
var indexProbes atomic.Int64

// fsKey is a directory (root, clean) of a filesystem (mounts.SameFS: its
// MAJOR:MINOR).
type fsKey struct {
	major, minor int
	root         string
}

// fsIndex indexes mounts by filesystem and root (mounts.RootIndex):
// which of them hold the root of a mount of the same filesystem (a bind
// mount's source).
type fsIndex struct {
	t  *mounts.Table
	by *mounts.RootIndex
}

// newFSIndex indexes the mounts of t that keep says to.
func newFSIndex(t *mounts.Table, keep func(i int) bool) *fsIndex {
	return &fsIndex{t: t, by: t.RootIndex(keep)}
}

// holding returns the first mount of the index in table order, other than
// m, of m's filesystem whose root is m's root or an ancestor of it
// (pathx.Rel(its root, m.Root) is ok), or nil.
func (ix *fsIndex) holding(m *mounts.Mount) *mounts.Mount {
	best := -1
	pathx.Ancestors(pathx.Clean(m.Root), func(r string) bool {
		indexProbes.Add(1)
		for _, i := range ix.by.At(m.Major, m.Minor, r) {
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
	at    *pathx.Index      // the storage paths
	by    map[fsKey][]int32 // the storage paths by filesystem and directory in it, in order
}

func newStorageIndex(t *mounts.Table, storage []string) *storageIndex {
	ix := &storageIndex{paths: storage, shows: make([]*mounts.Mount, len(storage)), at: pathx.NewIndex(storage), by: map[fsKey][]int32{}}
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
			indexProbes.Add(1)
			if first = ix.at.Above(src); first >= 0 {
				source = src
			}
		}
	} else {
		root := pathx.Clean(m.Root)
		pathx.Ancestors(root, func(r string) bool {
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
	indexProbes.Add(1)
	if in := ix.at.Above(m.MountPoint); in >= 0 && in <= first {
		return "", false
	}
	return source, true
}
