package restore

import (
	"errors"
	"fmt"
	"maps"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// metaWhy says how the metadata the next boot shows differs between the
// source object sname under sdir and the destination dname under ddir:
// the permission bits (not for symlinks), the numeric owner and group, and
// the extended attributes, each a phrase ("mode 0700 here, 0755 there").
// keep, when set, is the owner and mode the destination is meant to have
// in place of the source's (Request.Top): the fields it sets are not
// compared.
func metaWhy(sdir int, sname string, sst *unix.Stat_t, ddir int, dname string, dst *unix.Stat_t, keep *Owner) ([]string, error) {
	if keep == nil {
		keep = &Owner{UID: -1, GID: -1, Mode: -1}
	}
	var why []string
	if kindOf(sst.Mode) != KindSymlink && keep.Mode < 0 && sst.Mode&0o7777 != dst.Mode&0o7777 {
		why = append(why, fmt.Sprintf("mode %04o here, %04o there", sst.Mode&0o7777, dst.Mode&0o7777))
	}
	if (keep.UID < 0 && sst.Uid != dst.Uid) || (keep.GID < 0 && sst.Gid != dst.Gid) {
		why = append(why, fmt.Sprintf("owner %d:%d here, %d:%d there", sst.Uid, sst.Gid, dst.Uid, dst.Gid))
	}
	sx, err := xattrMap(procXattr(sdir, sname))
	if err != nil {
		return nil, err
	}
	dx, err := xattrMap(procXattr(ddir, dname))
	if err != nil {
		return nil, err
	}
	if !maps.Equal(sx, dx) {
		why = append(why, "other extended attributes")
	}
	return why, nil
}

// dirOutcome compares the metadata of a directory present on both sides
// and records an outcome when it differs: Differs (refused), or
// m.onDiffer's Replace (the live directory's owner, mode and extended
// attributes are given to the copy in place, setDirMeta) or Keep. The
// top of the copy keeps the owner and mode the declaration gives it
// (m.top): those fields are not compared there.
func (m *merger) dirOutcome(sdir int, sname string, sst *unix.Stat_t, ddir int, dname string, dst *unix.Stat_t, live, dest string) error {
	var keep *Owner
	if dest == m.topDest {
		keep = m.top
	}
	why, err := metaWhy(sdir, sname, sst, ddir, dname, dst, keep)
	if err != nil {
		return fmt.Errorf("compare %s with %s: %w", path.Join(m.from, live), path.Join(m.root, dest), err)
	}
	if why == nil {
		return nil
	}
	o := Outcome{Path: live, Dest: dest, Kind: KindDir, DestKind: KindDir, Why: strings.Join(why, "; "), Action: Differs}
	if m.onDiffer == Replace || m.onDiffer == Keep {
		o.Action = m.onDiffer
	}
	m.out = append(m.out, o)
	return nil
}

// dirMetaOnly says whether o is a directory present on both sides whose
// metadata differs (dirOutcome's).
func dirMetaOnly(o Outcome) bool {
	return o.Kind == KindDir && o.DestKind == KindDir
}

// setDirMeta gives the destination directory of o (a dirOutcome Replace)
// the source directory's owner, group, mode and extended attributes (those
// the source lacks removed), the fields req.Top sets at the top excepted.
// Both are opened beneath their roots without following a symlink or
// crossing a mount; the metadata is set through the opened descriptors.
func setDirMeta(req Request, o Outcome) error {
	top := path.Clean(req.Dest)
	src, dst, _, err := openSides(req, top)
	if err != nil {
		return err
	}
	defer src.close()
	defer dst.close()
	scomps, dcomps := components(o.Path), components(o.Dest)
	sfd, n, err := src.openDirs(scomps)
	if err == nil && n < len(scomps) {
		unix.Close(sfd)
		err = fmt.Errorf("%s: gone", src.full(scomps))
	}
	if err != nil {
		return err
	}
	defer unix.Close(sfd)
	dfd, n, err := dst.openDirs(dcomps)
	if err == nil && n < len(dcomps) {
		unix.Close(dfd)
		err = fmt.Errorf("%s: gone", dst.full(dcomps))
	}
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	var st unix.Stat_t
	if err := unix.Fstat(sfd, &st); err != nil {
		return err
	}
	uid, gid, mode := int(st.Uid), int(st.Gid), st.Mode&0o7777
	if o.Dest == top && req.Top != nil {
		var now unix.Stat_t
		if err := unix.Fstat(dfd, &now); err != nil {
			return err
		}
		if req.Top.UID >= 0 {
			uid = int(now.Uid)
		}
		if req.Top.GID >= 0 {
			gid = int(now.Gid)
		}
		if req.Top.Mode >= 0 {
			mode = now.Mode & 0o7777
		}
	}
	dest := path.Join(req.Root, o.Dest)
	if err := unix.Fchown(dfd, uid, gid); err != nil {
		return fmt.Errorf("chown %s: %w", dest, err)
	}
	if err := unix.Fchmod(dfd, mode); err != nil { // after chown, which clears setgid
		return fmt.Errorf("chmod %s: %w", dest, err)
	}
	if err := syncXattrs(fdXattr(sfd), fdXattr(dfd), dfd); err != nil {
		return fmt.Errorf("extended attributes of %s: %w", dest, err)
	}
	return nil
}

// syncXattrs makes d's extended attributes s's: s's copied, those only d
// has removed (dfd is d's descriptor).
func syncXattrs(s, d xattrIO, dfd int) error {
	if err := copyXattrs(s, d); err != nil {
		return err
	}
	sx, err := xattrMap(s)
	if err != nil {
		return err
	}
	dx, err := xattrMap(d)
	if err != nil {
		return err
	}
	for name := range dx {
		if _, ok := sx[name]; !ok {
			if err := unix.Fremovexattr(dfd, name); err != nil && !errors.Is(err, unix.ENODATA) {
				return fmt.Errorf("remove %s: %w", name, err)
			}
		}
	}
	return nil
}
