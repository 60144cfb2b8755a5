package diff

import (
	"strings"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/knowledge"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/scan"
	"golang.org/x/sys/unix"
)

func (c *classifier) visit(parent any, e *scan.Entry) (any, bool) {
	isDir := e.Mode&unix.S_IFMT == unix.S_IFDIR
	if parent == nil {
		c.rootDev = e.Dev
		ig := c.ignore.matchSelf("/")
		// A declaration of / itself (the module warns, but accepts it) covers
		// everything below: what is on the ephemeral root is then declared
		// but not backed, like anything inside an unmounted declared directory.
		decl := int32(-1)
		if d := c.tree.at(rootNode).decl; d >= 0 && c.entries[d].Kind == persist.Dir {
			decl = d
		}
		c.top = &dirState{node: rootNode, mount: c.tree.mount(rootNode), kind: ephemeral, decl: decl, ignored: ig}
		return c.top, isDir
	}
	if e.Replaced {
		// The directory listed here was replaced before it could be read:
		// it was classified by its first visit; nothing below it is read.
		return nil, false
	}
	ps := parent.(*dirState)
	c.arenas[e.Worker].visited.Add(1)
	if e.Mode&unix.S_IFMT == unix.S_IFREG {
		c.arenas[e.Worker].bytes.Add(e.Size)
	}
	if ps.below != nil {
		return c.visitBelow(ps, e)
	}
	name := e.Path[strings.LastIndexByte(e.Path, '/')+1:]
	nd := c.tree.child(ps.node, name)
	n := c.tree.at(nd) // flagless for nd 0
	mount, kind := ps.mount, ps.kind
	if m := c.tree.mount(nd); m != nil {
		mount, kind = m, c.kinds[m]
	}
	if kind == persistent || kind == fromRoot {
		if !isDir || !n.ephBelow() {
			return nil, false
		}
		ignored := ps.ignored || c.ignore.matchSelf(e.Path)
		// Persistent, nothing lost here: walked only on the way to an
		// ephemeral mount nested below.
		sub := &dirState{node: nd, mount: mount, kind: kind, decl: -1, ignored: ignored, name: name}
		ps.addSub(sub)
		return sub, true
	}
	ignored := ps.ignored || c.ignore.matchSelf(e.Path)

	cat, declIdx, childDecl := Unpersisted, int32(-1), ps.decl
	declHere := n.decl
	switch {
	case Remade(e.Mode):
		cat = Recreated
	case kind == unmounted:
		cat = Unmounted
	case kind == deleted:
		cat, declIdx, childDecl = c.deletedCategory(declHere, ps.decl, isDir)
	case declHere >= 0:
		d := &c.entries[declHere]
		switch {
		case d.Kind == persist.Dir && isDir:
			cat, childDecl = Recreated, declHere
			c.noteUnmounted(e.Path, declHere, true)
		case e.Mode&unix.S_IFMT == unix.S_IFLNK && linkTarget(e.Path, e.Target) == d.Source():
			// The symlink method (impermanence files, home-manager v1 and
			// preservation how = "symlink"): the link is made again and the
			// data lives at its target in persistent storage.
			cat = Recreated
		case e.Mode&unix.S_IFMT == unix.S_IFLNK && knowledge.EtcStaticLink(e.Path, e.Target):
			// Activation's link, declared: no data, a wrong declaration.
			cat = Recreated
			c.warnEtcLink(c.arenas[e.Worker].keep(e), d)
		default:
			cat, declIdx = DeclaredUnbacked, declHere
			if d.Kind == persist.File {
				c.noteUnmounted(c.arenas[e.Worker].keep(e), declHere, isDir)
				if isDir {
					childDecl = declHere // DeclaredFileIsDir: all below it too
				}
			}
		}
	case isDir && n.keep():
		cat = Recreated
	case n.blank() && c.sameAsBlank(e):
		// The wipe makes the root a snapshot of the blank: it comes back.
		cat = Recreated
	case n.tmpLink() && e.Mode&unix.S_IFMT == unix.S_IFLNK && linkTarget(e.Path, e.Target) == c.tmpLinks[e.Path]:
		// A systemd-tmpfiles L rule makes this link again at boot.
		cat = Recreated
	case ps.decl >= 0 && e.Mode&unix.S_IFMT == unix.S_IFLNK && knowledge.EtcStaticLink(e.Path, e.Target):
		// Activation makes it again (into the declared directory's copy
		// once mounted): no data.
		cat = Recreated
	case ps.decl >= 0:
		cat, declIdx = DeclaredUnbacked, ps.decl
	case n.usersFile() && e.Mode&unix.S_IFMT == unix.S_IFREG:
		// Written by the users activation from users.* alone (usersFiles).
		cat = Recreated
	case e.Mode&unix.S_IFMT == unix.S_IFLNK && (isActivation(e.Path, e.Target) || HomeManagerLink(c.cfg.HomeManagerHomes, e.Path, e.Target)):
		cat = Recreated
		p := c.arenas[e.Worker].keep(e)
		c.mu.Lock()
		c.activated = append(c.activated, p)
		c.mu.Unlock()
	}
	covered := ps.covered || n.remount()
	if cat == Unpersisted && ps.covered {
		// Below a mount point the next boot mounts another filesystem at:
		// hidden then, and deleted with the root.
		cat = Covered
	}
	if cat.Lost() && c.leftCopy(e, name, cat) {
		return nil, false // drift's own partial copy: not lost data, not walked
	}
	if cat.Lost() && ignored {
		cat = Ignored
	}
	var item *Item
	if cat == Recreated {
		c.recreated.Add(1)
		if e.Mode&unix.S_IFMT == unix.S_IFREG {
			c.recreatedBytes.Add(e.Size)
		}
	} else {
		item = c.arenas[e.Worker].alloc()
		*item = Item{Path: c.arenas[e.Worker].keep(e), Category: cat, Mode: e.Mode, Size: e.Size, Bytes: e.Bytes, Mtime: e.Mtime, Decl: declIdx, twin: e.Twin}
		item.SetTarget(e.Target)
		if cat == Unmounted {
			item.Mount = int32(mount.ID)
		}
		item.Subvolume = c.subvolumeRoot(e) && !n.mounted()
		item.onRoot = mount == c.tree.mount(rootNode)
	}
	var tally *scan.Tally
	shadow := ps.shadow || n.shadow()
	if isDir && item != nil && c.cfg.Collapse && nd == 0 && declIdx < 0 && !shadow && !strings.HasPrefix(e.Path, "/etc/") && !c.inHome(e.Path) && (ignored || !c.ignore.MayMatchBelow(e.Path)) {
		if c.fold.on && item.onRoot {
			// Listed, for the history to count or list (fold.go).
			ps.addItem(item)
			sub := c.collapse(item, name)
			ps.addSub(sub)
			return sub, true
		}
		// Everything below is lost as this directory is (see
		// Config.Collapse): count it.
		tally = &scan.Tally{Skip: skipLeft} // drift's partial copies: LeftCopies
		c.mu.Lock()
		c.tallies = append(c.tallies, tallied{item, tally})
		c.mu.Unlock()
	}
	var sub *dirState
	if isDir && tally == nil {
		sub = &dirState{node: nd, mount: mount, kind: kind, decl: childDecl, ignored: ignored, shadow: shadow, covered: covered, name: name}
	}
	if item != nil {
		ps.addItem(item)
	}
	if sub != nil {
		ps.addSub(sub)
	}
	if !isDir {
		return nil, false
	}
	if tally != nil {
		return tally, true
	}
	return sub, true
}

// subvolumeRoot reports whether e is the root directory of a nested
// btrfs subvolume (Item.Subvolume): a directory with inode btrfs.RootIno
// on another st_dev than the audited root's. A mount point's root passes
// too: the caller rules it out where one can be met.
func (c *classifier) subvolumeRoot(e *scan.Entry) bool {
	return e.Mode&unix.S_IFMT == unix.S_IFDIR && e.Ino == btrfs.RootIno && e.Dev != c.rootDev
}
