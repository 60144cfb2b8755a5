package diff

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/scan"
)

// The comparison's handling of each name of a directory pair (the
// scan.PairVisitor methods One and Both): a name on one side only, a name
// on both, classified with WhatChanged, regular files compared by content.

// One records a name (NUL-terminated) found on side s only, lstat'ed into
// w.St[s] (only).
func (c *comparer) One(w *scan.PairWorker, s, dirfd int, dir string, namez []byte) {
	c.only(w, s, dirfd, dir, namez)
}

// only records the entry lstat'ed into w.St[s] as Removed (side A) or
// Added (side B), and queues its subtree when the walk reads it
// (PairWorker.Reads).
func (c *comparer) only(w *scan.PairWorker, s, dirfd int, dir string, namez []byte) {
	name := namez[:len(namez)-1]
	st := &w.St[s]
	p := scan.Join(dir, name)
	e := &scan.Entry{}
	scan.Fill(e, p, st, 0)
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		w.ReadLink(s, dirfd, namez, e)
	}
	if !w.Quiet {
		d := Difference{Path: p, Change: Removed, A: e}
		if s == 1 {
			d = Difference{Path: p, Change: Added, B: e}
		}
		cw := c.ws[w.ID]
		cw.diffs = append(cw.diffs, d)
		cw.counts[d.Change]++
	}
	read := w.Reads(s, dirfd, dir, namez)
	var state any
	if s == 1 && w.State != nil {
		state = c.visitLive(w, e, read)
	}
	if read && (!w.Quiet || state != nil) {
		it := scan.PairItem{Path: p, NameOff: len(p) - len(name), State: state, Quiet: w.Quiet}
		it.Has[s], it.Dev[s], it.Ino[s] = true, uint64(st.Dev), st.Ino
		w.Children = append(w.Children, it)
	}
}

// Both handles a name (NUL-terminated) listed on both sides, typ its
// d_type there.
func (c *comparer) Both(w *scan.PairWorker, fd [2]int, dir string, namez []byte, typ [2]uint8) {
	if !c.quick && typ[0] == unix.DT_REG && typ[1] == unix.DT_REG {
		c.regular(w, fd, dir, namez)
		return
	}
	var present, failed [2]bool
	for s := range 2 {
		present[s], failed[s] = w.Lstat(s, fd[s], dir, namez)
	}
	if failed == [2]bool{} {
		c.classify(w, fd, dir, namez, present, [2]int{-1, -1}, [2]error{})
	} else if present[1] && !failed[1] {
		c.liveAlone(w, fd[1], dir, namez)
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
func (c *comparer) regular(w *scan.PairWorker, fd [2]int, dir string, namez []byte) {
	ffd := [2]int{-1, -1}
	var oerr [2]error
	var present, failed [2]bool
	for s := range 2 {
		f, err := c.openFile(fd[s], namez)
		if err == nil {
			if err = c.fs.Fstat(f, &w.St[s]); err != nil {
				c.fs.Close(f)
				c.Fail(w, scan.Join(dir, namez[:len(namez)-1]), s, "fstat", err)
				failed[s] = true
				continue
			}
			present[s] = true
			if w.St[s].Mode&unix.S_IFMT == unix.S_IFREG {
				ffd[s] = f
			} else {
				c.fs.Close(f)
			}
			continue
		}
		if scan.Vanished(err) {
			continue
		}
		oerr[s] = os.NewSyscallError("openat2", err)
		present[s], failed[s] = w.Lstat(s, fd[s], dir, namez)
	}
	if failed == [2]bool{} {
		c.classify(w, fd, dir, namez, present, ffd, oerr)
	} else if present[1] && !failed[1] {
		c.liveAlone(w, fd[1], dir, namez)
	}
	for s := range 2 {
		if ffd[s] >= 0 {
			c.fs.Close(ffd[s])
		}
	}
}

// openFile opens the regular file name (NUL-terminated) in dirfd to read
// it, with O_NOATIME (an audit leaves access times as they were) unless
// that is refused (EPERM: a file neither owned by the caller nor opened
// with CAP_FOWNER).
func (c *comparer) openFile(dirfd int, namez []byte) (int, error) {
	fd, err := c.fs.OpenBeneath(dirfd, namez, fileFlags|unix.O_NOATIME)
	if err == unix.EPERM {
		fd, err = c.fs.OpenBeneath(dirfd, namez, fileFlags)
	}
	return fd, err
}

// classify decides a name whose sides are lstat'ed into w.St (present[s]
// false: absent on side s). ffd[s] is side s open as a regular file to
// compare (-1: open it by name when needed); oerr[s] is why side s could
// not be opened.
func (c *comparer) classify(w *scan.PairWorker, fd [2]int, dir string, namez []byte, present [2]bool, ffd [2]int, oerr [2]error) {
	switch {
	case !present[0] && !present[1]:
		return
	case !present[0]:
		c.only(w, 1, fd[1], dir, namez)
		return
	case !present[1]:
		c.only(w, 0, fd[0], dir, namez)
		return
	}
	cw := c.ws[w.ID]
	var e [2]scan.Entry
	for s := range 2 {
		scan.Fill(&e[s], "", &w.St[s], 0)
		if w.St[s].Mode&unix.S_IFMT == unix.S_IFLNK {
			e[s].Path = scan.Join(dir, namez[:len(namez)-1]) // for an error
			w.ReadLink(s, fd[s], namez, &e[s])
		}
	}
	change, what, err := WhatChanged(&e[0], &e[1], c.quick, func() (bool, error) {
		cw.hashed++
		for s := range 2 {
			if oerr[s] != nil {
				return false, fmt.Errorf("%s: %w", sideNames[s], oerr[s])
			}
		}
		if ffd[0] >= 0 && ffd[1] >= 0 {
			return cw.cmp.same(ffd[0], ffd[1], e[0].Size, &w.St[0], &w.St[1])
		}
		return c.sameByName(w, fd, namez)
	})
	cw.counts[change]++
	p := ""
	if change != Same {
		p = scan.Join(dir, namez[:len(namez)-1])
		a, b := e[0], e[1]
		a.Path, b.Path = p, p
		cw.diffs = append(cw.diffs, Difference{Path: p, Change: change, What: what, A: &a, B: &b, Err: err})
	}
	e[1].Twin = scan.TwinOtherMtime
	if e[0].Mtime == e[1].Mtime {
		e[1].Twin = scan.TwinSameMtime
	}
	e[1].Same = change == Same
	c.descend(w, fd, dir, namez, p, &e[1])
}

// descend queues the name (NUL-terminated, at path p unless "") both sides
// of which classify saw, on each side it is a directory the walk reads, and
// visits side B's entry b (liveSide).
func (c *comparer) descend(w *scan.PairWorker, fd [2]int, dir string, namez []byte, p string, b *scan.Entry) {
	var it scan.PairItem
	for s := range 2 {
		if st := &w.St[s]; w.Reads(s, fd[s], dir, namez) {
			it.Has[s], it.Dev[s], it.Ino[s] = true, uint64(st.Dev), st.Ino
		}
	}
	if w.State != nil {
		if p == "" {
			p = scan.Join(dir, namez[:len(namez)-1])
		}
		e := &c.ws[w.ID].live
		*e = *b
		e.Path = p
		it.State = c.visitLive(w, e, it.Has[1])
	}
	if it.Has[0] || it.Has[1] {
		if p == "" {
			p = scan.Join(dir, namez[:len(namez)-1])
		}
		it.Path, it.NameOff = p, len(p)-(len(namez)-1)
		w.Children = append(w.Children, it)
	}
}

// sameByName compares the regular files name (NUL-terminated) in fd[0]
// and fd[1], lstat'ed into w.St: each is opened and must still be the file
// lstat'ed (same inode and size), else errReplacedFile.
func (c *comparer) sameByName(w *scan.PairWorker, fd [2]int, namez []byte) (bool, error) {
	f := [2]int{-1, -1}
	defer func() {
		for s := range 2 {
			if f[s] >= 0 {
				c.fs.Close(f[s])
			}
		}
	}()
	for s := range 2 {
		var err error
		if f[s], err = c.openFile(fd[s], namez); err != nil {
			f[s] = -1
			return false, fmt.Errorf("%s: %w", sideNames[s], os.NewSyscallError("openat2", err))
		}
		if err := c.fs.Fstat(f[s], &w.Fst[s]); err != nil {
			return false, fmt.Errorf("%s: %w", sideNames[s], os.NewSyscallError("fstat", err))
		}
		st := &w.Fst[s]
		if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Ino != w.St[s].Ino || st.Size != w.St[s].Size {
			return false, fmt.Errorf("%s: %w", sideNames[s], errReplacedFile)
		}
	}
	return c.ws[w.ID].cmp.same(f[0], f[1], w.Fst[0].Size, &w.Fst[0], &w.Fst[1])
}
