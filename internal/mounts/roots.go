package mounts

import "github.com/nix-drift/drift/internal/pathx"

// RootIndex indexes some mounts of one table by filesystem (MAJOR:MINOR,
// as SameFS compares) and root (clean): which of them hold a given
// directory of a filesystem, the question a bind mount's source is
// answered by (a bind mount of /nix/persist/etc shows root /persist/etc
// of the filesystem mounted with root /persist at /nix/persist). Built
// once, each question is one map lookup, so walking up a mount's root
// costs its depth, never the table: n bind mounts of one filesystem cost
// n walks, not n².
type RootIndex struct {
	by map[rootKey][]int // indexes into the table's Mounts, in table order
}

// rootKey is a directory (clean) of a filesystem (MAJOR:MINOR).
type rootKey struct {
	major, minor int
	root         string
}

// RootIndex indexes the mounts of t whose index in t.Mounts keep accepts.
// The index holds indexes into t.Mounts: it goes stale when Mounts is
// replaced or resized.
func (t *Table) RootIndex(keep func(i int) bool) *RootIndex {
	ix := &RootIndex{by: map[rootKey][]int{}}
	for i := range t.Mounts {
		if keep(i) {
			m := &t.Mounts[i]
			k := rootKey{m.Major, m.Minor, pathx.Clean(m.Root)}
			ix.by[k] = append(ix.by[k], i)
		}
	}
	return ix
}

// At lists, in table order, the indexes into the table's Mounts of the
// indexed mounts of filesystem major:minor whose root is root (clean, as
// pathx.Clean returns it); nil when there is none. The caller must not
// modify the slice.
func (ix *RootIndex) At(major, minor int, root string) []int {
	return ix.by[rootKey{major, minor, root}]
}
