package diff

import (
	"context"
	"errors"
	"fmt"
	"path"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/scan"
	"golang.org/x/sys/unix"
)

// shadowed walks, for each ephemeral mount, what lies on it under the mount
// points stacked on it: those entries are invisible now and deleted with the
// ephemeral filesystem (the shadowed category). The mount point's own
// directory is visible (as the mount's root) and is not reported; a file
// mount point is read as one entry (shadowedFile). A view that cannot be
// opened is a warning: the report then lacks shadowed entries.
func (c *classifier) shadowed(ctx context.Context, t *mounts.Table, a *Audit) error {
	for i := range a.Ephemeral {
		e := &a.Ephemeral[i]
		points := c.shadowPoints(t, e)
		onRoot := e.ID == c.tree.mount(rootNode).ID
		if len(points) == 0 {
			continue
		}
		var dir string
		var release func()
		var err error
		switch {
		case onRoot && c.fold.viewTried:
			if err = c.fold.viewErr; err == nil {
				dir = c.fold.view.dir
			}
		default:
			dir, release, err = c.cfg.Under(e.MountPoint)
		}
		if err != nil {
			c.warn(WarnUnreadable, e.MountPoint, fmt.Sprintf("cannot look under the mount points on %s (%v): files hidden under them are not reported", e.MountPoint, err))
			continue
		}
		// Kept open for the history, which reads shadowed paths here too.
		if release != nil {
			c.views = append(c.views, view{mountPoint: e.MountPoint, dir: dir, release: release})
		}
		if onRoot {
			c.rootView = dir
		}
		viewIdx := uint8(min(len(c.views), 255))
		if len(c.views) > 255 {
			viewIdx = 0 // beyond what an Item can name: no history for them
		}
		for _, mp := range points {
			rel, _ := pathx.Rel(e.MountPoint, mp)
			if c.shadowedFile(dir+rel, mp, viewIdx, onRoot) {
				continue
			}
			base := mp
			visit := func(parent any, en *scan.Entry) (any, bool) {
				isDir := en.Mode&unix.S_IFMT == unix.S_IFDIR
				if en.Replaced {
					return nil, false
				}
				if parent == nil {
					return c.ignore.matchSelf(base), isDir
				}
				p := base + en.Path
				ignored := parent.(bool) || c.ignore.matchSelf(p)
				if isDir && c.tree.remade(p) || Remade(en.Mode) {
					// Only a mount point or a parent of one (a declared
					// bind mount's, say): the next boot makes it again,
					// not data to keep; what it holds is still walked.
					c.recreated.Add(1)
					return ignored, true
				}
				cat := Shadowed
				if ignored {
					cat = Ignored
				}
				it := Item{Path: p, Category: cat, Mode: en.Mode, Size: en.Size, Bytes: en.Bytes, Mtime: en.Mtime, Decl: -1, view: viewIdx, onRoot: onRoot}
				it.SetTarget(en.Target)
				it.Subvolume = isDir && en.Ino == btrfs.RootIno && en.Dev != c.rootDev
				c.mu.Lock()
				c.hidden = append(c.hidden, it)
				c.mu.Unlock()
				return ignored, isDir
			}
			onErr := func(p string, err error) { c.onError(base+p, err) }
			_, err := scan.Walk(ctx, dir+rel, scan.Options{Workers: c.cfg.Workers, ReadLinks: true, OnError: onErr}, visit)
			if err != nil && !errors.Is(err, unix.ENOTDIR) && !errors.Is(err, unix.ENOENT) {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				c.warn(WarnUnreadable, mp, fmt.Sprintf("cannot read under mount point %s: %v", mp, err))
				return nil
			}
		}
	}
	return nil
}

// shadowedFile handles a file mount point mp (impermanence's bind mount
// of a declared file) on an ephemeral filesystem: at p (mp in the view)
// lies something other than a directory. A regular file with data is what
// was written there before the mount, deleted with that filesystem: added
// to c.hidden as Shadowed (Ignored when a rule matches it), for the copies
// pass to compare with what the mount shows. done false when p is a
// directory (or cannot be read: the walk says why).
func (c *classifier) shadowedFile(p, mp string, viewIdx uint8, onRoot bool) (done bool) {
	it, done := c.fileBeneath(p, mp, Shadowed, viewIdx)
	if it != nil {
		it.onRoot = onRoot
		c.mu.Lock()
		c.hidden = append(c.hidden, *it)
		c.mu.Unlock()
	}
	return done
}

// fileBeneath reads what lies at p, a file mount point mp in a view
// beneath the mounts: a regular file with data is an Item of category cat
// (Ignored when a rule matches mp), Decl -1; an empty one (the mount
// point the boot made) or any other type is no data (nil). done false
// when p is a directory or cannot be read.
func (c *classifier) fileBeneath(p, mp string, cat Category, viewIdx uint8) (it *Item, done bool) {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil || st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return nil, false
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size == 0 {
		return nil, true
	}
	if c.ignore.matchSelf(mp) {
		cat = Ignored
	}
	return &Item{Path: mp, Category: cat, Mode: st.Mode, Size: st.Size, Bytes: st.Blocks * 512, Mtime: st.Mtim.Nano(), Decl: -1, view: viewIdx}, true
}

// view is a look under the mount points of one ephemeral mount
// (Config.Under): dir shows the filesystem mounted at mountPoint without
// the mounts stacked on it.
type view struct {
	mountPoint, dir string
	release         func()
	// persistent: the filesystem survives the wipe (coveredBeneath); the
	// previous root holds nothing of it to compare with.
	persistent bool
}

func (c *classifier) releaseViews() {
	for _, v := range c.views {
		v.release()
	}
	c.views = nil
}

// shadowPoints are the visible mount points stacked on the ephemeral
// mount e (their parent directories shown by e): what lies under them on
// e is Shadowed. The visible mount points are grouped by the mount that
// shows their parent directory once (c.stacked), for every e.
func (c *classifier) shadowPoints(t *mounts.Table, e *mounts.Mount) []string {
	if c.stacked == nil {
		c.stacked = map[*mounts.Mount][]string{}
		for j := range t.Mounts {
			m := &t.Mounts[j]
			if t.Visible(j) && m.MountPoint != "/" {
				s := t.Shows(path.Dir(m.MountPoint))
				c.stacked[s] = append(c.stacked[s], m.MountPoint)
			}
		}
	}
	var points []string
	for _, mp := range c.stacked[t.ByID(e.ID)] {
		if mp != e.MountPoint && pathx.Contains(e.MountPoint, mp) {
			points = append(points, mp)
		}
	}
	return points
}
