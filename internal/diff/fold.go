package diff

import (
	"context"
	"errors"
	"os"
	"path"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"

	ifsys "github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/scan"
)

// With a previous root, Check reads the live tree once: the walk that
// classifies it is the lockstep walk (Compare) of the previous root
// against the filesystem at / that the history needs (lockhist.go), its
// side B's entries visited as scan.Walk would visit them (liveSide). The
// lockstep walk stays on the filesystem at /; what the classification
// walks beyond it (an ephemeral mount, the way to one below a persistent
// mount) is walked after it with scan.Walk, as before. Where the
// comparison reads the filesystem at / beneath its mounts (the view of
// Config.Under), the entry classified at a mount point is the one
// visible in Config.Root, and what lies under it is left to the shadowed
// walk.
//
// A directory lost whole (Config.Collapse) on that filesystem is not
// counted through a scan.Tally but listed, its entries kept aside
// (setAside): whether its history is uniform is known only once the walk
// is over, and then the history lists what a non-uniform one holds
// (expandAside) without reading it again.

// fold is the state of Check's single walk with the history.
type fold struct {
	on  bool        // the classification walk is the lockstep walk
	cmp *Comparison // its comparison, for the history
	// rootFD is Config.Root open (O_PATH), to look at a mount point as
	// Config.Root shows it.
	rootFD int
	// outside are the directories to walk after the lockstep walk.
	outside []outsideDir
	// collapsed are the directories lost whole on the filesystem at /;
	// aside, once the walk's items are in order, what each holds.
	collapsed map[*Item]bool
	aside     map[*Item][]*Item
	// view is Config.Under's view of the filesystem at /, opened before
	// the walk (viewErr: why not); shadowed uses it.
	view      *view
	viewErr   error
	viewTried bool
}

type outsideDir struct {
	path  string
	state any
}

// foldWalk is off in tests that hold Check's one walk against the
// classification walk and the lockstep walk apart.
var foldWalk = true

// folds reports whether Check walks with the history (fold).
func (c *classifier) folds() bool {
	p := c.cfg.PreviousRoot
	return foldWalk && lockstepHistory && p != nil && p.Dir != "" && !c.cfg.MountsOnly
}

// openRootView opens the view of the filesystem at / (rootMount) beneath
// its mount points, as shadowed would, when Config.Under is set and
// something is mounted on it.
func (c *classifier) openRootView(t *mounts.Table) {
	rootMount := c.tree.mount(rootNode)
	if c.cfg.Under == nil || len(c.shadowPoints(t, rootMount)) == 0 {
		return
	}
	c.fold.viewTried = true
	dir, release, err := c.cfg.Under(rootMount.MountPoint)
	if err != nil {
		c.fold.viewErr = err
		return
	}
	c.fold.view = &view{mountPoint: rootMount.MountPoint, dir: dir, release: release}
	c.views = append(c.views, *c.fold.view)
	c.rootView = dir
}

// walkFolded is Check's walk with the history: the lockstep walk of the
// previous root against the filesystem at /, then scan.Walk of what lies
// beyond it. ok is false when the previous root cannot be compared
// (Compare cannot open it): nothing was walked, and Check walks as
// without a history.
func (c *classifier) walkFolded(ctx context.Context, opts scan.Options) (st scan.Stats, ok bool, err error) {
	root := c.cfg.Root
	rootFD, err := ifsys.OpenRoot(root)
	if err != nil {
		return st, false, nil // scan.Walk reports it
	}
	defer unix.Close(rootFD)
	c.fold.rootFD = rootFD
	var rst unix.Stat_t
	if err := unix.Fstat(rootFD, &rst); err != nil {
		return st, false, nil
	}
	var re scan.Entry
	scan.Fill(&re, "/", &rst, 0)
	if c.rootView != "" && !sameDir(c.rootView, &rst) {
		// Not the root's own filesystem beneath its mounts: what it
		// holds is not what Config.Root shows.
		return st, false, nil
	}
	state, descend := c.visit(nil, &re)
	if !descend {
		return scan.Stats{Entries: 1}, true, nil
	}
	c.fold.on = true
	b := c.rootView
	if b == "" {
		b = root
	}
	live := &liveSide{root: state, visit: c.foldVisit, onError: c.onError, outside: c.addOutside, done: c.foldDone}
	cmp, err := Compare(ctx, c.cfg.PreviousRoot.Dir, b, CompareOptions{Workers: opts.Workers, live: live})
	if err != nil {
		if ctx.Err() != nil {
			return st, true, ctx.Err()
		}
		c.fold.on, c.fold.collapsed = false, nil
		return st, false, nil // the history says why
	}
	c.fold.cmp = cmp
	st.Entries = 1 + live.entries.Load()
	for _, o := range c.fold.outside {
		s, err := c.walkOutside(ctx, root, o, opts)
		st.Entries += s.Entries
		st.Tallied += s.Tallied
		if err != nil {
			return st, true, err
		}
	}
	return st, true, nil
}

// walkOutside walks the directory o (already visited) with scan.Walk.
func (c *classifier) walkOutside(ctx context.Context, root string, o outsideDir, opts scan.Options) (scan.Stats, error) {
	visit := func(parent any, e *scan.Entry) (any, bool) {
		if parent == nil {
			return o.state, true
		}
		e.Path = o.path + e.Path
		return c.visit(parent, e)
	}
	opts.OnError = func(p string, err error) { c.onError(o.path+p, err) }
	st, err := scan.Walk(ctx, path.Join(root, o.path), opts, visit)
	if st.Entries > 0 {
		st.Entries-- // o itself, visited by the lockstep walk
	}
	var pe *os.PathError
	if err == nil || ctx.Err() != nil || !errors.As(err, &pe) {
		return st, err
	}
	// o could not be opened, as scan.Walk below / would have said: not
	// when it is gone or replaced since it was visited.
	if errno, ok := pe.Err.(unix.Errno); ok && (scan.Vanished(errno) || errno == unix.ELOOP) {
		return st, nil
	}
	op := "openat"
	if pe.Op == "stat" {
		op = "fstat"
	}
	c.onError(o.path, os.NewSyscallError(op, pe.Err))
	return st, nil
}

func (c *classifier) addOutside(p string, state any) {
	c.mu.Lock()
	c.fold.outside = append(c.fold.outside, outsideDir{p, state})
	c.mu.Unlock()
}

// foldVisit is the classification's visit of an entry of the lockstep
// walk's side B. At a mount point of the mount table, the entry is the
// mount's root as Config.Root shows it (side B may be the view beneath
// it), walked afterwards if at all; the lockstep walk reads on beneath it
// for the comparison alone.
func (c *classifier) foldVisit(parent any, e *scan.Entry) (any, bool) {
	ps, _ := parent.(*dirState)
	if ps == nil || ps.below != nil {
		return c.visit(parent, e)
	}
	if nd := c.tree.child(ps.node, e.Path[strings.LastIndexByte(e.Path, '/')+1:]); !c.tree.at(nd).mounted() {
		return c.visit(parent, e)
	}
	if c.rootView != "" {
		var st unix.Stat_t
		if err := ifsys.Lstat(c.fold.rootFD, e.Path[1:], &st); err != nil {
			if !ifsys.Absent(err) {
				c.onError(e.Path, err)
			}
			return nil, false
		}
		w := e.Worker
		scan.Fill(e, e.Path, &st, w)
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			e.Target, _ = ifsys.Readlink(c.fold.rootFD, e.Path[1:])
		}
	}
	state, descend := c.visit(parent, e)
	if descend && state != nil && e.Mode&unix.S_IFMT == unix.S_IFDIR {
		c.addOutside(e.Path, state)
	}
	return nil, false
}

// visitBelow visits an entry below a directory lost whole on the
// filesystem at / (dirState.below): an Item of that directory's category,
// as expand lists it. A socket is Recreated, as visit has it (Remade):
// never in a lost directory's count.
func (c *classifier) visitBelow(ps *dirState, e *scan.Entry) (any, bool) {
	d := ps.below
	isDir := e.Mode&unix.S_IFMT == unix.S_IFDIR
	if Remade(e.Mode) {
		c.recreated.Add(1)
		return nil, false
	}
	if c.leftCopy(e, e.Path[strings.LastIndexByte(e.Path, '/')+1:], d.Category) {
		return nil, false // drift's own partial copy: not lost data, not walked
	}
	// Not from the arena: most are dropped once the history is known
	// (expandAside keeps those below directories whose history is not
	// uniform), and an arena's chunk would keep them all, with their
	// paths, for as long as one of its items is listed.
	p := e.Path
	if e.Transient {
		p = strings.Clone(p) // scan.Entry.Transient: the walk's buffer
	}
	it := &Item{}
	*it = Item{Path: p, Category: d.Category, Mode: e.Mode, Size: e.Size, Bytes: e.Bytes, Mtime: e.Mtime, Decl: d.Decl, onRoot: d.onRoot, twin: e.Twin}
	it.SetTarget(e.Target)
	it.Subvolume = c.subvolumeRoot(e)
	ps.addItem(it)
	if !isDir {
		return nil, false
	}
	sub := &dirState{below: d, up: ps, self: it, same: e.Same, name: e.Path[strings.LastIndexByte(e.Path, '/')+1:]}
	sub.pending.Store(1)
	ps.pending.Add(1)
	ps.addSub(sub)
	return sub, true
}

// collapse records it, a directory lost whole on the filesystem at /, and
// returns the state its entries are visited with (visitBelow).
func (c *classifier) collapse(it *Item, name string) *dirState {
	c.mu.Lock()
	if c.fold.collapsed == nil {
		c.fold.collapsed = map[*Item]bool{}
	}
	c.fold.collapsed[it] = true
	c.mu.Unlock()
	s := &dirState{below: it, name: name}
	s.pending.Store(1)
	return s
}

// foldDone is liveSide.done: the lockstep walk has merged the directory
// whose state is state (clean: no Difference recorded in it). Once a
// directory below one lost whole is done with its whole subtree, no
// Difference lies below it and its own entry is the same in the previous
// root (dirState.same), its history is uniform (lockHist.uniform: the
// same, it and all below it), so what the walk kept below it is let go,
// counted into its Item.Below as expandAside would count it, whatever its
// parent holds: the walk keeps the directories and what changed near
// them, not every entry, and the collector scans less.
func (c *classifier) foldDone(state any, clean bool) {
	s, _ := state.(*dirState)
	if s == nil || s.below == nil {
		return
	}
	if !clean {
		s.dirty.Store(true)
	}
	for ; s != nil && s.pending.Add(-1) == 0; s = s.up {
		dirty := s.dirty.Load()
		if !dirty && s.same && s.self != nil {
			// Uniform: the same, and all below it (lockHist.uniform).
			foldSub(s)
		}
		if dirty && s.up != nil {
			s.up.dirty.Store(true)
		}
	}
}

// foldedSubs counts foldSub's calls, for the test that holds the walk to
// letting go of uniform subtrees.
var foldedSubs atomic.Int64

// foldSub counts what the walk kept below sub (its lost entries, their
// own Below included) into sub.self's Below and lets it go.
func foldSub(sub *dirState) {
	foldedSubs.Add(1)
	var t Total
	var sum func(d *dirState)
	sum = func(d *dirState) {
		for it := d.lost.Load(); it != nil; it = it.next {
			t.Add(it.Total())
		}
		for x := d.subs.Load(); x != nil; x = x.nextSub {
			sum(x)
		}
	}
	sum(sub)
	if sub.self != nil && t != (Total{}) {
		sub.self.SetBelow(t)
	}
	sub.lost.Store(nil)
	sub.items.Store(0)
	sub.subs.Store(nil)
}

// setAside takes out of lost (in path order) the entries below each
// directory lost whole on the filesystem at /, counting them into its
// Item.Below as a scan.Tally would have, and keeps them for expandAside.
func (c *classifier) setAside(lost []*Item) []*Item {
	if len(c.fold.collapsed) == 0 {
		return lost
	}
	kept := make([]*Item, 0, len(lost))
	c.fold.aside = make(map[*Item][]*Item, len(c.fold.collapsed))
	for i := 0; i < len(lost); {
		d := lost[i]
		kept = append(kept, d)
		i++
		if !c.fold.collapsed[d] {
			continue
		}
		j := i
		var below Total
		for j < len(lost) && pathx.HasPrefix(lost[j].Path, d.Path) {
			below.Add(lost[j].Total())
			j++
		}
		d.SetBelow(below)
		if j > i {
			c.fold.aside[d] = lost[i:j]
		}
		i = j
	}
	c.fold.collapsed = nil
	return kept
}

// expandAside is expandCollapsed for the directories set aside: one whose
// history (h) is not uniform is listed down to the directories whose
// history is, from the entries the walk kept. It reports whether a.Lost
// changed.
func (c *classifier) expandAside(a *Audit, h *lockHist) bool {
	aside := c.fold.aside
	c.fold.aside = nil
	if len(aside) == 0 {
		return false
	}
	uniform := func(p string) bool { return h != nil && h.uniform(p) }
	var out []*Item
	for i, d := range a.Lost {
		below, ok := aside[d]
		if !ok || uniform(d.Path) {
			if out != nil {
				out = append(out, d)
			}
			continue
		}
		if out == nil {
			out = append(make([]*Item, 0, len(a.Lost)+len(below)), a.Lost[:i]...)
		}
		out = append(out, d)
		d.SetBelow(Total{})
		var cur *Item // a directory whose history is uniform: counted
		var sum Total // what lies below cur
		done := func() {
			if cur != nil && sum != (Total{}) {
				cur.SetBelow(sum)
			}
		}
		for _, x := range below {
			if cur != nil && pathx.HasPrefix(x.Path, cur.Path) {
				sum.Add(x.Total())
				continue
			}
			done()
			cur, sum = nil, Total{}
			out = append(out, x)
			if x.IsDir() && uniform(x.Path) {
				cur = x
			}
		}
		done()
	}
	if out == nil {
		return false
	}
	a.Lost = out
	return true
}

// sameDir reports whether the directory dir is the one st describes (its
// device and inode): a view of the filesystem at / beneath its mounts
// shows the root's own directory.
func sameDir(dir string, st *unix.Stat_t) bool {
	var vst unix.Stat_t
	return unix.Stat(dir, &vst) == nil && vst.Dev == st.Dev && vst.Ino == st.Ino
}
