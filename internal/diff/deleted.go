package diff

import (
	"fmt"
	"strings"

	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
)

// A mount whose root was unlinked since the mount (mountinfo's
// "//deleted", mounts.Mount.Replaced: a bind-mounted file whose source was
// replaced by a rename, or a bind-mounted directory removed) shows an
// object no path of its filesystem names any more. It survives only as
// long as the mount: at the next boot it is gone, and what the running
// system wrote to it since with it. Check counts it lost where it is
// mounted (kind deleted): Unpersisted, or DeclaredUnbacked inside a
// declaration — whose persistent copy the next boot mounts there instead,
// compared with it as for any declared path not backed (copies) — never
// Unmounted, whose data stays in persistent storage.

// deletedSource names where m's root lay, as the audited system shows
// that filesystem (sources: mounts.Sources of the table, the one rule of
// what shows a mount's root): /nix/persist/etc/.machine-id.tmp for the
// root /persist/etc/.machine-id.tmp of a mount of the subvolume mounted at
// /nix/persist; else the root with its filesystem ("/persist/x on
// /dev/vda2").
func deletedSource(sources *mounts.Sources, m *mounts.Mount) string {
	if src := sources.Of(m); src != "" {
		return src
	}
	return m.Root + " on " + m.Source
}

// warnDeleted says, once for the mount m of kind deleted (its root lay
// at src: deletedSource), that what it shows is lost at the next boot,
// and how to keep it.
func (c *classifier) warnDeleted(m *mounts.Mount, src string) {
	msg := fmt.Sprintf("%s is mounted from %s (mount %d), deleted since it was mounted: what it shows is in no persistent storage, and it is lost at the next boot with what the running system writes to it until then", m.MountPoint, src, m.ID)
	if i := c.declIx.at(m.MountPoint); i >= 0 {
		msg += fmt.Sprintf("; the next boot mounts its declared copy %s there", c.entries[i].Source())
	}
	msg += fmt.Sprintf("; to keep what it shows, copy it out now (cp -a %s DIR) and put it in place of the persistent copy once it is no longer mounted", m.MountPoint)
	c.warn(WarnSetup, m.MountPoint, msg)
}

// deletedCategory classifies an entry shown through a mount of kind
// deleted: lost, inside the declaration declHere (of the entry's own
// path, -1 for none) or parentDecl (of a directory above, -1 for none)
// when there is one. A declared directory itself is made again at boot
// (the mount point of its copy). It returns the category, the item's
// declaration and the declaration its children inherit.
func (c *classifier) deletedCategory(declHere, parentDecl int32, isDir bool) (Category, int32, int32) {
	switch {
	case declHere >= 0 && isDir && c.entries[declHere].Kind == persist.Dir:
		return Recreated, -1, declHere
	case declHere >= 0:
		return DeclaredUnbacked, declHere, declHere
	case parentDecl >= 0:
		return DeclaredUnbacked, parentDecl, parentDecl
	}
	return Unpersisted, -1, -1
}

// DeletedAt returns the mount of a.Deleted that shows p (the nearest
// mount point at or above it), or nil.
func (a *Audit) DeletedAt(p string) *DeletedMount {
	return deletedAbove(a.Deleted, p)
}

// DeletedNear returns the mount of ds (Audit.Deleted) mounted at p or
// above it (the nearest: DeletedAt's), else the first mounted below p, or
// nil: what it shows lies on no path of its filesystem, so what lies
// beneath it, or in the persistent copy now, is another object (drift
// adopt refuses p: audit.Model.DeletedNear).
func DeletedNear(ds []DeletedMount, p string) *DeletedMount {
	if d := deletedAbove(ds, p); d != nil {
		return d
	}
	for i := range ds {
		if pathx.Contains(p, ds[i].Mount.MountPoint) {
			return &ds[i]
		}
	}
	return nil
}

// deletedAbove is the mount of ds mounted at p or at the nearest
// directory above it, or nil.
func deletedAbove(ds []DeletedMount, p string) *DeletedMount {
	var best *DeletedMount
	for i := range ds {
		d := &ds[i]
		if pathx.Contains(d.Mount.MountPoint, p) && (best == nil || strings.HasPrefix(d.Mount.MountPoint, best.Mount.MountPoint)) {
			best = d
		}
	}
	return best
}
