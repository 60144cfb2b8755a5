//go:build linux

package scan

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/fsys"
)

const (
	openRoot = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC
	openDir  = openRoot | unix.O_NOFOLLOW
	// direntBuf is each worker's getdents64 buffer.
	direntBuf = 32 << 10
)

// errReplaced is reported when a directory was replaced by another one
// (another inode, or a mount) between its lstat and its open.
var errReplaced = errors.New("directory replaced during the walk; not read")

// Walk walks root and calls visit for root itself (Entry.Path "/") and,
// below every directory visit asks to descend into, for each entry.
//
// Root is opened with O_DIRECTORY and no O_NOFOLLOW: callers pass a real
// directory (a symlink there is resolved once, like any other component of
// root's path). Below root Walk never follows a symlink: it lstat's every
// entry (fstatat with AT_SYMLINK_NOFOLLOW on its parent's descriptor) and
// opens only directories, with openat(parent, name,
// O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC). It never crosses or refuses a
// mount point on its own: the Visitor decides, from Entry.Dev, whether to
// descend. Names are kept byte for byte.
//
// Walk returns an error only when root cannot be opened or stat'ed, or
// when ctx is cancelled (then promptly, with the Stats so far). Trouble
// below root goes to Options.OnError and Walk carries on.
//
// Open descriptors stay bounded: a directory's descriptor is kept only
// while subdirectories it listed wait to be opened from it, and beyond a
// cap derived from RLIMIT_NOFILE those subdirectories are instead reopened
// component by component from root.
func Walk(ctx context.Context, root string, opts Options, visit Visitor) (Stats, error) {
	return walk(ctx, nil, root, opts, visit, 0)
}

// dirItem is a directory the Visitor chose to descend into, waiting to be
// opened and read.
type dirItem struct {
	parent   *dirHandle // nil: reopen from root by path
	path     string
	nameOff  int // path[nameOff:] is its name in its parent
	state    any
	dev, ino uint64
	// unchecked: counted into a Tally from its d_type, never lstat'ed, so
	// there is no identity for its open to match (dev and ino are 0).
	unchecked bool
}

type walker struct {
	dirs
	visit     Visitor
	onError   func(string, error)
	readLinks bool
	transient bool // Options.TransientPaths
	typesOnly bool // below a Tally, trust d_type for all but regular files (searchesAll)
	rootFD    int
	stop      atomic.Bool
	cancelled <-chan struct{} // ctx.Done(): closed by cancel() itself, before any AfterFunc runs
	stack     *Stack[dirItem] // the directories to read
}

// wstate is one worker's scratch space and counters.
type wstate struct {
	id   int // the worker's index, Entry.Worker
	buf  []byte
	link []byte
	name []byte
	path []byte // a transient Entry.Path (Options.TransientPaths)
	// paths is where the paths of subdirectories below a Tally are built
	// (tallyPath): appended to, never rewritten.
	paths    []byte
	children []dirItem
	e        Entry
	st       unix.Stat_t
	stats    Stats
}

// walk is Walk through fs; nil is fsys.Real, with raw system calls when
// RawCalls says so for the root opened.
func walk(ctx context.Context, fs fsys.FS, root string, opts Options, visit Visitor, maxPinned int) (Stats, error) {
	var stats Stats
	if err := ctx.Err(); err != nil {
		return stats, err
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = DefaultWorkers()
	}
	if maxPinned <= 0 {
		maxPinned = pinCap(workers)
	}
	decideRaw := fs == nil
	if decideRaw {
		fs = fsys.Real{}
	}
	w := &walker{visit: visit, onError: opts.OnError, readLinks: opts.ReadLinks, transient: opts.TransientPaths, typesOnly: searchesAll(), cancelled: ctx.Done()}
	w.fs, w.maxPinned = fs, int32(maxPinned)

	croot := append([]byte(root), 0)
	fd, err := fs.Openat(unix.AT_FDCWD, croot, openRoot)
	if err != nil {
		return stats, &os.PathError{Op: "open", Path: root, Err: err}
	}
	w.rootFD = fd
	if decideRaw {
		w.fs = fsys.Real{Raw: RawCalls(workers, fd)}
	}
	ws := newWState()
	if err := fs.Fstatat(fd, []byte{0}, &ws.st, unix.AT_EMPTY_PATH); err != nil {
		fs.Close(fd)
		return stats, &os.PathError{Op: "stat", Path: root, Err: err}
	}
	rootH := &dirHandle{fd: fd}
	rootH.refs.Store(1) // Walk's own reference, dropped at the end
	defer w.release(rootH)

	Fill(&ws.e, "/", &ws.st, ws.id)
	ws.stats.Entries++
	state, descend := visit(nil, &ws.e)
	if !descend || ws.e.Mode&unix.S_IFMT != unix.S_IFDIR {
		return ws.stats, nil
	}

	stats = w.readAll(ctx, ws, workers, rootH, state)
	// The watch runs in a goroutine of its own: a walk can finish before
	// it sets stop, and a cancelled walk is still an interrupted one.
	if w.stop.Load() || ctx.Err() != nil {
		return stats, ctx.Err()
	}
	return stats, nil
}

// readAll reads the root (open as rootH, visited by ws with the state
// state) with workers workers, ws the first, and everything below it that
// the Visitor descends into; it returns their Stats summed.
func (w *walker) readAll(ctx context.Context, ws *wstate, workers int, rootH *dirHandle, state any) (stats Stats) {
	// The root is read by the first worker; the others wait for its
	// subdirectories.
	w.stack = NewStack[dirItem](&w.stop, 1)
	stopWatch := context.AfterFunc(ctx, func() {
		w.stop.Store(true)
		w.stack.Wake()
	})
	defer stopWatch()

	all := make([]*wstate, workers)
	all[0] = ws
	var wg sync.WaitGroup
	for i := range workers {
		if all[i] == nil {
			all[i] = newWState()
		}
		all[i].id = i
		wg.Add(1)
		go func(ws *wstate, first bool) {
			defer wg.Done()
			if first {
				w.read(ws, rootH.fd, rootH, "/", state, nil)
				w.stack.Done(&ws.children)
			}
			for {
				it, ok := w.stack.Pop()
				if !ok {
					return
				}
				w.openAndRead(ws, &it)
				w.stack.Done(&ws.children)
			}
		}(all[i], i == 0)
	}
	wg.Wait()

	// After a cancellation, items left on the stack still hold their
	// parents' descriptors.
	for _, it := range w.stack.Left() {
		if it.parent != nil {
			w.release(it.parent)
		}
	}
	for _, ws := range all {
		stats.Entries += ws.stats.Entries
		stats.Dirs += ws.stats.Dirs
		stats.Errors += ws.stats.Errors
		stats.Vanished += ws.stats.Vanished
		stats.Tallied += ws.stats.Tallied
	}
	return stats
}

func newWState() *wstate {
	return &wstate{
		buf:  make([]byte, direntBuf),
		link: make([]byte, unix.PathMax),
		name: make([]byte, 0, 256),
	}
}

func (w *walker) fail(ws *wstate, path string, op string, err error) {
	ws.stats.Errors++
	if w.onError != nil {
		w.onError(path, os.NewSyscallError(op, err))
	}
}

// cname returns name NUL-terminated in ws's scratch buffer.
func (ws *wstate) cname(name string) []byte {
	ws.name = append(append(ws.name[:0], name...), 0)
	return ws.name
}

// openAndRead opens the directory of it and reads it.
func (w *walker) openAndRead(ws *wstate, it *dirItem) {
	pfd := w.rootFD
	if it.parent != nil {
		pfd = it.parent.fd
		defer w.release(it.parent)
	} else if it.nameOff > 1 {
		var ok bool
		if pfd, ok = w.openPath(ws, it.path[:it.nameOff-1]); !ok {
			return
		}
		defer w.fs.Close(pfd)
	}
	name := ws.cname(it.path[it.nameOff:])
	fd, err := w.fs.Openat(pfd, name, openDir)
	if err != nil {
		_, tallied := it.state.(*Tally)
		switch {
		case tallied && (err == unix.ELOOP || err == unix.ENOTDIR):
			// Replaced by a non-directory since it was listed and
			// counted.
		case err == unix.ELOOP || err == unix.ENOTDIR:
			w.retype(ws, pfd, name, it)
		case Vanished(err):
			ws.stats.Vanished++
		default:
			w.fail(ws, it.path, "openat", err)
		}
		return
	}
	check := it
	if it.unchecked {
		check = nil
	}
	w.read(ws, fd, nil, it.path, it.state, check)
}

// same reports whether the directory open as fd is the one lstat'ed as
// it. The "." record of its first getdents batch (first) normally says so
// for free; without it, or when its inode number differs (overlayfs), fstat
// decides. A mismatch is reported.
func (w *walker) same(ws *wstate, fd int, it *dirItem, first []byte) bool {
	if dot, ok := DotIno(first); ok && dot == it.ino {
		return true
	}
	if err := w.fs.Fstatat(fd, []byte{0}, &ws.st, unix.AT_EMPTY_PATH); err != nil {
		w.fail(ws, it.path, "fstat", err)
		return false
	}
	if uint64(ws.st.Dev) != it.dev || ws.st.Ino != it.ino {
		ws.stats.Errors++
		if w.onError != nil {
			w.onError(it.path, errReplaced)
		}
		return false
	}
	return true
}

// retype handles a directory that openat refused with ELOOP or ENOTDIR: it
// was replaced by a symlink or a file after its lstat. The Visitor sees it
// again, as what it is now; nothing is followed.
func (w *walker) retype(ws *wstate, pfd int, name []byte, it *dirItem) {
	if err := w.fs.Fstatat(pfd, name, &ws.st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if Vanished(err) {
			ws.stats.Vanished++
		} else {
			w.fail(ws, it.path, "fstatat", err)
		}
		return
	}
	if ws.st.Mode&unix.S_IFMT == unix.S_IFDIR {
		// A directory again: it changed twice. Report rather than chase it.
		ws.stats.Errors++
		if w.onError != nil {
			w.onError(it.path, errReplaced)
		}
		return
	}
	Fill(&ws.e, it.path, &ws.st, ws.id)
	ws.e.Replaced = true
	if w.readLinks && ws.st.Mode&unix.S_IFMT == unix.S_IFLNK {
		ws.e.Target = w.readLink(ws, pfd, it.path[:it.nameOff-1], name)
	}
	ws.stats.Entries++
	w.visit(it.state, &ws.e)
}

// openPath opens the directory at path (relative to root, "/a/b") one
// component at a time, never following a symlink. It is the fallback for
// subdirectories whose parent's descriptor was not kept.
func (w *walker) openPath(ws *wstate, path string) (int, bool) {
	cur := w.rootFD
	for rest := path[1:]; ; {
		comp := rest
		i := indexByte(rest, '/')
		if i >= 0 {
			comp, rest = rest[:i], rest[i+1:]
		}
		fd, err := w.fs.Openat(cur, ws.cname(comp), openDir)
		if cur != w.rootFD {
			w.fs.Close(cur)
		}
		if err != nil {
			if Vanished(err) || err == unix.ELOOP {
				ws.stats.Vanished++ // an ancestor moved or changed type
			} else {
				w.fail(ws, path, "openat", err)
			}
			return -1, false
		}
		cur = fd
		if i < 0 {
			return cur, true
		}
	}
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// read lists the open directory fd (Entry.Path dir), visits each entry and
// collects in ws.children the subdirectories to read next. It closes fd,
// or hands it to those children. own is fd's handle when it already has
// one (the root). it, unless nil, is what fd must be (see same).
func (w *walker) read(ws *wstate, fd int, own *dirHandle, dir string, state any, it *dirItem) {
	ws.stats.Dirs++
	for !w.stop.Load() {
		n, err := w.fs.Getdents(fd, ws.buf)
		if err != nil {
			if !Vanished(err) { // ENOENT: the directory was removed while read
				w.fail(ws, dir, "getdents", err)
			}
			break
		}
		if n <= 0 {
			break
		}
		if it != nil {
			if !w.same(ws, fd, it, ws.buf[:n]) {
				ws.stats.Dirs--
				break
			}
			it = nil
		}
		if t, ok := state.(*Tally); ok {
			w.tally(ws, fd, dir, t, ws.buf[:n])
		} else {
			w.entries(ws, fd, dir, state, ws.buf[:n])
		}
	}
	if w.stop.Load() {
		clear(ws.children)
		ws.children = ws.children[:0]
	}
	if own != nil {
		own.refs.Add(int32(len(ws.children)))
		for i := range ws.children {
			ws.children[i].parent = own
		}
		return
	}
	h := w.keep(fd, int32(len(ws.children)))
	if h == nil {
		return // children, if any, reopen from root by path
	}
	for i := range ws.children {
		ws.children[i].parent = h
	}
}

// entries handles one getdents64 batch of linux_dirent64 records.
func (w *walker) entries(ws *wstate, fd int, dir string, state any, buf []byte) {
	for len(buf) > 0 {
		if w.stop.Load() {
			return
		}
		select {
		case <-w.cancelled:
			w.stop.Store(true)
			return
		default:
		}
		var name []byte // NUL-terminated
		name, _, buf = NextDirent(buf)
		if name == nil {
			continue
		}
		nl := len(name) - 1
		if !w.lstat(ws, fd, dir, name) {
			continue
		}
		typ := ws.st.Mode & unix.S_IFMT
		transient := w.transient && typ != unix.S_IFDIR
		var p string
		if transient {
			ws.path = appendJoin(ws.path[:0], dir, name[:nl])
			p = unsafe.String(unsafe.SliceData(ws.path), len(ws.path))
		} else {
			p = Join(dir, name[:nl])
		}
		Fill(&ws.e, p, &ws.st, ws.id)
		ws.e.Transient = transient
		if w.readLinks && typ == unix.S_IFLNK {
			ws.e.Target = w.readLink(ws, fd, dir, name)
		}
		ws.stats.Entries++
		st, descend := w.visit(state, &ws.e)
		if descend && typ == unix.S_IFDIR {
			ws.children = append(ws.children, dirItem{
				path: p, nameOff: len(p) - nl, state: st,
				dev: uint64(ws.st.Dev), ino: ws.st.Ino,
			})
		}
	}
}

// tally counts one getdents64 batch of a directory read for t (see Tally).
// Every entry is lstat'ed and, with Options.ReadLinks, every symlink read,
// as entries does, so that the same entries are counted and the same
// errors reported as a visit of each would find; with w.typesOnly, only
// regular files (and entries of unknown type) are. Subdirectories go to
// ws.children with t as their state.
func (w *walker) tally(ws *wstate, fd int, dir string, t *Tally, buf []byte) {
	var n, size, socks int64
	defer func() {
		t.Entries.Add(n)
		t.Bytes.Add(size)
		t.Sockets.Add(socks)
		ws.stats.Tallied += n
	}()
	select {
	case <-w.cancelled:
		w.stop.Store(true)
		return
	default:
	}
	for len(buf) > 0 {
		if w.stop.Load() {
			return
		}
		var name []byte // NUL-terminated
		var typ uint8
		name, typ, buf = NextDirent(buf)
		if name == nil {
			continue
		}
		nl := len(name) - 1
		if t.Skip != nil && t.Skip(name[:nl]) {
			ws.stats.Tallied++ // visited, as a visit that stops there is
			t.skip(Join(dir, name[:nl]))
			continue
		}
		if w.typesOnly && typ != unix.DT_REG && typ != unix.DT_UNKNOWN {
			n++
			if typ == unix.DT_SOCK {
				socks++
			}
			if typ == unix.DT_DIR {
				p := ws.tallyPath(dir, name[:nl])
				ws.children = append(ws.children, dirItem{path: p, nameOff: len(p) - nl, state: t, unchecked: true})
			}
			continue
		}
		if !w.lstat(ws, fd, dir, name) {
			continue
		}
		n++
		switch ws.st.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			size += ws.st.Size
		case unix.S_IFDIR:
			p := ws.tallyPath(dir, name[:nl])
			ws.children = append(ws.children, dirItem{path: p, nameOff: len(p) - nl, state: t, dev: uint64(ws.st.Dev), ino: ws.st.Ino})
		case unix.S_IFLNK:
			if w.readLinks {
				w.readLink(ws, fd, dir, name)
			}
		case unix.S_IFSOCK:
			socks++
		}
	}
}

// lstat lstats name (NUL-terminated) in the directory fd, whose path is
// dir, into ws.st. An entry gone meanwhile is counted as vanished, other
// trouble reported; either way it returns false.
func (w *walker) lstat(ws *wstate, fd int, dir string, name []byte) bool {
	err := w.fs.Fstatat(fd, name, &ws.st, unix.AT_SYMLINK_NOFOLLOW)
	switch {
	case err == nil:
		return true
	case Vanished(err):
		ws.stats.Vanished++
	default:
		w.fail(ws, Join(dir, name[:len(name)-1]), "fstatat", err)
	}
	return false
}

// readLink returns the target of the symlink name (NUL-terminated) in the
// directory dirfd, whose path is dir; "" when it cannot be read: the error
// is reported unless the link is gone or no longer a symlink.
func (w *walker) readLink(ws *wstate, dirfd int, dir string, name []byte) string {
	t, err := ReadLink(&ws.link, func(buf []byte) (int, error) { return w.fs.Readlinkat(dirfd, name, buf) })
	if err != nil {
		if !Vanished(err) && err != unix.EINVAL { // EINVAL: no longer a symlink
			w.fail(ws, Join(dir, name[:len(name)-1]), "readlinkat", err)
		}
		return ""
	}
	return t
}

// searchesAll reports whether this process may search every directory:
// CAP_DAC_READ_SEARCH or CAP_DAC_OVERRIDE in its effective set (root). Then
// an entry a directory listing names can fail its lstat only through the
// filesystem (an I/O error, corruption), and a Tally may take the other
// types from d_type. Tests replace it.
var searchesAll = func() bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if unix.Capget(&hdr, &data[0]) != nil {
		return false
	}
	return data[0].Effective&(1<<unix.CAP_DAC_READ_SEARCH|1<<unix.CAP_DAC_OVERRIDE) != 0
}

// Fill sets e to the entry at path that st (from lstat) describes, visited
// by worker; Target is left empty. Walk fills every Entry with it, and
// internal/diff its entries of two trees.
func Fill(e *Entry, path string, st *unix.Stat_t, worker int) {
	*e = Entry{
		Worker: worker,
		Path:   path,
		Mode:   st.Mode,
		Size:   st.Size,
		Bytes:  st.Blocks * 512,
		Ino:    st.Ino,
		Dev:    uint64(st.Dev),
		Nlink:  uint64(st.Nlink),
		Uid:    st.Uid,
		Gid:    st.Gid,
		Mtime:  int64(st.Mtim.Sec)*1e9 + int64(st.Mtim.Nsec),
	}
}
