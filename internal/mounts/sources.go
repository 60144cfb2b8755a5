package mounts

import (
	"path"
	"strings"
	"sync/atomic"

	"github.com/nix-drift/drift/internal/pathx"
)

// Sources answers, for any mount of one table, the path (in the table's
// terms) that shows what the mount shows: a bindfs (FUSE) mount's absolute
// source; else the directory of another visible mount of the same
// filesystem, whose root is not deleted (Replaced) and which is not
// mounted at or below the mount, whose root is the longest that holds the
// mount's root (the first in table order among those), joined with the
// rest: a bind mount of /nix/persist/var/lib/postgresql shows root
// /persist/var/lib/postgresql of the filesystem mounted with root /persist
// at /nix/persist. The longest root, not the shortest path: a mount of the
// whole filesystem (root /, at /mnt/top) shows it too, at
// /mnt/top/persist/var/lib/postgresql, but the mount of the directory
// itself is the one the system uses (its storage path), and the fewer
// components are left to join, the fewer places another mount can stand
// on the way. The visible mounts are indexed once by filesystem and root
// (RootIndex), so each answer walks up the mount's root (its depth), never
// the table: a table of n bind mounts of one filesystem costs n lookups,
// not n².
type Sources struct {
	t  *Table
	by *RootIndex // the visible mounts whose root is not deleted
}

// sourceVisits counts the mounts Sources.Of looked at (tests hold it to
// the algorithmic bound).
var sourceVisits atomic.Int64

// NewSources indexes the visible mounts of t whose root is not deleted.
func NewSources(t *Table) *Sources {
	return &Sources{t: t, by: t.RootIndex(func(i int) bool { return t.Visible(i) && !t.Mounts[i].Replaced })}
}

// Of is the source of mt (a mount of the table), "" when no other mount of
// the table shows it.
func (s *Sources) Of(mt *Mount) string {
	if strings.HasPrefix(mt.FSType, "fuse") {
		if path.IsAbs(mt.Source) {
			return pathx.Clean(mt.Source)
		}
		return ""
	}
	root := pathx.Clean(mt.Root)
	for r := root; ; r = path.Dir(r) {
		for _, i := range s.by.At(mt.Major, mt.Minor, r) {
			sourceVisits.Add(1)
			sm := &s.t.Mounts[i]
			if sm == mt || pathx.Contains(mt.MountPoint, sm.MountPoint) {
				continue
			}
			rest, _ := pathx.Rel(r, root)
			return path.Join(sm.MountPoint, rest)
		}
		if r == "/" || r == "." || r == "" {
			return ""
		}
	}
}
