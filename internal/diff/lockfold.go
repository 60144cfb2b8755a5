package diff

import (
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/scan"
)

// liveSide is what Check asks of Compare besides the comparison, when it
// compares the live tree (side B) with the previous root: that the walk
// visit side B's entries as scan.Walk would (the same Visitor, the same
// entries, the same errors), so that the live tree is read once for both
// the classification and the history (see Check's walkFolded).
type liveSide struct {
	// root is visit's state for side B's root (visit was called for the
	// root itself by the caller); nil visits nothing.
	root any
	// visit is called for every entry of side B below a directory whose
	// state is not nil, by the worker of Entry.Worker (scan.Visitor);
	// the state it returns for a directory is passed to its entries.
	visit scan.Visitor
	// onError receives the trouble reading side B where entries are
	// visited, as scan.Options.OnError would (its system call's name:
	// openat, getdents, fstat, fstatat, readlinkat).
	onError func(path string, err error)
	// outside receives a directory of side B that visit descends into but
	// the walk does not read (on another mount), with visit's state: the
	// caller walks it.
	outside func(path string, state any)
	// done, unless nil, is called for a directory item with a state once
	// the walk has merged it (or could not): clean when no Difference was
	// recorded in it and side A was read.
	done func(state any, clean bool)
	// entries counts the entries visited (scan.Stats.Entries, the root
	// excluded).
	entries atomic.Int64
}

// visitLive visits e, an entry of side B in the directory being merged
// (w.State), and returns the state for its entries: nil unless e is a
// directory visit descends into and the walk reads (read); one it does not
// read goes to liveSide.outside.
func (c *comparer) visitLive(w *scan.PairWorker, e *scan.Entry, read bool) any {
	e.Worker = w.ID
	c.live.entries.Add(1)
	state, descend := c.live.visit(w.State, e)
	if !descend || state == nil || e.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil
	}
	if !read {
		c.live.outside(e.Path, state)
		return nil
	}
	return state
}

// liveDone is scan.PairOptions.Done when liveSide.done is set: the
// Differences recorded since the worker's previous item are this item's.
func (c *comparer) liveDone(w *scan.PairWorker, it *scan.PairItem) {
	cw := c.ws[w.ID]
	n := len(cw.diffs)
	clean := n == cw.mark && !w.Quiet
	cw.mark = n
	if it.State != nil {
		c.live.done(it.State, clean)
	}
}

// liveFail reports trouble reading side B at path (op's error err) to
// liveSide.onError where side B is visited, as scan.Walk would: not an
// entry or directory gone meanwhile, nor a directory replaced by a
// symlink (op "" reports err as it is).
func (c *comparer) liveFail(w *scan.PairWorker, path, op string, err error) {
	if c.live == nil || w.State == nil {
		return
	}
	switch {
	case op == "":
	case scan.Vanished(err) || op == "openat" && err == unix.ELOOP:
		return
	default:
		err = os.NewSyscallError(op, err)
	}
	c.live.onError(path, err)
}

// liveAlone visits the name (NUL-terminated) of the directory dirfd of
// side B, lstat'ed into w.St[1], when side A could not be read there: it
// is not compared, and its subtree is read for the visit alone (quiet).
func (c *comparer) liveAlone(w *scan.PairWorker, dirfd int, dir string, namez []byte) {
	if c.live == nil || w.State == nil {
		return
	}
	name := namez[:len(namez)-1]
	st := &w.St[1]
	p := scan.Join(dir, name)
	var e scan.Entry
	scan.Fill(&e, p, st, 0)
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		w.ReadLink(1, dirfd, namez, &e)
	}
	read := w.Reads(1, dirfd, dir, namez)
	if state := c.visitLive(w, &e, read); state != nil {
		it := scan.PairItem{Path: p, NameOff: len(p) - len(name), State: state, Quiet: true}
		it.Has[1], it.Dev[1], it.Ino[1] = true, uint64(st.Dev), st.Ino
		w.Children = append(w.Children, it)
	}
}
