package diff

import (
	"context"
	"fmt"
	"path"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	ifsys "github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/units"
	"golang.org/x/sys/unix"
)

// CopyState says what the persistent copy of a declaration that is not
// mounted holds at the place of one of its live paths (Item.Copy).
type CopyState uint8

const (
	// CopyMissing: nothing there, or the persistent copy is itself on an
	// ephemeral filesystem, or it could not be read. The next boot's mount
	// shows nothing (or a directory made empty) in the live path's place.
	CopyMissing CopyState = iota
	// CopyDiffers: something else is there (another type, other bytes,
	// another symlink target): that stale copy comes back in its place.
	CopyDiffers
)

// CopyOf is where the declaration d keeps the live path p (d.Path or a
// path below it, both clean) in persistent storage: d.Source(), cleaned,
// with p's part below d.Path appended (a source of "/" keeps /srv/x of
// the declared /srv at /x). "" when p is not at or below d.Path. The one
// rule check's comparison with the copy, the vanished walk, restore and
// suggest read.
func CopyOf(d *persist.Entry, p string) string {
	if !pathx.HasPrefix(p, d.Path) {
		return ""
	}
	rest := p[len(d.Path):]
	if d.Path == "/" {
		rest = p
	}
	if rest == "/" {
		rest = ""
	}
	src := path.Clean(d.Source()) // "/persist/" for a declaration of "/"
	if src == "/" {
		if rest == "" {
			return "/"
		}
		return rest
	}
	return src + rest
}

// copies compares every lost path that a persistent copy will stand for at
// the next boot with that copy, read without following a symlink: what the
// next boot shows in the path's place. It is one rule for two kinds of path:
//   - inside a declaration that is not mounted (DeclaredUnbacked), or hidden
//     by its mount at the next boot (Covered), or either and Ignored: the
//     copy is the declaration's persistent copy at the same place (CopyOf),
//     read beneath the audited root;
//   - Shadowed (or Ignored under a mount point) beneath a mount from
//     persistent storage that a declaration makes again: the copy is what
//     that mount shows at the same path now (the mounted source), and the
//     shadowed path is read through its view beneath the mounts; beneath a
//     mount the next boot does not make again (Unmounted: from another
//     source than the declared one), the copy is the declared copy at the
//     same place (declaredCopyOver), which the next boot mounts.
//
// A path whose copy has the same type (and for a regular file the same
// bytes, content hashed as drift diff does; for a symlink the same target)
// is not lost: it becomes Copied, leaves c.lost and is counted in copied.
// The others get Item.Copy (and, when shadowed, Item.Mount: the mount
// showing the copy). A copy that cannot be read counts as missing, with one
// warning. A declaration whose persistent copy lies on an ephemeral
// filesystem has no copy. byDecl is copied per declaration (Item.Decl).
func (c *classifier) copies(ctx context.Context, t *mounts.Table) (copied Total, byDecl map[int32]Total) {
	rootFD, err := ifsys.OpenRoot(c.cfg.Root)
	if err != nil {
		c.warn(WarnUnreadable, "/", fmt.Sprintf("cannot compare lost paths with their persistent copies: %s: %v", c.cfg.Root, err))
		return Total{}, nil
	}
	defer unix.Close(rootFD)
	viewFDs := make([]int, len(c.views))
	for i := range viewFDs {
		viewFDs[i] = -1
	}
	defer func() {
		for _, fd := range viewFDs {
			if fd >= 0 {
				unix.Close(fd)
			}
		}
	}()
	var cand []copyCand
	persistentCopy := map[int32]bool{}
	for _, it := range c.lost {
		if it.Decl >= 0 && (it.Category == DeclaredUnbacked || it.Category == Covered || it.Category == Ignored) {
			if _, ok := persistentCopy[it.Decl]; !ok {
				m := t.Shows(c.entries[it.Decl].Source())
				persistentCopy[it.Decl] = m != nil && !c.kinds[m].wiped()
			}
			if !persistentCopy[it.Decl] {
				continue
			}
			if DeclaredFileIsDir(&c.entries[it.Decl], it.Path, it.IsDir()) {
				continue // no copy comes back for it: lost, it.Copy CopyMissing
			}
			rel := strings.TrimPrefix(it.Path, "/")
			copyRel := strings.TrimPrefix(CopyOf(&c.entries[it.Decl], it.Path), "/")
			if c.linkedCopyWiped(t, rootFD, it, copyRel) {
				continue // no copy: lost, it.Copy CopyMissing
			}
			cand = append(cand, copyCand{it: it, liveFD: rootFD, liveRel: rel, copyRel: copyRel})
			continue
		}
		if it.Category == Unmounted && it.view == 0 && it.Below().Count == 0 {
			// Shown now through a mount from another source than its
			// declaration's copy: the next boot mounts that copy here.
			if copyRel, _, ok := c.declaredCopyOver(t, t.Shows(it.Path), it.Path); ok {
				cand = append(cand, copyCand{it: it, liveFD: rootFD, liveRel: strings.TrimPrefix(it.Path, "/"), copyRel: copyRel})
			}
			continue
		}
		if it.view == 0 || it.Decl >= 0 || it.Below().Count > 0 || (it.Category != Shadowed && it.Category != Covered && it.Category != Ignored) {
			continue
		}
		m := t.Shows(it.Path)
		copyRel := strings.TrimPrefix(it.Path, "/")
		if m != nil && c.kinds[m] == unmounted {
			// Mounted from elsewhere than the declaration's copy (or not
			// declared): the next boot mounts the declared copy here, if
			// any, and that is what comes back in the path's place.
			cr, sm, ok := c.declaredCopyOver(t, m, it.Path)
			if !ok {
				continue
			}
			m, copyRel = sm, cr
		}
		if m == nil || c.kinds[m] != persistent || m.MountPoint == "/" || m.FSType == "tmpfs" || m.FSType == "ramfs" {
			continue
		}
		v := &c.views[it.view-1]
		rel, ok := pathx.Rel(v.mountPoint, it.Path)
		if !ok {
			continue
		}
		if viewFDs[it.view-1] < 0 {
			fd, err := ifsys.OpenRoot(v.dir)
			if err != nil {
				continue
			}
			viewFDs[it.view-1] = fd
		}
		it.Mount = int32(m.ID)
		if c.shownAt == nil {
			c.shownAt = map[int32]string{}
		}
		c.shownAt[it.Mount] = m.MountPoint
		cand = append(cand, copyCand{it: it, liveFD: viewFDs[it.view-1], liveRel: strings.TrimPrefix(rel, "/"), copyRel: copyRel})
	}
	if len(cand) == 0 {
		return Total{}, nil
	}
	walked := c.copiesSame(ctx, t, rootFD, cand) // nil: none
	same := make([]bool, len(cand))
	var failed atomic.Int64
	var firstErr atomic.Pointer[[2]string] // path, message
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), 8) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var hs *hasher
			for {
				i := int(next.Add(1) - 1)
				if i >= len(cand) || ctx.Err() != nil {
					return
				}
				if walked != nil && walked[i] {
					// What compareCopy finds, with copyMetadata's "".
					cand[i].it.Copy, same[i] = CopyDiffers, true
					continue
				}
				if hs == nil {
					hs = newHasher(nil)
					hs.ctx = ctx
				}
				cd := &cand[i]
				var cst unix.Stat_t
				st, eq, err := compareCopy(hs, cd, rootFD, &cst)
				if err != nil && ctx.Err() == nil {
					failed.Add(1)
					msg := [2]string{cd.it.Path, fmt.Sprintf("%s: %v", cd.it.Path, err)}
					firstErr.CompareAndSwap(nil, &msg)
				}
				cd.it.Copy, same[i] = st, eq
				if st == CopyDiffers && !eq {
					cd.it.SetCopyMtime(cst.Mtim.Nano())
					if kind := cst.Mode & unix.S_IFMT; kind != cd.it.Mode&unix.S_IFMT {
						cd.it.SetCopyKind(kind)
					}
				}
				if eq && err == nil {
					cd.meta, cd.looser = copyMetadata(cd, &cst)
				}
			}
		}()
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		first := firstErr.Load()
		c.warn(WarnUnreadable, first[0], fmt.Sprintf("%s not compared with the persistent copy that the next boot shows in their place, counted as lost (first: %s)", units.Plural(n, "path", "paths"), first[1]))
	}
	var metaN, looserN int64
	var metaFirst, looserFirst string
	for i := range cand {
		cd := &cand[i]
		if !same[i] || cd.meta == "" {
			continue
		}
		c.copiedMeta = append(c.copiedMeta, cd.it.Path)
		switch {
		case cd.looser:
			if looserN++; looserFirst == "" {
				looserFirst = cd.it.Path + ": " + cd.meta
			}
		default:
			if metaN++; metaFirst == "" {
				metaFirst = cd.it.Path + ": " + cd.meta
			}
		}
	}
	if metaN > 0 {
		c.warn(WarnSetup, metaFirst[:strings.Index(metaFirst, ": ")], fmt.Sprintf("%s copied (the persistent copy has the same bytes) with another mode or owner in the copy: the next boot shows the copy's; nothing is lost, but check them (first: %s)", units.Plural(metaN, "path", "paths"), metaFirst))
	}
	if looserN > 0 {
		first := looserFirst[:strings.Index(looserFirst, ": ")]
		c.warn(WarnSetup, first, fmt.Sprintf("%s copied (the persistent copy has the same bytes) whose copy's mode grants more than the live one's: the next boot shows the copy's, open to more users than now (first: %s); drift adopt --prefer live PATH gives the copy the live mode", units.Plural(looserN, "path", "paths"), looserFirst))
	}
	gone := map[*Item]bool{}
	for i, cd := range cand {
		if same[i] {
			gone[cd.it] = true
			cd.it.Category = Copied
			one := Total{Count: 1, Bytes: regularSize(cd.it)}
			copied.Add(one)
			if d := cd.it.Decl; d >= 0 {
				if byDecl == nil {
					byDecl = map[int32]Total{}
				}
				t := byDecl[d]
				t.Add(one)
				byDecl[d] = t
			}
		}
	}
	if len(gone) > 0 {
		kept := c.lost[:0]
		for _, it := range c.lost {
			if !gone[it] {
				kept = append(kept, it)
			}
		}
		c.lost = kept
	}
	return copied, byDecl
}

// declaredCopyOver is, for p shown now through m (or lying beneath m) where
// m is a declared path mounted from another source than its declaration's
// copy (classifier.wrongSource), the declared copy at p's place beneath the
// audited root, which the next boot mounts there, and the mount showing
// it; ok is false for any other m, or a copy not on a persistent
// filesystem.
func (c *classifier) declaredCopyOver(t *mounts.Table, m *mounts.Mount, p string) (copyRel string, shownBy *mounts.Mount, ok bool) {
	d, ok := c.wrongSource[m]
	if !ok {
		return "", nil, false
	}
	sm := t.Shows(c.entries[d].Source())
	if sm == nil || c.kinds[sm] != persistent {
		return "", nil, false
	}
	return strings.TrimPrefix(CopyOf(&c.entries[d], p), "/"), sm, true
}

// copyCand is a lost path to compare with its persistent copy: the live
// object at liveRel beneath liveFD (the audited root, or the view beneath
// the mounts a shadowed path is read through), the copy at copyRel beneath
// the audited root (through its mounts). Both relative, no leading "/".
type copyCand struct {
	it               *Item
	liveFD           int
	liveRel, copyRel string
	// meta, for a copy found the same, says how its mode or owner differs
	// from the live object's (copyMetadata); "" when they agree.
	meta string
	// looser: the copy's mode grants a permission bit the live one does
	// not (copyMetadata).
	looser bool
}

// copyMetadata compares the permission bits, owner and group of cd's live
// object and its copy, whose lstat compareCopy made (cst) (not for a
// symlink, whose own mode means nothing):
// "mode 0600, uid 1000 in the copy (live: 0644, uid 0)" naming what
// differs, "" when nothing does or either cannot be read. The bytes being
// the same, the path is not lost: the next boot shows the copy's metadata.
// looser reports that the copy's mode grants a bit the live one's does
// not (a secret 0600 live, 0644 in the copy): readable by more users
// after the next boot.
func copyMetadata(cd *copyCand, cst *unix.Stat_t) (meta string, looser bool) {
	if cd.it.Mode&unix.S_IFMT == unix.S_IFLNK || cd.copyRel == "" || cd.liveRel == "" {
		return "", false
	}
	var lst unix.Stat_t
	if ifsys.Lstat(cd.liveFD, cd.liveRel, &lst) != nil {
		return "", false
	}
	var inCopy, live []string
	if lm, cm := lst.Mode&0o7777, cst.Mode&0o7777; lm != cm {
		inCopy, live = append(inCopy, fmt.Sprintf("mode %04o", cm)), append(live, fmt.Sprintf("%04o", lm))
		looser = cm&^lm != 0
	}
	if lst.Uid != cst.Uid {
		inCopy, live = append(inCopy, fmt.Sprintf("uid %d", cst.Uid)), append(live, fmt.Sprintf("uid %d", lst.Uid))
	}
	if lst.Gid != cst.Gid {
		inCopy, live = append(inCopy, fmt.Sprintf("gid %d", cst.Gid)), append(live, fmt.Sprintf("gid %d", lst.Gid))
	}
	if len(inCopy) == 0 {
		return "", false
	}
	return strings.Join(inCopy, ", ") + " in the copy (live: " + strings.Join(live, ", ") + ")", looser
}

func regularSize(it *Item) int64 {
	if it.Mode&unix.S_IFMT == unix.S_IFREG {
		return it.Size
	}
	return 0
}

// compareCopy compares the live object of cd with its copy beneath rootFD:
// CopyMissing when nothing is there, eq when the copy is what the live path
// is (same type; same bytes for a regular file, same target for a
// symlink), else CopyDiffers. It lstats the copy into *cst (its
// modification time and type, its mode and owner for copyMetadata); *cst
// is left zero when the copy is not there.
func compareCopy(hs *hasher, cd *copyCand, rootFD int, cst *unix.Stat_t) (_ CopyState, eq bool, err error) {
	if cd.copyRel == "" {
		return CopyMissing, false, nil
	}
	if err := ifsys.Lstat(rootFD, cd.copyRel, cst); err != nil {
		*cst = unix.Stat_t{}
		if ifsys.Absent(err) {
			return CopyMissing, false, nil
		}
		return CopyMissing, false, err
	}
	return compareCopyAs(hs, cd, rootFD, cst)
}

// compareCopyAs is compareCopy once the copy is found there (cst).
func compareCopyAs(hs *hasher, cd *copyCand, rootFD int, cst *unix.Stat_t) (CopyState, bool, error) {
	it, rel := cd.it, cd.copyRel
	if cst.Mode&unix.S_IFMT != it.Mode&unix.S_IFMT {
		return CopyDiffers, false, nil
	}
	switch it.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		target, err := ifsys.Readlink(rootFD, rel)
		if err != nil {
			return CopyMissing, false, err
		}
		return CopyDiffers, target == it.Target(), nil
	case unix.S_IFREG:
		var lst unix.Stat_t
		if err := ifsys.Lstat(cd.liveFD, cd.liveRel, &lst); err != nil {
			return CopyMissing, false, err
		}
		if lst.Size != cst.Size || lst.Mode&unix.S_IFMT != unix.S_IFREG {
			return CopyDiffers, false, nil
		}
		a, b := entryOf("/"+rel, cst, ""), entryOf("/"+cd.liveRel, &lst, "")
		eq, err := hs.sameFiles(rootFD, &a, cd.liveFD, &b)
		if err != nil {
			return CopyMissing, false, err
		}
		return CopyDiffers, eq, nil
	}
	return CopyDiffers, true, nil
}

// linkedCopyWiped says whether the persistent copy of a declared directory
// (it is the declared path itself; copyRel its copy beneath rootFD) is a
// symlink whose target is not on a persistent filesystem, and warns. At
// the next boot the bind mount of the copy follows the link, resolved on
// the fresh root (a relative one from the copy's directory): impermanence
// makes an empty directory at a target that is not there
// (create-directories resolves the source with realpath) and mounts it,
// preservation's mount of a source that is not there fails; either way the
// declared path shows nothing it holds now, and what is written there is
// wiped again. A copy linking into persistent storage shows what is there,
// and is compared as usual.
func (c *classifier) linkedCopyWiped(t *mounts.Table, rootFD int, it *Item, copyRel string) bool {
	e := &c.entries[it.Decl]
	if e.Kind != persist.Dir || it.Path != e.Path || copyRel == "" {
		return false
	}
	var st unix.Stat_t
	if ifsys.Lstat(rootFD, copyRel, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFLNK {
		return false
	}
	target, err := ifsys.Readlink(rootFD, copyRel)
	if err != nil {
		return false
	}
	abs := target
	if !path.IsAbs(abs) {
		abs = path.Join(path.Dir("/"+copyRel), target)
	}
	abs = path.Clean(abs)
	if m := t.Shows(abs); m != nil && c.kinds[m] == persistent && m.MountPoint != "/" && m.FSType != "tmpfs" && m.FSType != "ramfs" {
		return false
	}
	it.Copy = CopyMissing
	c.warn(WarnSetup, it.Path, fmt.Sprintf("the persistent copy /%s of the declared directory %s is a symlink to %s, which is not in persistent storage: the next boot's bind mount follows it, so %s shows an empty directory made at %s on the wiped root (impermanence) or fails to mount (preservation), and what it holds is lost; make the copy a directory: remove the link, make %s a directory holding the data, and run drift adopt %s", copyRel, it.Path, target, it.Path, abs, it.Path, it.Path))
	return true
}
