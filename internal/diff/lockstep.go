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
	// state is what liveSide.visit returned for side B of it (nil: side
	// B's entries below are not visited); quiet, that side B is read for
	// the visit alone, side A having failed: nothing below is compared.
	state any
	quiet bool
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
	live       *liveSide // nil: nothing but the comparison
}

// lsWorker is one worker's scratch space and results.
type lsWorker struct {
	id       int // scan.Entry.Worker of the entries it visits (liveSide)
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
	// state and quiet are those of the directory being merged.
	state any
	quiet bool
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
	// Side B is visited (liveSide): read it alone when side A fails.
	visitB := it.has[1] && it.state != nil
	w.state, w.quiet = it.state, it.quiet
	for s := range 2 {
		if !it.has[s] {
			continue
		}
		if ok {
			fd[s] = l.openDir(w, it, s)
			ok = fd[s] >= 0
			if !ok && s == 0 && visitB {
				ok, w.quiet = true, true
			}
		}
		if it.parent[s] != nil {
			l.release(it.parent[s])
		}
	}
	for s := range 2 {
		if ok && fd[s] >= 0 {
			ok = l.list(w, it, s, fd[s])
			if !ok && s == 0 && visitB {
				if it.path != "/" {
					l.fs.close(fd[0])
				}
				fd[0] = -1
				ok, w.quiet = true, true
			}
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
		if s == 1 {
			l.liveFail(w, it.path, "openat", err)
		}
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
			if s == 1 {
				l.liveFail(w, it.path, "getdents", err)
			}
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
		if s == 1 {
			l.liveFail(w, it.path, "fstat", err)
		}
		l.fail(w, it.path, s, os.NewSyscallError("fstat", err))
		return false
	}
	if uint64(w.fst[s].Dev) != it.dev[s] || w.fst[s].Ino != it.ino[s] {
		if s == 1 {
			l.liveFail(w, it.path, "", errDirReplaced)
		}
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
