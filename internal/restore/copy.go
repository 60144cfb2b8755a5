package restore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/knowledge"
	"github.com/nix-drift/drift/internal/safefile"
	"golang.org/x/sys/unix"
)

type devIno struct{ dev, ino uint64 }

// copier copies one tree; in a dry run it only records.
type copier struct {
	ctx   context.Context
	res   *Result
	dry   bool
	links map[devIno]string // first destination of a multiply-linked file
	// tmpParent and tmp are the directory and temporary name the copy is
	// built under (real runs only), for linking to an earlier name.
	tmpParent int
	tmp       string
	dest      string // Request.Dest: the destination of the tree's top
	// side and root name the tree walked in a MountError: "source" and
	// the old root, or "destination" and the live root (checkMounts).
	side, root string
	// top is the temporary copy's top directory once made: never copied
	// into itself when the destination lies inside the source tree.
	top devIno
	// sync fsyncs every object written (Request.SyncOnce unset); copied
	// is Request.Copied.
	sync   bool
	copied func(Item)
	// command names the drift command in skip reasons (Request.Command).
	command string
	// noSubvol refuses a directory on another device than the one holding
	// it (a *MountError with Subvolume): the walk of a destination that
	// replacing would delete.
	noSubvol bool
	// prior is Request.links (nil outside Merge); dstRoot the destination
	// root, beneath which a link to one of them is made.
	prior   map[devIno]string
	dstRoot *beneath
	// verify is Request.Verify: sums are the digests of the files copied,
	// read back once flushed; buf is the read buffer.
	verify bool
	sums   []sum
	buf    []byte
	// subvols is Request.Subvolumes; plain, when not "", says why a
	// subvolume is copied as a plain directory (Result.SubvolumesPlain).
	subvols bool
	plain   string
}

// share adds the multiply-linked files c copied to links (Request.links),
// once the copy is in place.
func (c *copier) share(links map[devIno]string) {
	if links == nil {
		return
	}
	for k, v := range c.links {
		if _, ok := links[k]; !ok {
			links[k] = v
		}
	}
}

// done reports the object it written (Request.Copied).
func (c *copier) done(it Item) {
	if c.copied != nil {
		c.copied(it)
	}
}

func kindOf(mode uint32) Kind {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return KindDir
	case unix.S_IFREG:
		return KindFile
	case unix.S_IFLNK:
		return KindSymlink
	case unix.S_IFIFO:
		return KindFifo
	}
	return ""
}

// skipReason says why an object of mode is not copied by command.
func skipReason(mode uint32, command string) string {
	if mode&unix.S_IFMT == unix.S_IFSOCK {
		return "socket: made again by the program listening on it, not data: " + command + " does not copy it (drift check does not count it as lost)"
	}
	return typeName(mode) + ": " + command + " copies regular files, directories, symlinks and fifos only"
}

// etcLinkReason says why a link into /etc/static (knowledge.EtcStaticLink)
// is not copied: the one rule drift adopt and drift restore follow.
func etcLinkReason(target, command string) string {
	return "a link to " + target + " that NixOS activation makes at every boot (environment.etc): it holds no data, and a copy of it in persistent storage would stand in activation's way; " + command + " does not copy it"
}

// typeName names the file type in mode as restore's messages say it: its
// Kind for what restore copies, else safefile.TypeName ("fifo", "socket",
// "character device" …).
func typeName(mode uint32) string {
	if k := kindOf(mode); k != "" {
		return string(k)
	}
	return safefile.TypeName(mode)
}

// copy copies the object name under sdir (st is its lstat) to dname under
// ddir (ddir is -1 in a dry run). dest is its destination and live its
// path in the old root, for the report.
// mountRoot says name is a mount point: refused.
func (c *copier) copy(sdir int, name string, st *unix.Stat_t, mountRoot bool, ddir int, dname, dest, live string) error {
	if err := c.ctx.Err(); err != nil {
		return err
	}
	if c.dest == "" {
		c.dest = dest
	}
	if c.top != (devIno{}) && (devIno{uint64(st.Dev), st.Ino}) == c.top {
		return nil // the copy being built, seen from the source side
	}
	if mountRoot {
		return &MountError{Side: c.side, Path: path.Join(c.root, live)}
	}
	k := kindOf(st.Mode)
	if k == "" {
		c.res.Skipped = append(c.res.Skipped, Skipped{Path: live, Reason: skipReason(st.Mode, c.command)})
		return nil
	}
	it := Item{Dest: dest, Kind: k, Mode: st.Mode &^ unix.S_IFMT, UID: st.Uid, GID: st.Gid}
	if k != KindDir && st.Nlink > 1 {
		key := devIno{uint64(st.Dev), st.Ino}
		first, ok := c.links[key]
		prior := false
		if !ok {
			first, ok = c.prior[key]
			prior = ok
		}
		if ok {
			done, err := c.hardlink(it, first, prior, ddir, dname)
			if done || err != nil {
				return err
			}
		}
		c.links[key] = dest
	}
	switch k {
	case KindSymlink:
		target, err := readlinkAt(sdir, name)
		if err != nil {
			return fmt.Errorf("read link %s: %w", live, err)
		}
		if c.side == "source" && knowledge.EtcStaticLink(live, target) {
			// Activation makes it again at every boot: no data (EtcLinkError).
			c.res.Skipped = append(c.res.Skipped, Skipped{Path: live, Reason: etcLinkReason(target, c.command)})
			return nil
		}
		it.Target = target
		c.res.Items = append(c.res.Items, it)
		if c.dry {
			return nil
		}
		if err := unix.Symlinkat(target, ddir, dname); err != nil {
			return fmt.Errorf("create symlink %s: %w", dest, err)
		}
		if err := c.meta(-1, sdir, name, ddir, dname, st, nil, dest); err != nil {
			return err
		}
		c.done(it)
		return nil
	case KindFifo:
		// Made anew (mknod, as cp -a does), never opened: opening a fifo
		// would wait for a writer.
		c.res.Items = append(c.res.Items, it)
		if c.dry {
			return nil
		}
		if err := unix.Mknodat(ddir, dname, unix.S_IFIFO|0o600, 0); err != nil {
			return fmt.Errorf("create fifo %s: %w", dest, err)
		}
		if err := c.meta(-1, sdir, name, ddir, dname, st, nil, dest); err != nil {
			return err
		}
		c.done(it)
		return nil
	case KindFile:
		it.Size, it.Mtime = st.Size, st.Mtim.Nano()
		c.res.Items = append(c.res.Items, it)
		c.res.Bytes += st.Size
		if c.dry {
			return nil
		}
		if err := c.file(sdir, name, st, ddir, dname, dest, live); err != nil {
			return err
		}
		c.done(it)
		return nil
	}
	if c.subvols && btrfs.IsSubvolumeRootAt(sdir, st) {
		it.Subvolume = true
		if c.plain != "" {
			c.res.SubvolumesPlain = c.plain
		}
	}
	c.res.Items = append(c.res.Items, it)
	if err := c.dir(sdir, name, st, ddir, dname, dest, live, it.Subvolume && c.plain == ""); err != nil {
		return err
	}
	if !c.dry {
		c.done(it)
	}
	return nil
}

// dir copies a directory and, recursively, its entries in name order;
// with subvol its copy is a new btrfs subvolume (mkdirAt).
func (c *copier) dir(sdir int, name string, st *unix.Stat_t, ddir int, dname, dest, live string, subvol bool) error {
	sfd, err := openDirAt(sdir, name)
	if errors.Is(err, unix.EXDEV) {
		return &MountError{Side: c.side, Path: path.Join(c.root, live)}
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", live, err)
	}
	defer unix.Close(sfd)
	if err := sameObject(sfd, st); err != nil {
		return fmt.Errorf("%s: %w", live, err)
	}
	names, err := readNames(sfd)
	if err != nil {
		return fmt.Errorf("read %s: %w", live, err)
	}
	dfd := -1
	if !c.dry {
		if dfd, err = mkdirAt(ddir, dname, subvol); err != nil {
			return fmt.Errorf("create %s: %w", dest, err)
		}
		defer unix.Close(dfd)
		if c.top == (devIno{}) {
			var tst unix.Stat_t
			if err := unix.Fstat(dfd, &tst); err != nil {
				return fmt.Errorf("stat %s: %w", dest, err)
			}
			c.top = devIno{uint64(tst.Dev), tst.Ino}
		}
	}
	for _, n := range names {
		var cst unix.Stat_t
		mnt, err := lstatAt(sfd, n, &cst)
		if err != nil {
			return fmt.Errorf("stat %s: %w", path.Join(live, n), err)
		}
		if c.noSubvol && !mnt && cst.Mode&unix.S_IFMT == unix.S_IFDIR && cst.Dev != st.Dev {
			return &MountError{Side: c.side, Path: path.Join(c.root, live, n), Subvolume: true}
		}
		if err := c.copy(sfd, n, &cst, mnt, dfd, n, path.Join(dest, n), path.Join(live, n)); err != nil {
			return err
		}
	}
	if c.dry {
		return nil
	}
	if err := c.meta(dfd, sfd, "", ddir, dname, st, nil, dest); err != nil {
		return err
	}
	if !c.sync {
		return nil
	}
	if err := unix.Fsync(dfd); err != nil {
		return fmt.Errorf("fsync %s: %w", dest, err)
	}
	return nil
}

// file copies a regular file's data (holes kept) and metadata, then fsyncs.
func (c *copier) file(sdir int, name string, st *unix.Stat_t, ddir int, dname, dest, live string) error {
	// O_NONBLOCK|O_NOCTTY: a fifo or tty raced in for the file is neither
	// waited on nor made the controlling terminal (sameObject then refuses it).
	// RESOLVE_NO_XDEV: a file bind-mounted over it (raced in after the
	// stat) is refused too.
	sfd, err := fsys.OpenNoXDev(sdir, name, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY)
	if errors.Is(err, unix.EXDEV) {
		return &MountError{Side: c.side, Path: path.Join(c.root, live)}
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", live, err)
	}
	defer unix.Close(sfd)
	if err := sameObject(sfd, st); err != nil {
		return fmt.Errorf("%s: %w", live, err)
	}
	dfd, err := unix.Openat(ddir, dname, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", dest, err)
	}
	defer unix.Close(dfd)
	if err := c.data(dfd, sfd, st, dest, live); err != nil {
		return fmt.Errorf("copy %s to %s: %w", live, dest, err)
	}
	d, err := verify(sfd, dfd, st)
	if err != nil {
		return fmt.Errorf("%s: %w", path.Join(c.root, live), err)
	}
	if err := c.meta(dfd, sfd, "", ddir, dname, st, &d, dest); err != nil {
		return err
	}
	if !c.sync {
		return nil
	}
	if err := unix.Fsync(dfd); err != nil {
		return fmt.Errorf("fsync %s: %w", dest, err)
	}
	return nil
}

// ErrChanged is returned (wrapped) when a source file changed while it was
// copied: a process is writing it.
var ErrChanged = errors.New("changed while it was copied (a process is writing it: stop it, then copy again)")

// data copies the bytes of the source file sfd (st) to dfd, the copy of
// live at dest: a clone where the filesystem makes one, else copied
// (data.go); with c.verify, a copy that is not a clone is hashed as it is
// written, for checkSums.
func (c *copier) data(dfd, sfd int, st *unix.Stat_t, dest, live string) error {
	if st.Size > 0 {
		ok, err := tryClone(dfd, sfd)
		if ok || err != nil {
			return err
		}
	}
	if !c.verify {
		return copyData(c.ctx, dfd, sfd, st.Size)
	}
	if c.buf == nil {
		c.buf = make([]byte, 1<<20)
	}
	d, err := copyHashed(c.ctx, dfd, sfd, st.Size, c.buf)
	if err != nil {
		return err
	}
	rel := components(dest)[len(components(c.dest)):]
	c.sums = append(c.sums, sum{comps: append([]string{c.tmp}, rel...), live: live, size: st.Size, xxh3: d})
	return nil
}

// verify checks a file's copy: dfd holds st.Size bytes, and the source sfd
// has the size, mtime and ctime st says (it did not change meanwhile).
// It returns the copy's stat.
func verify(sfd, dfd int, st *unix.Stat_t) (unix.Stat_t, error) {
	var s, d unix.Stat_t
	if err := unix.Fstat(sfd, &s); err != nil {
		return d, err
	}
	if err := unix.Fstat(dfd, &d); err != nil {
		return d, err
	}
	if s.Size != st.Size || s.Mtim != st.Mtim || s.Ctim != st.Ctim {
		return d, ErrChanged
	}
	if d.Size != st.Size {
		return d, fmt.Errorf("the copy holds %d bytes, the source %d", d.Size, st.Size)
	}
	return d, nil
}

// link makes dname under ddir a hard link to the copy's earlier name first.
func (c *copier) link(first string, ddir int, dname string) error {
	rel := components(first)[len(components(c.dest)):]
	comps := append([]string{c.tmp}, rel...)
	b := &beneath{fd: c.tmpParent, dir: ".", side: "destination"}
	pfd, n, err := b.openDirs(comps[:len(comps)-1])
	if err == nil && n < len(comps)-1 {
		err = unix.ENOENT
	}
	if err != nil {
		if pfd >= 0 {
			unix.Close(pfd)
		}
		return fmt.Errorf("hard link to %s: %w", first, err)
	}
	defer unix.Close(pfd)
	if err := unix.Linkat(pfd, comps[len(comps)-1], ddir, dname, 0); err != nil {
		return fmt.Errorf("hard link to %s: %w", first, err)
	}
	return nil
}

// hardlink makes the object it (dname under ddir) a hard link to first:
// an earlier name in this copy, or with prior one that an earlier Run of
// the same Merge put in place. done is false when that is on another
// filesystem (then it is copied as a file of its own).
func (c *copier) hardlink(it Item, first string, prior bool, ddir int, dname string) (done bool, err error) {
	it.Kind, it.Target = KindHardlink, first
	if c.dry {
		c.res.Items = append(c.res.Items, it)
		return true, nil
	}
	if prior {
		err = c.linkPrior(first, ddir, dname)
	} else {
		err = c.link(first, ddir, dname)
	}
	if prior && errors.Is(err, unix.EXDEV) {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	c.res.Items = append(c.res.Items, it)
	c.done(it)
	return true, nil
}

// linkPrior makes dname under ddir a hard link to first, a file an
// earlier Run of the same Merge put in place (absolute as the live system
// sees it, reached beneath the destination root without a symlink).
func (c *copier) linkPrior(first string, ddir int, dname string) error {
	comps := components(first)
	pfd, n, err := c.dstRoot.openDirs(comps[:len(comps)-1])
	if err == nil && n < len(comps)-1 {
		err = unix.ENOENT
	}
	if err != nil {
		if pfd >= 0 {
			unix.Close(pfd)
		}
		return fmt.Errorf("hard link to %s: %w", first, err)
	}
	defer unix.Close(pfd)
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, comps[len(comps)-1], &st, unix.AT_SYMLINK_NOFOLLOW); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return fmt.Errorf("hard link to %s: no longer the regular file copied (%v)", first, err)
	}
	if err := unix.Linkat(pfd, comps[len(comps)-1], ddir, dname, 0); err != nil {
		return fmt.Errorf("hard link to %s: %w", first, err)
	}
	return nil
}

// meta gives the new object dname under ddir the source's owner, mode,
// xattrs and times, in that order (chown clears setuid bits and file
// capabilities, so it comes first; times come last). dfd and src are open
// descriptors of the new object and of the source; for a symlink or a
// fifo (never opened) dfd is -1 and src is the directory holding the
// source, named sname. now, when
// known, is the new object's stat: an owner or mode it has already is not
// set again.
func (c *copier) meta(dfd, src int, sname string, ddir int, dname string, st, now *unix.Stat_t, dest string) error {
	symlink := st.Mode&unix.S_IFMT == unix.S_IFLNK
	byName := dfd < 0 // a symlink or a fifo, reached by its name in ddir
	switch {
	case byName:
		if err := unix.Fchownat(ddir, dname, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("chown %s: %w", dest, err)
		}
		if !symlink {
			// dname is the fifo just made in the copy's own 0700
			// directory: nothing could have swapped in a symlink.
			if err := unix.Fchmodat(ddir, dname, st.Mode&^unix.S_IFMT, 0); err != nil {
				return fmt.Errorf("chmod %s: %w", dest, err)
			}
		}
	default:
		if now == nil || now.Uid != st.Uid || now.Gid != st.Gid {
			if err := unix.Fchown(dfd, int(st.Uid), int(st.Gid)); err != nil {
				return fmt.Errorf("chown %s: %w", dest, err)
			}
		}
		if err := unix.Fchmod(dfd, st.Mode&^unix.S_IFMT); err != nil {
			return fmt.Errorf("chmod %s: %w", dest, err)
		}
	}
	var sx, dx xattrIO
	if byName {
		sx, dx = procXattr(src, sname), procXattr(ddir, dname)
	} else {
		sx, dx = fdXattr(src), fdXattr(dfd)
	}
	if err := copyXattrs(sx, dx); err != nil {
		c.res.Warnings = append(c.res.Warnings, fmt.Sprintf("%s: extended attributes not kept: %v", dest, err))
	}
	ts := []unix.Timespec{st.Atim, st.Mtim}
	if err := unix.UtimesNanoAt(ddir, dname, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set times of %s: %w", dest, err)
	}
	return nil
}

// sameObject checks that fd is the object st describes (it was not replaced
// between the stat and the open).
func sameObject(fd int, st *unix.Stat_t) error {
	var now unix.Stat_t
	if err := unix.Fstat(fd, &now); err != nil {
		return err
	}
	if now.Dev != st.Dev || now.Ino != st.Ino || now.Mode&unix.S_IFMT != st.Mode&unix.S_IFMT {
		return errors.New("replaced while being copied")
	}
	return nil
}

// readNames lists a directory's entries, sorted, without consuming fd.
func readNames(fd int) ([]string, error) {
	dup, err := unix.Openat(fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(dup), ".")
	defer f.Close()
	names, err := f.Readdirnames(-1)
	slices.Sort(names)
	return names, err
}
