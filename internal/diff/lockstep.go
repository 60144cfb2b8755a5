package diff

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/scan"
)

// The lockstep walk of Compare: one work item is a directory of the same
// path in A and B (or, for a subtree only one tree has, in that one), both
// opened below their roots with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS)
// from their parents' descriptors. A worker lists both with getdents64,
// sorts each side's names (unless both sides list the same names in the
// same order) and merges them: a name on one side only is Added or Removed
// (a directory's subtree is then walked on that side alone), a name on
// both is classified with WhatChanged, and a directory on both sides, on
// its root's device, becomes the next item. Nothing holds more than the
// directories in flight: no map of paths, no path string for a name that
// is the same on both sides.
//
// System calls per name on both sides, A's and B's together: a regular
// file when contents are compared, 8 (openat2, fstat, one pread of its
// size, close: see regular); with --quick, 2 (fstatat) unless the mtimes
// differ; a directory, 2 fstatat then, read as the next item, 2 openat2,
// 4 getdents64 and 2 close; a symlink, 2 fstatat and 2 readlinkat.

const (
	// direntBuf is each worker's getdents64 buffer.
	direntBuf = 32 << 10
	dirFlags  = unix.O_RDONLY | unix.O_DIRECTORY
	// fileFlags open a regular file to read it: without blocking on a fifo
	// or becoming a controlling terminal.
	fileFlags = unix.O_RDONLY | unix.O_NOCTTY | unix.O_NONBLOCK
	// cancelEvery is how many names a worker merges between two looks at
	// the context.
	cancelEvery = 256
)

var sideNames = [2]string{"A", "B"}

var (
	errDirReplaced = errors.New("directory replaced during the walk; not read")
	errDirRemoved  = errors.New("directory removed during the walk; not read")
)

// handle is an open directory kept for the subdirectories it listed,
// closed when the last of them has been opened.
type handle struct {
	fd     int
	refs   atomic.Int32
	pinned bool // counted in lockstep.pinned
	root   bool // a tree's root: Compare closes it
}

// pairItem is a directory to read in A, B or both.
type pairItem struct {
	path     string
	nameOff  int // path[nameOff:] is its name in its parent
	has      [2]bool
	parent   [2]*handle // nil: reopened from the root by path
	dev, ino [2]uint64  // what each side's lstat saw
}

// dent is one name of a directory listing: arena[off:off+n], NUL at
// arena[off+n].
type dent struct {
	off, n uint32
	typ    uint8
}

// lockstep is the shared state of one Compare's walk: the stack of
// directory items (scan.Stack: depth first keeps few directory descriptors
// open) and what every worker reads.
type lockstep struct {
	fs      fsys
	quick   bool
	ignore  *Ignore
	root    [2]*handle
	rootDev [2]uint64
	// rootMnt is the mount ID of each root (rootMntErr why it is not
	// known): a directory on another device with the same mount ID is a
	// nested subvolume, read; another mount ID is a mount point, not read.
	rootMnt    [2]uint64
	rootMntErr [2]error
	maxPinned  int32
	pinned     atomic.Int32
	stop       atomic.Bool
	cancelled  <-chan struct{}
	stack      *scan.Stack[pairItem]
}

// lsWorker is one worker's scratch space and results.
type lsWorker struct {
	buf      []byte
	link     []byte
	cname    []byte
	pbuf     []byte
	arena    [2][]byte
	ents     [2][]dent
	children []pairItem
	st, fst  [2]unix.Stat_t
	// dirDev is st_dev of each side of the directory being merged: a
	// subdirectory on it is read without a further look.
	dirDev [2]uint64
	cmp    *contentCmp
	diffs  []Difference
	counts [Failed + 1]int64
	hashed int64
	nested int64
}

func newLsWorker(fs fsys) *lsWorker {
	return &lsWorker{
		buf:   make([]byte, direntBuf),
		link:  make([]byte, unix.PathMax),
		cname: make([]byte, 0, 256),
		pbuf:  make([]byte, 0, 256),
		cmp:   newContentCmp(fs),
	}
}

// run is one worker's loop.
func (l *lockstep) run(w *lsWorker) {
	for {
		it, ok := l.stack.Pop()
		if !ok {
			return
		}
		l.process(w, &it)
		l.stack.Done(&w.children)
	}
}

func (l *lockstep) release(h *handle) {
	if h.root {
		return
	}
	if h.refs.Add(-1) == 0 {
		l.fs.close(h.fd)
		if h.pinned {
			l.pinned.Add(-1)
		}
	}
}

// fail records a Failed Difference for path, on side s.
func (l *lockstep) fail(w *lsWorker, path string, s int, err error) {
	w.diffs = append(w.diffs, Difference{Path: path, Change: Failed, Err: fmt.Errorf("%s: %w", sideNames[s], err)})
	w.counts[Failed]++
}

func vanished(err error) bool { return err == unix.ENOENT || err == unix.ENOTDIR }

// cstr returns s NUL-terminated in w's scratch buffer.
func (w *lsWorker) cstr(s string) []byte {
	w.cname = append(append(w.cname[:0], s...), 0)
	return w.cname
}

func join(dir string, name []byte) string {
	if dir == "/" {
		return "/" + string(name)
	}
	return dir + "/" + string(name)
}

// ignored reports whether dir/name matches an ignore rule (the path built
// in scratch space: nothing allocated).
func (l *lockstep) ignored(w *lsWorker, dir string, name []byte) bool {
	if l.ignore.Empty() {
		return false
	}
	w.pbuf = append(w.pbuf[:0], dir...)
	if dir != "/" {
		w.pbuf = append(w.pbuf, '/')
	}
	w.pbuf = append(w.pbuf, name...)
	return l.ignore.matchSelf(unsafe.String(unsafe.SliceData(w.pbuf), len(w.pbuf)))
}

// process reads the directory pair it and classifies every name in it.
func (l *lockstep) process(w *lsWorker, it *pairItem) {
	fd := [2]int{-1, -1}
	ok := true
	for s := range 2 {
		if !it.has[s] {
			continue
		}
		if ok {
			fd[s] = l.openDir(w, it, s)
			ok = fd[s] >= 0
		}
		if it.parent[s] != nil {
			l.release(it.parent[s])
		}
	}
	for s := range 2 {
		if ok && fd[s] >= 0 {
			ok = l.list(w, it, s, fd[s])
		}
	}
	isRoot := it.path == "/"
	if !ok || l.stop.Load() {
		for s := range 2 {
			if fd[s] >= 0 && !isRoot {
				l.fs.close(fd[s])
			}
		}
		return
	}
	w.dirDev = it.dev
	// The merge needs both listings in one order; a side read alone needs
	// none, and two copies on one filesystem often list in the same order.
	if fd[0] >= 0 && fd[1] >= 0 && !w.sameOrder() {
		for s := range 2 {
			ar := w.arena[s]
			slices.SortFunc(w.ents[s], func(x, y dent) int {
				return bytes.Compare(ar[x.off:x.off+x.n], ar[y.off:y.off+y.n])
			})
		}
	}
	l.merge(w, it.path, fd)
	for s := range 2 {
		if fd[s] >= 0 {
			l.hand(w, s, fd[s], isRoot)
		}
	}
}

// hand gives the open directory fd of side s to the children that need
// it, or closes it: none does, or too many descriptors are kept already
// (they then reopen from the root by path).
func (l *lockstep) hand(w *lsWorker, s, fd int, isRoot bool) {
	var h *handle
	if isRoot {
		h = l.root[s]
	} else {
		n := int32(0)
		for i := range w.children {
			if w.children[i].has[s] {
				n++
			}
		}
		if n == 0 || l.pinned.Add(1) > l.maxPinned {
			if n > 0 {
				l.pinned.Add(-1)
			}
			l.fs.close(fd)
			return
		}
		h = &handle{fd: fd, pinned: true}
		h.refs.Store(n)
	}
	for i := range w.children {
		if w.children[i].has[s] {
			w.children[i].parent[s] = h
		}
	}
}

// openDir opens side s of it: from its parent's descriptor, else from the
// root by its whole path (openat2 resolves it beneath the root, no symlink
// followed). It returns -1 after recording a failure.
func (l *lockstep) openDir(w *lsWorker, it *pairItem, s int) int {
	if it.path == "/" {
		return l.root[s].fd
	}
	pfd, name := l.root[s].fd, it.path[1:]
	if p := it.parent[s]; p != nil {
		pfd, name = p.fd, it.path[it.nameOff:]
	}
	fd, err := l.fs.open(pfd, w.cstr(name), dirFlags)
	if err == unix.ENAMETOOLONG && it.parent[s] == nil {
		fd, err = l.openComponents(w, s, name)
	}
	if err != nil {
		switch err {
		case unix.ENOENT:
			err = errDirRemoved
		case unix.ELOOP, unix.ENOTDIR:
			err = errDirReplaced
		default:
			err = os.NewSyscallError("openat2", err)
		}
		l.fail(w, it.path, s, err)
		return -1
	}
	return fd
}

// openComponents opens the directory rel (relative to side s's root, too
// long for one openat2: PATH_MAX) one component at a time.
func (l *lockstep) openComponents(w *lsWorker, s int, rel string) (int, error) {
	cur := l.root[s].fd
	for {
		comp, rest, more := strings.Cut(rel, "/")
		fd, err := l.fs.open(cur, w.cstr(comp), dirFlags)
		if cur != l.root[s].fd {
			l.fs.close(cur)
		}
		if err != nil || !more {
			return fd, err
		}
		cur, rel = fd, rest
	}
}

// list reads the directory fd (side s of it) into w.arena[s] and
// w.ents[s]. The first batch's "." record (else fstat) must show the
// directory lstat'ed when it was found.
func (l *lockstep) list(w *lsWorker, it *pairItem, s, fd int) bool {
	w.arena[s] = w.arena[s][:0]
	w.ents[s] = w.ents[s][:0]
	check := it.path != "/"
	for {
		if l.stop.Load() {
			return false
		}
		n, err := l.fs.getdents(fd, w.buf)
		if err != nil {
			if err == unix.ENOENT {
				err = errDirRemoved
			} else {
				err = os.NewSyscallError("getdents64", err)
			}
			l.fail(w, it.path, s, err)
			return false
		}
		if n <= 0 {
			return true
		}
		if check {
			if !l.same(w, it, s, fd, w.buf[:n]) {
				return false
			}
			check = false
		}
		for buf := w.buf[:n]; len(buf) > 0; {
			var namez []byte
			var typ uint8
			namez, typ, buf = scan.NextDirent(buf)
			if namez == nil {
				continue
			}
			w.ents[s] = append(w.ents[s], dent{off: uint32(len(w.arena[s])), n: uint32(len(namez) - 1), typ: typ})
			w.arena[s] = append(w.arena[s], namez...)
		}
	}
}

// same reports whether the directory open as fd is side s of it (see list),
// recording a failure when it is not.
func (l *lockstep) same(w *lsWorker, it *pairItem, s, fd int, first []byte) bool {
	if dot, ok := scan.DotIno(first); ok && dot == it.ino[s] {
		return true
	}
	if err := l.fs.fstat(fd, &w.fst[s]); err != nil {
		l.fail(w, it.path, s, os.NewSyscallError("fstat", err))
		return false
	}
	if uint64(w.fst[s].Dev) != it.dev[s] || w.fst[s].Ino != it.ino[s] {
		l.fail(w, it.path, s, errDirReplaced)
		return false
	}
	return true
}

// sameOrder reports whether both listings hold the same names in the same
// order (then the merge pairs them without sorting).
func (w *lsWorker) sameOrder() bool {
	ea, eb := w.ents[0], w.ents[1]
	if len(ea) != len(eb) {
		return false
	}
	ar, br := w.arena[0], w.arena[1]
	for i := range ea {
		if !bytes.Equal(ar[ea[i].off:ea[i].off+ea[i].n], br[eb[i].off:eb[i].off+eb[i].n]) {
			return false
		}
	}
	return true
}

// merge walks the listings of the directory dir (open as fd[s] on each
// side read; -1 on a side not read) in step: both in byte order, or (see
// sameOrder) in one same order.
func (l *lockstep) merge(w *lsWorker, dir string, fd [2]int) {
	ea, eb := w.ents[0], w.ents[1]
	if fd[0] < 0 {
		ea = nil
	}
	if fd[1] < 0 {
		eb = nil
	}
	ar, br := w.arena[0], w.arena[1]
	for i, j, k := 0, 0, 0; i < len(ea) || j < len(eb); k++ {
		if k%cancelEvery == cancelEvery-1 {
			select {
			case <-l.cancelled:
				l.stop.Store(true)
			default:
			}
			if l.stop.Load() {
				return
			}
		}
		var c int
		switch {
		case i == len(ea):
			c = 1
		case j == len(eb):
			c = -1
		default:
			c = bytes.Compare(ar[ea[i].off:ea[i].off+ea[i].n], br[eb[j].off:eb[j].off+eb[j].n])
		}
		switch {
		case c < 0:
			d := ea[i]
			l.one(w, 0, fd[0], dir, ar[d.off:d.off+d.n+1])
			i++
		case c > 0:
			d := eb[j]
			l.one(w, 1, fd[1], dir, br[d.off:d.off+d.n+1])
			j++
		default:
			da, db := ea[i], eb[j]
			l.both(w, fd, dir, ar[da.off:da.off+da.n+1], da.typ, db.typ)
			i++
			j++
		}
	}
}

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
	l.fail(w, join(dir, namez[:len(namez)-1]), s, os.NewSyscallError("fstatat", err))
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
	d := Difference{Path: p, Change: Removed, A: e}
	if s == 1 {
		d = Difference{Path: p, Change: Added, B: e}
	}
	w.diffs = append(w.diffs, d)
	w.counts[d.Change]++
	if st.Mode&unix.S_IFMT == unix.S_IFDIR && (uint64(st.Dev) == w.dirDev[s] || l.nested(w, s, dirfd, p, namez)) {
		it := pairItem{path: p, nameOff: len(p) - len(name)}
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
	var present [2]bool
	failed := false
	for s := range 2 {
		var bad bool
		present[s], bad = l.lstat(w, s, fd[s], dir, namez)
		failed = failed || bad
	}
	if !failed {
		l.classify(w, fd, dir, namez, present, [2]int{-1, -1}, [2]error{})
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
	var present [2]bool
	failed := false
	for s := range 2 {
		f, err := l.openFile(fd[s], namez)
		if err == nil {
			if err = l.fs.fstat(f, &w.st[s]); err != nil {
				l.fs.close(f)
				l.fail(w, join(dir, namez[:len(namez)-1]), s, os.NewSyscallError("fstat", err))
				failed = true
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
		var bad bool
		present[s], bad = l.lstat(w, s, fd[s], dir, namez)
		failed = failed || bad
	}
	if !failed {
		l.classify(w, fd, dir, namez, present, ffd, oerr)
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

// pinCap bounds the directory descriptors kept open for pending
// subdirectories (both trees together): a quarter of the soft
// RLIMIT_NOFILE, at most 4096.
func pinCap(workers int) int {
	n := 1024
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) == nil && rl.Cur < 1<<30 {
		n = int(rl.Cur)/4 - 4*workers
	}
	return min(max(n, 8), 4096)
}
