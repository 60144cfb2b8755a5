package diff

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
)

// rootBind reports whether m is a bind mount whose source lies on one of
// the ephemeral mounts (c.ephIx: the same filesystem, its root inside
// theirs, the first in table order: mount --bind /srv/data
// /var/lib/docker with /srv/data on the root subvolume). Its data
// survives only as its source does: deleted with the root, counted once,
// there (markRootBinds), never at the mount point nor as covered. It
// records the mount in a.RootBinds and warns.
func (c *classifier) rootBind(m *mounts.Mount, a *Audit) bool {
	em := c.ephIx.holding(m)
	if em == nil {
		return false
	}
	rest, _ := pathx.Rel(em.Root, m.Root)
	src := path.Join(em.MountPoint, rest)
	if src == m.MountPoint {
		return false // the ephemeral mount itself, mounted again in place
	}
	a.RootBinds = append(a.RootBinds, RootBind{Source: src, Mount: *m})
	msg := fmt.Sprintf("%s is bind-mounted from %s (mount %d), which lies on %s, wiped at boot: what it shows is deleted with it, counted once, at %s; declare %s to keep it, or bind-mount it from persistent storage", m.MountPoint, src, m.ID, em.MountPoint, src, src)
	indexProbes.Add(1)
	if inside := c.declIx.below(m.MountPoint); len(inside) > 0 {
		msg += fmt.Sprintf("; declared inside it, not mounted from the persistent copy: %s (the next boot mounts the copy there instead)", c.declList(inside))
	}
	c.warn(WarnSetup, m.MountPoint, msg)
	return true
}

// maxListed is how many paths a warning names before "and N more".
const maxListed = 10

// declList names the declared paths of the first declarations ps
// (positions in c.entries, declIndex.below), each with where it is
// declared, maxListed at most: "/a (f.nix:3:1), /b (f.nix:4:1)", "… and
// 12 more".
func (c *classifier) declList(ps []int32) string {
	var b strings.Builder
	for i, j := range ps[:min(len(ps), maxListed)] {
		if i > 0 {
			b.WriteString(", ")
		}
		e := &c.entries[j]
		b.WriteString(e.Path + at(e.Pos))
	}
	if len(ps) > maxListed {
		fmt.Fprintf(&b, " and %d more", len(ps)-maxListed)
	}
	return b.String()
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

// RootBindOf returns the bind mount of a.RootBinds (sorted by mount ID)
// whose ID an Unpersisted item's Mount names, the first of them, or nil.
func (a *Audit) RootBindOf(it *Item) *RootBind {
	if it.Category != Unpersisted || it.Mount == 0 {
		return nil
	}
	i, ok := slices.BinarySearchFunc(a.RootBinds, it.Mount, func(b RootBind, id int32) int { return cmp.Compare(int32(b.Mount.ID), id) })
	if !ok {
		return nil
	}
	return &a.RootBinds[i]
}
