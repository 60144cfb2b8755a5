package audit

import (
	"fmt"
	"github.com/nix-drift/drift/internal/diff"

	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
)

// Shown is a mount that shows a path of the audited system at another
// place: a bind mount of it (or of a path below it), or a bindfs mount.
type Shown struct {
	// Source is the path shown, at or below the path asked about;
	// MountPoint where it is shown (both as the audited system sees
	// them), ID the mount's.
	Source, MountPoint string
	ID                 int
}

func (s Shown) String() string {
	return fmt.Sprintf("%s (mount %d of %s)", s.MountPoint, s.ID, s.Source)
}

// ShownElsewhere lists the visible mounts that show p, or a path below p,
// at a place outside p: the bind mounts whose source (mounts.Sources) is p
// or lies in it, in table order. Replacing or removing p would leave each
// showing a deleted object, and what the running system writes to it
// until the next boot would go with it (drift check then finds the mount
// deleted: diff.Audit.Deleted). A mount whose root is already deleted
// shows nothing of p any more and is not listed. Nil without a mount
// table.
func (m *Model) ShownElsewhere(p string) []Shown {
	p = pathx.Clean(p)
	return m.shown(func(src, mountPoint string) bool {
		return !pathx.Contains(p, mountPoint) && pathx.Contains(p, src)
	})
}

// ShownThrough lists the visible mounts that show p now through a bind
// mount of p or of a directory above it (mounts.Sources), at another place,
// in table order: what they show at p is the object the running system
// uses there. A mount whose root is deleted already is not listed (it
// shows no path of its filesystem: DeletedNear). Nil without a mount
// table.
func (m *Model) ShownThrough(p string) []Shown {
	p = pathx.Clean(p)
	return m.shown(func(src, _ string) bool { return pathx.Contains(src, p) })
}

// shown lists, in table order, the visible bind mounts other than / whose
// root is not deleted and whose source (mounts.Sources: a path of the
// audited system, other than the mount point itself) and mount point
// keep accepts; nil without a mount table.
func (m *Model) shown(keep func(src, mountPoint string) bool) []Shown {
	if m.Mounts == nil {
		return nil
	}
	t := m.Mounts
	sources := mounts.NewSources(t)
	var out []Shown
	for i := range t.Mounts {
		mt := &t.Mounts[i]
		if !t.Visible(i) || mt.Replaced || mt.MountPoint == "/" {
			continue
		}
		if src := sources.Of(mt); src != "" && src != mt.MountPoint && keep(src, mt.MountPoint) {
			out = append(out, Shown{Source: src, MountPoint: mt.MountPoint, ID: mt.ID})
		}
	}
	return out
}

// DeletedNear is the mount whose root was deleted since it was mounted
// (diff.Audit.Deleted) mounted at p, above it (the nearest) or below it
// (the first), or nil: diff.DeletedNear, the rule diff.Audit.DeletedAt
// answers above p by. What it shows is in no path of its filesystem, so
// what lies beneath it, or in the persistent copy now, is another object.
// Nil before the audit, and in a model without one (NeedFacts).
func (m *Model) DeletedNear(p string) *diff.DeletedMount {
	return diff.DeletedNear(m.deleted, pathx.Clean(p))
}
