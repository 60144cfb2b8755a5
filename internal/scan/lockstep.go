//go:build linux

package scan

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/fsys"
)

// The lockstep walk of two trees (WalkPair): one work item is a directory
// of the same path in A and B (or, for a subtree only one tree has, in that
// one), both opened below their roots with openat2(RESOLVE_BENEATH|
// RESOLVE_NO_SYMLINKS) from their parents' descriptors. A worker lists
// both with getdents64, sorts each side's names (unless both sides list
// the same names in the same order) and merges them: a name on one side
// only goes to PairVisitor.One once lstat'ed, a name on both to
// PairVisitor.Both, which queue the directories to read next
// (PairWorker.Children). Nothing holds more than the directories in
// flight: no map of paths, no path string for a name the visitor does not
// ask for.

const (
	// pairDirFlags open a directory of either tree (fsys.FS.OpenBeneath).
	pairDirFlags = unix.O_RDONLY | unix.O_DIRECTORY
	// cancelEvery is how many names a worker merges between two looks at
	// the context.
	cancelEvery = 256
)

var (
	// ErrDirReplaced is the error of a directory of either tree replaced
	// (by another inode, a symlink, a file) between its lstat and its
	// read: it is not read.
	ErrDirReplaced = errors.New("directory replaced during the walk; not read")
	// ErrDirRemoved is the error of a directory of either tree removed
	// before it was read.
	ErrDirRemoved = errors.New("directory removed during the walk; not read")
)

// PairItem is a directory to read in A, B or both: queued by a
// PairVisitor (PairWorker.Children) for a directory of that path it found
// on the sides in Has.
type PairItem struct {
	Path    string // relative to the roots, starting with "/"
	NameOff int    // Path[NameOff:] is its name in its parent
	Has     [2]bool
	// Dev and Ino are what each side's lstat saw: the directory opened
	// must be that one (else ErrDirReplaced).
	Dev, Ino [2]uint64
	// State is the visitor's, handed back in PairWorker.State while the
	// item's names are merged. When side A of an item with a State cannot
	// be opened or listed, side B is read alone and Quiet set (the
	// visitor then reads it for State's sake only).
	State any
	Quiet bool

	parent [2]*dirHandle // nil: reopened from the root by path
}

// dent is one name of a directory listing: arena[off:off+n], NUL at
// arena[off+n].
type dent struct {
	off, n uint32
	typ    uint8
}

// PairWorker is one worker of a WalkPair: its scratch space, and what the
// PairVisitor is told of the directory pair being merged. A worker calls
// the visitor for one name at a time; per-worker state needs no lock.
type PairWorker struct {
	// ID is the worker's index, 0 ≤ ID < PairOptions.Workers.
	ID int
	// St holds each side's lstat of the name being handled: filled by
	// WalkPair before One, by the visitor (Lstat) for Both. Fst is more
	// room, for the visitor's fstat of an open file.
	St, Fst [2]unix.Stat_t
	// DirDev is st_dev of each side of the directory being merged: a
	// subdirectory on it is read without a further look (Reads).
	DirDev [2]uint64
	// State and Quiet are those of the directory being merged (PairItem).
	State any
	Quiet bool
	// Children are the directories to read next, appended by the visitor.
	Children []PairItem
	// Nested counts the nested subvolumes read (Reads), each side its own.
	Nested int64

	l     *pairWalk
	buf   []byte
	link  []byte
	cname []byte
	pbuf  []byte
	arena [2][]byte
	ents  [2][]dent
}

// PairVisitor is what a WalkPair does with the names it finds. Each
// name is NUL-terminated (namez[len(namez)-1] == 0) and found in the
// directory dir (its path, "/" for the roots) open as dirfd on side s
// (0 for A, 1 for B), or as fd[s] on each side.
type PairVisitor interface {
	// One handles a name listed on side s only, lstat'ed into w.St[s]
	// (gone meanwhile: not called).
	One(w *PairWorker, s, dirfd int, dir string, namez []byte)
	// Both handles a name listed on both sides, typ its d_type on each.
	Both(w *PairWorker, fd [2]int, dir string, namez []byte, typ [2]uint8)
	// Fail receives trouble reading side s at path: op is the system call
	// that failed ("openat", "getdents", "fstat", "fstatat",
	// "readlinkat") and err its unix.Errno; op "mountid" says the
	// directory at path is on another device and its mount ID could not
	// be read (err says why: it is not read); op "" gives
	// ErrDirReplaced for a directory that is not the one lstat'ed.
	Fail(w *PairWorker, path string, s int, op string, err error)
}

// PairOptions tune WalkPair.
type PairOptions struct {
	// FS makes the system calls (fsys.Real for the running kernel).
	FS fsys.FS
	// Workers walk the trees; at least 1.
	Workers int
	// MaxPinned bounds the directory descriptors kept open for pending
	// subdirectories; 0 is a quarter of RLIMIT_NOFILE (pinCap).
	MaxPinned int
	// Skip, unless nil, reports whether a path (of a name in either tree)
	// is left out, with everything below it. The string is only valid
	// during the call.
	Skip func(path string) bool
	// RootState is the root item's PairItem.State.
	RootState any
	// Done, unless nil, is called by the worker that processed a
	// directory item once every name in it was handed to the visitor (or
	// reading it failed), before its subdirectories are queued.
	Done func(w *PairWorker, it *PairItem)
}

// pairWalk is the shared state of one WalkPair: the stack of directory
// items (depth first keeps few directory descriptors open) and what
// every worker reads.
type pairWalk struct {
	dirs
	v    PairVisitor
	skip func(string) bool
	done func(*PairWorker, *PairItem)
	root [2]*dirHandle
	// rootMnt is the mount ID of each root (rootMntErr why it is not
	// known): a directory on another device with the same mount ID is a
	// nested subvolume, read; another mount ID is a mount point, not read.
	rootMnt    [2]uint64
	rootMntErr [2]error
	stop       atomic.Bool
	cancelled  <-chan struct{}
	stack      *Stack[PairItem]
}

// WalkPair walks the directories open as roots[0] (A) and roots[1] (B),
// whose st_dev are rootDev, in lockstep, in parallel, never following a
// symlink, and hands every name found in either to v. Each side stays on
// its root's mount: a directory on another device is read when it is on
// the root's mount (a nested btrfs subvolume: the same mount ID, statx
// STATX_MNT_ID), not when it is a mount point (Reads). The roots are not
// closed. WalkPair returns the sum of the workers' Nested, and whether it
// was interrupted (ctx cancelled): then not every name was visited.
//
// System calls per directory read on both sides, A's and B's together: 2
// openat2, 4 getdents64 and 2 close; per name, what the visitor makes.
func WalkPair(ctx context.Context, roots [2]int, rootDev [2]uint64, opts PairOptions, v PairVisitor) (nested int64, interrupted bool) {
	maxPinned := opts.MaxPinned
	if maxPinned <= 0 {
		maxPinned = pinCap(4 * opts.Workers)
	}
	l := &pairWalk{v: v, skip: opts.Skip, done: opts.Done, cancelled: ctx.Done()}
	l.fs, l.maxPinned = opts.FS, int32(maxPinned)
	l.root = [2]*dirHandle{{fd: roots[0], root: true}, {fd: roots[1], root: true}}
	for s, fd := range roots {
		l.rootMnt[s], l.rootMntErr[s] = fsys.MountID(fd, "", unix.AT_EMPTY_PATH)
	}
	root := PairItem{Path: "/", NameOff: 1, Has: [2]bool{true, true}, Dev: rootDev, State: opts.RootState}
	l.stack = NewStack(&l.stop, 0, root)
	stopWatch := context.AfterFunc(ctx, func() {
		l.stop.Store(true)
		l.stack.Wake()
	})
	defer stopWatch()
	ws := make([]*PairWorker, opts.Workers)
	var wg sync.WaitGroup
	for i := range ws {
		ws[i] = &PairWorker{ID: i, l: l, buf: make([]byte, direntBuf), link: make([]byte, unix.PathMax), cname: make([]byte, 0, 256), pbuf: make([]byte, 0, 256)}
		wg.Go(func() { l.run(ws[i]) })
	}
	wg.Wait()
	for _, w := range ws {
		nested += w.Nested
	}
	// The watch runs in a goroutine of its own: a walk can finish before
	// it sets stop, and a cancelled walk is still an interrupted one.
	if l.stop.Load() || ctx.Err() != nil {
		// Items left on the stack still hold their parents' descriptors.
		for _, it := range l.stack.Left() {
			for _, p := range it.parent {
				if p != nil {
					l.release(p)
				}
			}
		}
		return nested, true
	}
	return nested, false
}

// run is one worker's loop.
func (l *pairWalk) run(w *PairWorker) {
	for {
		it, ok := l.stack.Pop()
		if !ok {
			return
		}
		l.process(w, &it)
		if l.done != nil {
			l.done(w, &it)
		}
		l.stack.Done(&w.Children)
	}
}

// cstr returns s NUL-terminated in w's scratch buffer.
func (w *PairWorker) cstr(s string) []byte {
	w.cname = append(append(w.cname[:0], s...), 0)
	return w.cname
}

// process reads the directory pair it and hands every name in it to the
// visitor.
func (l *pairWalk) process(w *PairWorker, it *PairItem) {
	w.State, w.Quiet = it.State, it.Quiet
	fd, ok := l.read(w, it)
	isRoot := it.Path == "/"
	if !ok || l.stop.Load() {
		for s := range 2 {
			if fd[s] >= 0 && !isRoot {
				l.fs.Close(fd[s])
			}
		}
		return
	}
	w.DirDev = it.Dev
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
	l.merge(w, it.Path, fd)
	for s := range 2 {
		if fd[s] >= 0 {
			l.hand(w, s, fd[s], isRoot)
		}
	}
}

// read opens and lists each side of it (fd[s], -1 on a side not read)
// and releases its parents; ok is false when it is not to be merged.
// When side A fails and side B is visited (PairItem.State), side B is
// read alone and w.Quiet set.
func (l *pairWalk) read(w *PairWorker, it *PairItem) (fd [2]int, ok bool) {
	fd, ok = [2]int{-1, -1}, true
	visitB := it.Has[1] && it.State != nil
	for s := range 2 {
		if !it.Has[s] {
			continue
		}
		if ok {
			fd[s] = l.openDir(w, it, s)
			ok = fd[s] >= 0
			if !ok && s == 0 && visitB {
				ok, w.Quiet = true, true
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
				if it.Path != "/" {
					l.fs.Close(fd[0])
				}
				fd[0] = -1
				ok, w.Quiet = true, true
			}
		}
	}
	return fd, ok
}

// hand gives the open directory fd of side s to the children that need
// it, or closes it: none does, or too many descriptors are kept already
// (they then reopen from the root by path).
func (l *pairWalk) hand(w *PairWorker, s, fd int, isRoot bool) {
	h := l.root[s]
	if !isRoot {
		n := int32(0)
		for i := range w.Children {
			if w.Children[i].Has[s] {
				n++
			}
		}
		if h = l.keep(fd, n); h == nil {
			return
		}
	}
	for i := range w.Children {
		if w.Children[i].Has[s] {
			w.Children[i].parent[s] = h
		}
	}
}

// openDir opens side s of it: from its parent's descriptor, else from the
// root by its whole path (openat2 resolves it beneath the root, no symlink
// followed; fsys.OpenZ opens one longer than PATH_MAX in chunks). It
// returns -1 after reporting a failure.
func (l *pairWalk) openDir(w *PairWorker, it *PairItem, s int) int {
	if it.Path == "/" {
		return l.root[s].fd
	}
	pfd, name := l.root[s].fd, it.Path[1:]
	if p := it.parent[s]; p != nil {
		pfd, name = p.fd, it.Path[it.NameOff:]
	}
	fd, err := l.fs.OpenBeneath(pfd, w.cstr(name), pairDirFlags)
	if err != nil {
		l.v.Fail(w, it.Path, s, "openat", err)
		return -1
	}
	return fd
}

// list reads the directory fd (side s of it) into w.arena[s] and
// w.ents[s]. The first batch's "." record (else fstat) must show the
// directory lstat'ed when it was found.
func (l *pairWalk) list(w *PairWorker, it *PairItem, s, fd int) bool {
	w.arena[s] = w.arena[s][:0]
	w.ents[s] = w.ents[s][:0]
	check := it.Path != "/"
	for {
		if l.stop.Load() {
			return false
		}
		n, err := l.fs.Getdents(fd, w.buf)
		if err != nil {
			l.v.Fail(w, it.Path, s, "getdents", err)
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
			namez, typ, buf = NextDirent(buf)
			if namez == nil {
				continue
			}
			w.ents[s] = append(w.ents[s], dent{off: uint32(len(w.arena[s])), n: uint32(len(namez) - 1), typ: typ})
			w.arena[s] = append(w.arena[s], namez...)
		}
	}
}

// same reports whether the directory open as fd is side s of it (see list),
// reporting a failure when it is not.
func (l *pairWalk) same(w *PairWorker, it *PairItem, s, fd int, first []byte) bool {
	if dot, ok := DotIno(first); ok && dot == it.Ino[s] {
		return true
	}
	if err := l.fs.Fstat(fd, &w.Fst[s]); err != nil {
		l.v.Fail(w, it.Path, s, "fstat", err)
		return false
	}
	if uint64(w.Fst[s].Dev) != it.Dev[s] || w.Fst[s].Ino != it.Ino[s] {
		l.v.Fail(w, it.Path, s, "", ErrDirReplaced)
		return false
	}
	return true
}

// sameOrder reports whether both listings hold the same names in the same
// order (then the merge pairs them without sorting).
func (w *PairWorker) sameOrder() bool {
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
func (l *pairWalk) merge(w *PairWorker, dir string, fd [2]int) {
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
			l.both(w, fd, dir, ar[da.off:da.off+da.n+1], [2]uint8{da.typ, db.typ})
			i++
			j++
		}
	}
}
