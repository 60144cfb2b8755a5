package diff

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/scan"
)

// The lockstep walk's handling of each name of a directory pair (merge):
// a name on one side only, a name on both, classified with WhatChanged,
// regular files compared by content.

// one handles a name (NUL-terminated) found on side s only.
func (l *lockstep) one(w *lsWorker, s, dirfd int, dir string, namez []byte) {
	name := namez[:len(namez)-1]
	if l.ignored(w, dir, name) {
		return
	}
	if present, _ := l.lstat(w, s, dirfd, dir, namez); present {
		l.only(w, s, dirfd, dir, namez)
	}
}

// lstat lstat's the name (NUL-terminated) in dirfd, side s, into w.st[s]:
// present unless it failed; failed (and recorded) unless it vanished.
func (l *lockstep) lstat(w *lsWorker, s, dirfd int, dir string, namez []byte) (present, failed bool) {
	err := l.fs.fstatat(dirfd, namez, &w.st[s])
	switch {
	case err == nil:
		return true, false
	case vanished(err):
		return false, false
	}
	p := join(dir, namez[:len(namez)-1])
	if s == 1 {
		l.liveFail(w, p, "fstatat", err)
	}
	l.fail(w, p, s, os.NewSyscallError("fstatat", err))
	return false, true
}

// only records the entry lstat'ed into w.st[s] as Removed (side A) or
// Added (side B), and queues its subtree when it is a directory on its
// parent's device or a nested subvolume (nested).
func (l *lockstep) only(w *lsWorker, s, dirfd int, dir string, namez []byte) {
	name := namez[:len(namez)-1]
	st := &w.st[s]
	p := join(dir, name)
	e := &scan.Entry{}
	scan.Fill(e, p, st, 0)
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		l.readLink(w, s, dirfd, namez, e)
	}
	if !w.quiet {
		d := Difference{Path: p, Change: Removed, A: e}
		if s == 1 {
			d = Difference{Path: p, Change: Added, B: e}
		}
		w.diffs = append(w.diffs, d)
		w.counts[d.Change]++
	}
	read := st.Mode&unix.S_IFMT == unix.S_IFDIR && (uint64(st.Dev) == w.dirDev[s] || l.nested(w, s, dirfd, p, namez))
	var state any
	if s == 1 && w.state != nil {
		state = l.visitLive(w, e, read)
	}
	if read && (!w.quiet || state != nil) {
		it := pairItem{path: p, nameOff: len(p) - len(name), state: state, quiet: w.quiet}
		it.has[s], it.dev[s], it.ino[s] = true, uint64(st.Dev), st.Ino
		w.children = append(w.children, it)
	}
}

// nested reports whether the directory name (NUL-terminated) in dirfd,
// side s, at path p, lstat'ed on another device than its parent, is read:
// it is when it lies on the root's mount (the same mount ID), a nested
// btrfs subvolume of the same filesystem, which is part of the tree; not
// when it is a mount point (another mount ID), compared as a directory
// only. When the mount ID cannot be read, the directory is not read and
// that is a Failed Difference: what it holds was not compared. Called only
// on a change of device, off the walk's hot path.
func (l *lockstep) nested(w *lsWorker, s, dirfd int, p string, namez []byte) bool {
	err := l.rootMntErr[s]
	if err == nil {
		var id uint64
		if id, err = l.fs.mountID(dirfd, namez); err == nil {
			if id != l.rootMnt[s] {
				return false
			}
			w.nested++
			return true
		}
		if vanished(err) {
			return false
		}
	}
	l.fail(w, p, s, fmt.Errorf("on another device (a nested subvolume or a mount point?), not read: %w", err))
	return false
}

func (l *lockstep) readLink(w *lsWorker, s, dirfd int, namez []byte, e *scan.Entry) {
	t, err := scan.ReadLink(&w.link, func(buf []byte) (int, error) { return l.fs.readlinkat(dirfd, namez, buf) })
	if err != nil {
		if !vanished(err) && err != unix.EINVAL { // EINVAL: no longer a symlink
			if s == 1 {
				l.liveFail(w, e.Path, "readlinkat", err)
			}
			l.fail(w, e.Path, s, os.NewSyscallError("readlinkat", err))
		}
		return
	}
	e.Target = t
}

// both handles a name (NUL-terminated) listed on both sides, typA and typB
// its d_type there.
func (l *lockstep) both(w *lsWorker, fd [2]int, dir string, namez []byte, typA, typB uint8) {
	if l.ignored(w, dir, namez[:len(namez)-1]) {
		return
	}
	if !l.quick && typA == unix.DT_REG && typB == unix.DT_REG {
		l.regular(w, fd, dir, namez)
		return
	}
	var present, failed [2]bool
	for s := range 2 {
		present[s], failed[s] = l.lstat(w, s, fd[s], dir, namez)
	}
	if failed == [2]bool{} {
		l.classify(w, fd, dir, namez, present, [2]int{-1, -1}, [2]error{})
	} else if present[1] && !failed[1] {
		l.liveAlone(w, fd[1], dir, namez)
	}
}

// regular handles a name both sides list as a regular file when contents
// are compared anyway: each side is opened first (openat2 beneath its
// directory, O_NONBLOCK, no symlink) and its metadata taken from fstat on
// that descriptor, one system call fewer than lstat, open and fstat. Only
// a descriptor fstat shows to be a regular file is ever read; anything
// else (the name was replaced by a fifo, a device, a directory since it was
// listed) is closed unread and classified from that fstat. A name that
// cannot be opened (a symlink now, a socket, EACCES) is lstat'ed instead,
// and its content compares as that open error.
func (l *lockstep) regular(w *lsWorker, fd [2]int, dir string, namez []byte) {
	ffd := [2]int{-1, -1}
	var oerr [2]error
	var present, failed [2]bool
	for s := range 2 {
		f, err := l.openFile(fd[s], namez)
		if err == nil {
			if err = l.fs.fstat(f, &w.st[s]); err != nil {
				l.fs.close(f)
				if s == 1 {
					l.liveFail(w, join(dir, namez[:len(namez)-1]), "fstat", err)
				}
				l.fail(w, join(dir, namez[:len(namez)-1]), s, os.NewSyscallError("fstat", err))
				failed[s] = true
				continue
			}
			present[s] = true
			if w.st[s].Mode&unix.S_IFMT == unix.S_IFREG {
				ffd[s] = f
			} else {
				l.fs.close(f)
			}
			continue
		}
		if vanished(err) {
			continue
		}
		oerr[s] = os.NewSyscallError("openat2", err)
		present[s], failed[s] = l.lstat(w, s, fd[s], dir, namez)
	}
	if failed == [2]bool{} {
		l.classify(w, fd, dir, namez, present, ffd, oerr)
	} else if present[1] && !failed[1] {
		l.liveAlone(w, fd[1], dir, namez)
	}
	for s := range 2 {
		if ffd[s] >= 0 {
			l.fs.close(ffd[s])
		}
	}
}

// openFile opens the regular file name (NUL-terminated) in dirfd to read
// it, with O_NOATIME (an audit leaves access times as they were) unless
// that is refused (EPERM: a file neither owned by the caller nor opened
// with CAP_FOWNER).
func (l *lockstep) openFile(dirfd int, namez []byte) (int, error) {
	fd, err := l.fs.open(dirfd, namez, fileFlags|unix.O_NOATIME)
	if err == unix.EPERM {
		fd, err = l.fs.open(dirfd, namez, fileFlags)
	}
	return fd, err
}

// classify decides a name whose sides are lstat'ed into w.st (present[s]
// false: absent on side s). ffd[s] is side s open as a regular file to
// compare (-1: open it by name when needed); oerr[s] is why side s could
// not be opened.
func (l *lockstep) classify(w *lsWorker, fd [2]int, dir string, namez []byte, present [2]bool, ffd [2]int, oerr [2]error) {
	switch {
	case !present[0] && !present[1]:
		return
	case !present[0]:
		l.only(w, 1, fd[1], dir, namez)
		return
	case !present[1]:
		l.only(w, 0, fd[0], dir, namez)
		return
	}
	var e [2]scan.Entry
	for s := range 2 {
		scan.Fill(&e[s], "", &w.st[s], 0)
		if w.st[s].Mode&unix.S_IFMT == unix.S_IFLNK {
			e[s].Path = join(dir, namez[:len(namez)-1]) // for an error
			l.readLink(w, s, fd[s], namez, &e[s])
		}
	}
	change, what, err := WhatChanged(&e[0], &e[1], l.quick, func() (bool, error) {
		w.hashed++
		for s := range 2 {
			if oerr[s] != nil {
				return false, fmt.Errorf("%s: %w", sideNames[s], oerr[s])
			}
		}
		if ffd[0] >= 0 && ffd[1] >= 0 {
			return w.cmp.same(ffd[0], ffd[1], e[0].Size, &w.st[0], &w.st[1])
		}
		return l.sameByName(w, fd, namez)
	})
	w.counts[change]++
	p := ""
	if change != Same {
		p = join(dir, namez[:len(namez)-1])
		a, b := e[0], e[1]
		a.Path, b.Path = p, p
		w.diffs = append(w.diffs, Difference{Path: p, Change: change, What: what, A: &a, B: &b, Err: err})
	}
	var it pairItem
	for s := range 2 {
		st := &w.st[s]
		if st.Mode&unix.S_IFMT == unix.S_IFDIR && (uint64(st.Dev) == w.dirDev[s] || l.nested(w, s, fd[s], join(dir, namez[:len(namez)-1]), namez)) {
			it.has[s], it.dev[s], it.ino[s] = true, uint64(st.Dev), st.Ino
		}
	}
	if w.state != nil {
		if p == "" {
			p = join(dir, namez[:len(namez)-1])
		}
		b := e[1]
		b.Path = p
		it.state = l.visitLive(w, &b, it.has[1])
	}
	if it.has[0] || it.has[1] {
		if p == "" {
			p = join(dir, namez[:len(namez)-1])
		}
		it.path, it.nameOff = p, len(p)-(len(namez)-1)
		w.children = append(w.children, it)
	}
}

// sameByName compares the regular files name (NUL-terminated) in fd[0]
// and fd[1], lstat'ed into w.st: each is opened and must still be the file
// lstat'ed (same inode and size), else errReplacedFile.
func (l *lockstep) sameByName(w *lsWorker, fd [2]int, namez []byte) (bool, error) {
	f := [2]int{-1, -1}
	defer func() {
		for s := range 2 {
			if f[s] >= 0 {
				l.fs.close(f[s])
			}
		}
	}()
	for s := range 2 {
		var err error
		if f[s], err = l.openFile(fd[s], namez); err != nil {
			f[s] = -1
			return false, fmt.Errorf("%s: %w", sideNames[s], os.NewSyscallError("openat2", err))
		}
		if err := l.fs.fstat(f[s], &w.fst[s]); err != nil {
			return false, fmt.Errorf("%s: %w", sideNames[s], os.NewSyscallError("fstat", err))
		}
		st := &w.fst[s]
		if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Ino != w.st[s].Ino || st.Size != w.st[s].Size {
			return false, fmt.Errorf("%s: %w", sideNames[s], errReplacedFile)
		}
	}
	return w.cmp.same(f[0], f[1], w.fst[0].Size, &w.fst[0], &w.fst[1])
}
