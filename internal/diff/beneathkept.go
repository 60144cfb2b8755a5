package diff

import (
	"context"
	"errors"
	"fmt"

	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/scan"
	"github.com/nix-drift/drift/internal/units"
	"golang.org/x/sys/unix"
)

// hiddenAt is a declared mount point on a persistent filesystem (on, the
// mount showing its parent directory) beneath which data lies hidden
// (coveredBeneath).
type hiddenAt struct {
	point string
	on    *mounts.Mount
}

// coveredBeneath walks, for each persistent disk filesystem (a /home
// subvolume), what lies on it beneath the mount points stacked on it that
// a declaration covers (impermanence's bind mount of
// /nix/persist/home/alice/.mozilla over /home/alice/.mozilla, made at a
// boot after data was written there): hidden from view now, and not
// deleted, since the filesystem survives the wipe. Each entry is Covered
// (Ignored when it matches a rule), read through the view beneath the
// mounts of that filesystem (Config.Under), Decl -1; the copies pass
// compares it with what the mount shows now, as for Shadowed beneath a
// mount from persistent storage, and warnHidden says what is left. A
// mount point that is not declared is not looked beneath (NixOS
// bind-mounts /nix/store over itself). The items are appended to
// c.hidden; a view that cannot be opened is a warning.
func (c *classifier) coveredBeneath(ctx context.Context, t *mounts.Table) error {
	for i := range t.Mounts {
		p := &t.Mounts[i]
		if !t.Visible(i) || c.kinds[p] != persistent || p.MountPoint == "/" || !p.DiskBacked() {
			continue
		}
		var points []string
		for _, mp := range c.shadowPoints(t, p) {
			indexProbes.Add(1)
			if c.declIx.above(mp) && c.storeIx.at.Above(mp) < 0 {
				points = append(points, mp)
			}
		}
		if len(points) == 0 {
			continue
		}
		dir, release, err := c.cfg.Under(p.MountPoint)
		if err != nil {
			c.warn(WarnUnreadable, p.MountPoint, fmt.Sprintf("cannot look under the mount points on %s (%v): files hidden under declared mounts there are not reported", p.MountPoint, err))
			continue
		}
		c.views = append(c.views, view{mountPoint: p.MountPoint, dir: dir, release: release, persistent: true})
		viewIdx := uint8(min(len(c.views), 255))
		if len(c.views) > 255 {
			viewIdx = 0
		}
		for _, mp := range points {
			if err := c.walkHidden(ctx, dir, p, mp, viewIdx); err != nil {
				return err
			}
		}
	}
	return nil
}

// walkHidden walks what lies beneath the mount point mp on the persistent
// mount on, through dir (its view), adding each entry to c.hidden as
// Covered; mp itself is the mount point and not reported, but for a file
// mount (impermanence's bind mount of a declared file): a regular file
// with data at mp is what was written there before the mount, not the
// empty file a mount point leaves (hiddenFile).
func (c *classifier) walkHidden(ctx context.Context, dir string, on *mounts.Mount, mp string, viewIdx uint8) error {
	rel, _ := pathx.Rel(on.MountPoint, mp)
	if done := c.hiddenFile(dir+rel, on, mp, viewIdx); done {
		return nil
	}
	found := false
	visit := func(parent any, en *scan.Entry) (any, bool) {
		isDir := en.Mode&unix.S_IFMT == unix.S_IFDIR
		if en.Replaced {
			return nil, false
		}
		if parent == nil {
			return c.ignore.matchSelf(mp), isDir
		}
		p := mp + en.Path
		ignored := parent.(bool) || c.ignore.matchSelf(p)
		if Remade(en.Mode) || isDir && c.tree.remade(p) {
			return ignored, isDir // a socket, or only a mount point: not data
		}
		cat := Covered
		if ignored {
			cat = Ignored
		}
		it := Item{Path: p, Category: cat, Mode: en.Mode, Size: en.Size, Bytes: en.Bytes, Mtime: en.Mtime, Decl: -1, view: viewIdx}
		it.SetTarget(en.Target)
		c.mu.Lock()
		c.hidden = append(c.hidden, it)
		found = true
		c.mu.Unlock()
		return ignored, isDir
	}
	onErr := func(p string, err error) { c.onError(mp+p, err) }
	_, err := scan.Walk(ctx, dir+rel, scan.Options{Workers: c.cfg.Workers, ReadLinks: true, OnError: onErr}, visit)
	if err != nil && !errors.Is(err, unix.ENOTDIR) && !errors.Is(err, unix.ENOENT) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c.warn(WarnUnreadable, mp, fmt.Sprintf("cannot read under mount point %s: %v", mp, err))
	}
	if found {
		c.hiddenPoints = append(c.hiddenPoints, hiddenAt{point: mp, on: on})
	}
	return nil
}

// hiddenFile handles a file mount point mp: at p (mp in the view) lies
// something other than a directory. A regular file with data is added to
// c.hidden as Covered (Ignored when a rule matches it), with mp among
// c.hiddenPoints; an empty one, the mount point, is not. done false when
// p is a directory (or cannot be read: the walk says why).
func (c *classifier) hiddenFile(p string, on *mounts.Mount, mp string, viewIdx uint8) (done bool) {
	it, done := c.fileBeneath(p, mp, Covered, viewIdx)
	if it != nil {
		c.mu.Lock()
		c.hidden = append(c.hidden, *it)
		c.hiddenPoints = append(c.hiddenPoints, hiddenAt{point: mp, on: on})
		c.mu.Unlock()
	}
	return done
}

// warnHidden says, for each declared mount point coveredBeneath found data
// beneath, what the copies pass left of it: the paths hidden beneath the
// mount and their size (what the copy holds the same is not hidden data).
func (c *classifier) warnHidden(t *mounts.Table) {
	for _, h := range c.hiddenPoints {
		var tot Total
		for _, it := range c.lost {
			if it.Category == Covered && !it.Visible() && pathx.Contains(h.point, it.Path) {
				tot.Add(it.Total())
			}
		}
		if tot.Count == 0 {
			continue
		}
		shown := ""
		if m := t.At(h.point); m != nil {
			shown = fmt.Sprintf(" (mount %d)", m.ID)
		}
		verb, them := "lie", "them"
		if tot.Count == 1 {
			verb, them = "lies", "it"
		}
		c.warn(WarnSetup, h.point, fmt.Sprintf("covered: %s %s on %s (mount %d) beneath the mount at %s%s: hidden from view, not deleted; the persistent copy the mount shows lacks %s or holds other content (%s)",
			units.Plural(tot.Count, "path", "paths"), verb, h.on.MountPoint, h.on.ID, h.point, shown, them, units.Bytes(tot.Bytes)))
	}
}
