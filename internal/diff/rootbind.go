package diff

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
)

// rootBind reports whether m is a bind mount whose source lies on one of
// the ephemeral mounts eph (the same filesystem, its root inside theirs:
// mount --bind /srv/data /var/lib/docker with /srv/data on the root
// subvolume). Its data survives only as its source does: deleted with the
// root, counted once, there (markRootBinds), never at the mount point nor
// as covered. It records the mount in a.RootBinds and warns.
func (c *classifier) rootBind(t *mounts.Table, m *mounts.Mount, eph map[*mounts.Mount]bool, a *Audit) bool {
	for i := range t.Mounts {
		em := &t.Mounts[i]
		if em == m || !eph[em] || !mounts.SameFS(em, m) {
			continue
		}
		rest, ok := pathx.Rel(em.Root, m.Root)
		if !ok {
			continue
		}
		src := path.Join(em.MountPoint, rest)
		if src == m.MountPoint {
			return false // the ephemeral mount itself, mounted again in place
		}
		a.RootBinds = append(a.RootBinds, RootBind{Source: src, Mount: *m})
		msg := fmt.Sprintf("%s is bind-mounted from %s (mount %d), which lies on %s, wiped at boot: what it shows is deleted with it, counted once, at %s; declare %s to keep it, or bind-mount it from persistent storage", m.MountPoint, src, m.ID, em.MountPoint, src, src)
		var declared []string
		for _, e := range c.entries {
			if pathx.Contains(m.MountPoint, e.Path) && !slices.Contains(declared, e.Path) {
				declared = append(declared, e.Path+at(e.Pos))
			}
		}
		if len(declared) > 0 {
			msg += fmt.Sprintf("; declared inside it, not mounted from the persistent copy: %s (the next boot mounts the copy there instead)", strings.Join(declared, ", "))
		}
		c.warn(WarnSetup, m.MountPoint, msg)
		return true
	}
	return false
}

// markRootBinds sets Item.Mount on the Unpersisted paths of lost (in path
// order) at or below a source of a.RootBinds: the WHY names the mount
// they are shown through. A source inside another's wins below it.
func markRootBinds(a *Audit, lost []*Item) {
	binds := slices.Clone(a.RootBinds)
	slices.SortFunc(binds, func(x, y RootBind) int { return len(x.Source) - len(y.Source) })
	for _, b := range binds {
		i := sort.Search(len(lost), func(i int) bool { return pathx.Compare(lost[i].Path, b.Source) >= 0 })
		for ; i < len(lost) && pathx.HasPrefix(lost[i].Path, b.Source); i++ {
			if lost[i].Category == Unpersisted {
				lost[i].Mount = int32(b.Mount.ID)
			}
		}
	}
}

// RootBindOf returns the bind mount of a.RootBinds whose ID an Unpersisted
// item's Mount names, or nil.
func (a *Audit) RootBindOf(it *Item) *RootBind {
	if it.Category != Unpersisted || it.Mount == 0 {
		return nil
	}
	for i := range a.RootBinds {
		if int32(a.RootBinds[i].Mount.ID) == it.Mount {
			return &a.RootBinds[i]
		}
	}
	return nil
}
