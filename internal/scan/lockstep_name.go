//go:build linux

package scan

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// What WalkPair does with each name of a directory pair (merge) before
// its visitor sees it, and the help it gives the visitor: lstat, the
// choice of the directories read, symlink targets.

// skipped reports whether dir/name is left out (PairOptions.Skip; the
// path built in scratch space: nothing allocated).
func (l *pairWalk) skipped(w *PairWorker, dir string, name []byte) bool {
	if l.skip == nil {
		return false
	}
	w.pbuf = append(w.pbuf[:0], dir...)
	if dir != "/" {
		w.pbuf = append(w.pbuf, '/')
	}
	w.pbuf = append(w.pbuf, name...)
	return l.skip(unsafe.String(unsafe.SliceData(w.pbuf), len(w.pbuf)))
}

// one handles a name (NUL-terminated) found on side s only.
func (l *pairWalk) one(w *PairWorker, s, dirfd int, dir string, namez []byte) {
	if l.skipped(w, dir, namez[:len(namez)-1]) {
		return
	}
	if present, _ := w.Lstat(s, dirfd, dir, namez); present {
		l.v.One(w, s, dirfd, dir, namez)
	}
}

// both handles a name (NUL-terminated) listed on both sides.
func (l *pairWalk) both(w *PairWorker, fd [2]int, dir string, namez []byte, typ [2]uint8) {
	if l.skipped(w, dir, namez[:len(namez)-1]) {
		return
	}
	l.v.Both(w, fd, dir, namez, typ)
}

// Lstat lstat's the name (NUL-terminated) in dirfd, side s, into w.St[s]:
// present unless it failed; failed (and reported to PairVisitor.Fail)
// unless it vanished.
func (w *PairWorker) Lstat(s, dirfd int, dir string, namez []byte) (present, failed bool) {
	err := w.l.fs.Fstatat(dirfd, namez, &w.St[s], unix.AT_SYMLINK_NOFOLLOW)
	switch {
	case err == nil:
		return true, false
	case Vanished(err):
		return false, false
	}
	w.l.v.Fail(w, Join(dir, namez[:len(namez)-1]), s, "fstatat", err)
	return false, true
}

// Reads reports whether the walk reads the entry lstat'ed into w.St[s],
// the name (NUL-terminated) in the directory dir open as dirfd, as a
// directory of side s:
// a directory on its parent's device, or on another device but on the
// root's mount (the same mount ID): a nested btrfs subvolume of the same
// filesystem, part of the tree, counted in w.Nested. A mount point
// (another mount ID) is not read. When the mount ID cannot be read, the
// directory is not read and PairVisitor.Fail says so (op "mountid"): what
// it holds was not walked. The mount ID is asked only on a change of
// device, off the walk's hot path.
func (w *PairWorker) Reads(s, dirfd int, dir string, namez []byte) bool {
	st := &w.St[s]
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return false
	}
	if uint64(st.Dev) == w.DirDev[s] {
		return true
	}
	l := w.l
	err := l.rootMntErr[s]
	if err == nil {
		var id uint64
		if id, err = l.fs.MountID(dirfd, namez); err == nil {
			if id != l.rootMnt[s] {
				return false
			}
			w.Nested++
			return true
		}
		if Vanished(err) {
			return false
		}
	}
	l.v.Fail(w, Join(dir, namez[:len(namez)-1]), s, "mountid", fmt.Errorf("on another device (a nested subvolume or a mount point?), not read: %w", err))
	return false
}

// ReadLink sets e.Target to the target of the symlink name
// (NUL-terminated) in dirfd, side s, e.Path its path. Trouble goes to
// PairVisitor.Fail (op "readlinkat"), unless the link is gone or no
// longer a symlink; e.Target is then left as it was.
func (w *PairWorker) ReadLink(s, dirfd int, namez []byte, e *Entry) {
	t, err := ReadLink(&w.link, func(buf []byte) (int, error) { return w.l.fs.Readlinkat(dirfd, namez, buf) })
	if err != nil {
		if !Vanished(err) && err != unix.EINVAL { // EINVAL: no longer a symlink
			w.l.v.Fail(w, e.Path, s, "readlinkat", err)
		}
		return
	}
	e.Target = t
}
