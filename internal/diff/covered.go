package diff

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"

	ifsys "github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/scan"
	"github.com/nix-drift/drift/internal/units"
	"golang.org/x/sys/unix"
)

// coveredDecl reports whether the declaration e's live path lies on a
// persistent filesystem that is not its persistent copy: not on the
// ephemeral side (Check's walk sees that), not inside a persistent storage
// path, not a mount of (or a symlink to) its copy, not a mount that no
// declaration makes again (Unmounted). The next boot mounts the copy over
// what is there: hidden from view (Covered). m is the mount showing it.
func (c *classifier) coveredDecl(t *mounts.Table, rootFD int, e *persist.Entry, storage []string) (m *mounts.Mount, st unix.Stat_t, ok bool) {
	m = t.Shows(e.Path)
	if m == nil || c.kinds[m] != persistent {
		return nil, st, false
	}
	for _, s := range storage {
		if pathx.Contains(s, e.Path) {
			return nil, st, false
		}
	}
	src := e.Source()
	if strings.HasPrefix(m.FSType, "fuse") && pathx.Clean(m.Source) == src && m.MountPoint == e.Path {
		return nil, st, false // bindfs of the copy (home-manager v1)
	}
	if sm := t.Shows(src); sm != nil && mounts.SameFS(sm, m) && mounts.SameSourcePath(m, e.Path, sm, src) {
		return nil, st, false // the copy itself, through a bind mount
	}
	rel := strings.TrimPrefix(e.Path, "/")
	if rel == "" {
		return nil, st, false
	}
	if err := ifsys.Lstat(rootFD, rel, &st); err != nil {
		return nil, st, false // nothing there: the boot makes it
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		if target, err := ifsys.Readlink(rootFD, rel); err == nil && linkTarget(e.Path, target) == src {
			return nil, st, false // the symlink method: the data lives at the copy
		}
	}
	return m, st, true
}

// covered finds the declarations whose live path is on a persistent
// filesystem other than their copy (coveredDecl) and lists what the next
// boot's mount of the copy hides: the entries below a declared directory
// (the directory itself stays, as the mount point), a declared file (or
// whatever else sits at the declared path) itself. Each is Covered (Ignored
// when it matches a rule) with the declaration in Decl; the copies pass then
// drops those the copy holds the same, and warnCovered says, once per
// declaration, what is left. The items are merged into c.lost.
func (c *classifier) covered(ctx context.Context, t *mounts.Table, storage []string) error {
	rootFD, err := ifsys.OpenRoot(c.cfg.Root)
	if err != nil {
		return nil // the walk of the root succeeded; a race: nothing to add
	}
	defer unix.Close(rootFD)
	var found []*Item
	var mu sync.Mutex
	add := func(it *Item, target string) {
		it.SetTarget(target)
		if c.ignore.matchSelf(it.Path) {
			it.Category = Ignored
		}
		mu.Lock()
		found = append(found, it)
		mu.Unlock()
	}
	for i := range c.entries {
		e := &c.entries[i]
		// Each path once, through its first declaration (its node's decl:
		// no set of paths, 40 MB for a million declarations).
		if c.tree.at(c.tree.find(e.Path)).decl != int32(i) {
			continue
		}
		m, st, ok := c.coveredDecl(t, rootFD, e, storage)
		if !ok {
			continue
		}
		c.coveredDecls = append(c.coveredDecls, coveredAt{decl: int32(i), mount: m})
		decl := int32(i)
		isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
		if !isDir || e.Kind == persist.File {
			var target string
			if st.Mode&unix.S_IFMT == unix.S_IFLNK {
				target, _ = ifsys.Readlink(rootFD, strings.TrimPrefix(e.Path, "/"))
			}
			en := entryOf(e.Path, &st, target)
			add(&Item{Path: e.Path, Category: Covered, Mode: en.Mode, Size: en.Size, Bytes: en.Bytes, Mtime: en.Mtime, Decl: decl, Mount: int32(m.ID)}, target)
			if !isDir {
				continue
			}
		}
		base := e.Path
		top := c.tree.find(base) // every declared path has a node
		visit := func(parent any, en *scan.Entry) (any, bool) {
			isDir := en.Mode&unix.S_IFMT == unix.S_IFDIR
			if parent == nil {
				return top, isDir
			}
			if en.Replaced {
				return nil, false
			}
			if Remade(en.Mode) {
				return nil, false // a socket: made again, never hidden data
			}
			p := base + en.Path
			if base == "/" {
				p = en.Path
			}
			pn, _ := parent.(nodeID)
			nd := c.tree.child(pn, en.Path[strings.LastIndexByte(en.Path, '/')+1:])
			add(&Item{Path: p, Category: Covered, Mode: en.Mode, Size: en.Size, Bytes: en.Bytes, Mtime: en.Mtime, Decl: decl, Mount: int32(m.ID)}, en.Target)
			if n := c.tree.at(nd); n.mounted() || n.decl >= 0 {
				return nil, false // another mount, or a declaration of its own
			}
			return nd, isDir
		}
		onErr := func(p string, err error) { c.onError(base+p, err) }
		if _, err := scan.Walk(ctx, path.Join(c.cfg.Root, base), scan.Options{Workers: c.cfg.Workers, ReadLinks: true, OnError: onErr}, visit); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.ENOTDIR) {
				c.warn(WarnUnreadable, e.Path, fmt.Sprintf("cannot read %s: %v: what the next boot hides there is not listed", e.Path, err))
			}
		}
	}
	if len(found) == 0 {
		return nil
	}
	slices.SortFunc(found, func(x, y *Item) int { return pathx.Compare(x.Path, y.Path) })
	// A declared file inside a declared directory is met twice.
	found = slices.CompactFunc(found, func(x, y *Item) bool { return x.Path == y.Path })
	c.lost = mergeSorted(c.lost, found)
	return nil
}

// coveredAt is a declaration whose live path lies on the persistent
// filesystem mounted by mount, not on its copy (coveredDecl).
type coveredAt struct {
	decl  int32
	mount *mounts.Mount
}

// warnCovered says, for each declaration covered found, what the next
// boot's mount of its copy hides, once the copies pass has dropped what the
// copy holds the same (copied, by declaration): the paths hidden and their
// size, or that the copy holds all of it, or that nothing is there to hide.
func (c *classifier) warnCovered(copied map[int32]Total) {
	if len(c.coveredDecls) == 0 {
		return
	}
	lost := c.lostByDecl()
	for _, cv := range c.coveredDecls {
		e, m := &c.entries[cv.decl], cv.mount
		head := fmt.Sprintf("%s is declared%s but not mounted from %s", e.Path, at(e.Pos), e.Source())
		l, cp := lost[cv.decl], copied[cv.decl]
		var msg string
		switch {
		case l.Count > 0:
			same := ""
			if cp.Count > 0 {
				same = "; " + units.Plural(cp.Count, "path is", "paths are") + " already the same in the persistent copy"
			}
			msg = fmt.Sprintf("covered: %s: what is there now lies on %s (mount %d), and the next boot mounts the persistent copy over it: hidden from view, not deleted (%s, %s%s); on %s %s; or drift adopt copies it into the copy, kept declared", head, m.MountPoint, m.ID, units.Plural(l.Count, "path", "paths"), units.Bytes(l.Bytes), same, m.MountPoint, persist.NotNeeded)
		case cp.Count > 0:
			msg = fmt.Sprintf("not mounted: %s: what is there now lies on %s (mount %d), and the persistent copy already holds all of it (%s, %s, the same): the next boot mounts the copy over it and hides nothing", head, m.MountPoint, m.ID, units.Plural(cp.Count, "path", "paths"), units.Bytes(cp.Bytes))
		default:
			msg = fmt.Sprintf("not mounted: %s: it lies on %s (mount %d) and holds nothing that the next boot's mount of the copy would hide", head, m.MountPoint, m.ID)
		}
		c.warn(WarnNotMounted, e.Path, msg)
	}
}
