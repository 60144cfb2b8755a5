package diff

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	ifsys "github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/scan"
	"github.com/nix-drift/drift/internal/units"
	"golang.org/x/sys/unix"
)

// The history at scale: instead of looking every lost path up in the
// previous root (two path resolutions and a hash each) and walking the
// previous root once more for what vanished, one lockstep walk (Compare,
// what drift diff does) of the previous root against the filesystem at /
// — read beneath the mounts through its view when one is open, so that
// shadowed paths are compared where they lie — says for every path what
// changed: regular files of the same size compared byte for byte, the
// rest by type, mode, owner and symlink target. Only the paths that are
// not the same are kept (Comparison.Diffs); every lost path on that
// filesystem takes its history from them, and the paths only the previous
// root has are what vanished. Lost paths elsewhere (an ephemeral tmpfs, a
// bind mount no longer declared) are looked up one by one as before.

// lockstepHistory is off in tests that hold the lockstep history against
// the lookups one by one.
var lockstepHistory = true

// compareWithPrevious runs Compare of the previous root (A) against the
// filesystem at / (B): its view beneath the mounts when one is open, else
// the audited root (Compare does not cross its mount points). nil, with a
// warning, when it cannot.
func (c *classifier) compareWithPrevious(ctx context.Context, prevDir, label string) *Comparison {
	live := c.rootView
	if live == "" {
		live = c.cfg.Root
	}
	cmp, err := Compare(ctx, prevDir, live, CompareOptions{Workers: c.cfg.Workers})
	if err != nil {
		if ctx.Err() == nil {
			c.warn(WarnHistory, "", fmt.Sprintf("cannot compare the root with %s: %v: lost paths are looked up one by one", label, err))
		}
		return nil
	}
	return cmp
}

// lockHist is what the lockstep walk found, for looking paths up: the
// Change of every path of the filesystem at / that is not the same as in
// the previous root (absent: Same), those paths in pathx.Compare order (a
// subtree is contiguous), and the paths that could not be compared.
type lockHist struct {
	changes map[string]Change
	sorted  []string
	failed  map[string]bool
}

func newLockHist(cmp *Comparison) *lockHist {
	h := &lockHist{changes: make(map[string]Change, len(cmp.Diffs))}
	for i := range cmp.Diffs {
		d := &cmp.Diffs[i]
		if d.Change == Removed {
			continue // only in the previous root: vanishedFrom's
		}
		h.changes[d.Path] = d.Change
		h.sorted = append(h.sorted, d.Path)
		if d.Change == Failed {
			if h.failed == nil {
				h.failed = map[string]bool{}
			}
			h.failed[d.Path] = true
		}
	}
	slices.SortFunc(h.sorted, pathx.Compare)
	return h
}

// underFailed reports whether p or a directory above it failed.
func (h *lockHist) underFailed(p string) bool {
	if h.failed == nil {
		return false
	}
	for q := p; ; {
		if h.failed[q] {
			return true
		}
		i := strings.LastIndexByte(q, '/')
		if i <= 0 {
			return false
		}
		q = q[:i]
	}
}

// differsBelow reports whether a path below p is not the same.
func (h *lockHist) differsBelow(p string) bool {
	i, found := slices.BinarySearchFunc(h.sorted, p, pathx.Compare)
	if found {
		i++
	}
	// In pathx.Compare order p's subtree follows p, contiguous.
	return i < len(h.sorted) && pathx.HasPrefix(h.sorted[i], p)
}

// uniform reports whether p and everything below it have one history:
// p is new (so is all below it), or p and all below it are the same.
func (h *lockHist) uniform(p string) bool {
	ch, differs := h.changes[p]
	if differs {
		return ch == Added
	}
	return !h.differsBelow(p) && !h.underFailed(p)
}

// history is p's History (ok false: it could not be compared).
func (h *lockHist) history(p string) (History, bool) {
	ch, differs := h.changes[p]
	switch {
	case differs && ch == Added:
		return HistoryNew, true
	case differs && (ch == Changed || ch == Meta):
		return HistoryChanged, true
	case differs || h.underFailed(p):
		return NoHistory, false // Failed, or gone since its listing
	}
	return HistorySame, true
}

// historiesFrom sets the History of every lost item against the previous
// root (h.histories); the paths that could not be compared make one
// warning.
func (c *classifier) historiesFrom(ctx context.Context, h *lockHist, liveFD, prevFD int, a *Audit) {
	live, done := c.livePlace(liveFD)
	defer done()
	hs, failed, first := h.histories(ctx, live, prevFD, a.Lost, c.cfg.Workers, "the previous root")
	if ctx.Err() != nil {
		return // Check returns the context's error
	}
	for i, it := range a.Lost {
		it.History = hs[i]
	}
	if failed > 0 {
		c.warn(WarnHistory, strings.SplitN(first, ":", 2)[0], fmt.Sprintf("%s not compared with the previous root (first: %s)", units.Plural(int64(failed), "lost path", "lost paths"), first))
	}
}

// histories compares each item (lost items of an audit) with the same path
// in an old root, prevFD, named label ("the previous root",
// "old_roots/NAME"): the one way drift compares the lost set with an old
// root, whatever its place among the old roots. The items on the
// filesystem at / (Item.onRoot; an item that stands for its contents,
// Item.Below, is uniform: see expandCollapsed) take their history from h,
// the lockstep walk of that old root; the others, and all of them when h
// is nil, are looked up one by one (historiesOf; live says where their
// live copy is read). The result is parallel to items; a path that cannot
// be compared gets NoHistory and is counted in failed, first naming the
// first of them in path order with its reason.
func (h *lockHist) histories(ctx context.Context, live livePlace, prevFD int, items []*Item, workers int, label string) (hs []History, failed int, first string) {
	if h == nil {
		return historiesOf(ctx, live, prevFD, items, workers)
	}
	hs = make([]History, len(items))
	var rest []*Item
	var restAt []int
	for i, it := range items {
		if !it.onRoot {
			rest, restAt = append(rest, it), append(restAt, i)
			continue
		}
		var ok bool
		if hs[i], ok = h.history(it.Path); !ok {
			failed++
			if first == "" {
				first = it.Path + ": not compared with " + label
			}
		}
	}
	if len(rest) > 0 {
		rh, n, f := historiesOf(ctx, live, prevFD, rest, workers)
		if ctx.Err() != nil {
			return hs, failed, first
		}
		for j, i := range restAt {
			hs[i] = rh[j]
		}
		failed += n
		if first == "" || f != "" && pathx.Compare(f, first) < 0 {
			first = f
		}
	}
	return hs, failed, first
}

// expandCollapsed lists what a directory lost whole (Item.Below, from
// Config.Collapse) stands for where its history is not uniform: a row
// stands for a directory only when everything below it has one history.
// Such a directory is walked again; its entries become items of its
// category, except the directories below it whose history is uniform
// (h.uniform), which are counted into an item of their own. Without h
// (the history is looked up one by one) every directory lost whole is
// listed entry by entry. It reports whether a.Lost changed.
func (c *classifier) expandCollapsed(ctx context.Context, a *Audit, h *lockHist) bool {
	uniform := func(it *Item) bool { return h != nil && it.onRoot && h.uniform(it.Path) }
	var out []*Item
	changed := false
	for i, it := range a.Lost {
		if it.Below().Count == 0 || uniform(it) {
			if out != nil {
				out = append(out, it)
			}
			continue
		}
		if out == nil {
			out = append(make([]*Item, 0, len(a.Lost)), a.Lost[:i]...)
		}
		out = append(out, it)
		below, err := c.expand(ctx, it, h)
		if err != nil {
			return changed
		}
		it.SetBelow(Total{})
		out = append(out, below...)
		changed = true
	}
	if changed {
		a.Lost = out
	}
	return changed
}

// expand walks the directory of item d again and returns its entries as
// items in path order, a directory with a uniform history (h) counted into
// its item's Below.
func (c *classifier) expand(ctx context.Context, d *Item, h *lockHist) ([]*Item, error) {
	var mu sync.Mutex
	var items []*Item
	var tallies []tallied
	visit := func(parent any, e *scan.Entry) (any, bool) {
		isDir := e.Mode&unix.S_IFMT == unix.S_IFDIR
		if parent == nil {
			return true, isDir
		}
		if e.Replaced || Remade(e.Mode) || isLeft(e.Path[strings.LastIndexByte(e.Path, '/')+1:]) {
			return nil, false // a partial copy drift left: in LeftCopies already (the first walk's)
		}
		it := &Item{Path: d.Path + e.Path, Category: d.Category, Mode: e.Mode, Size: e.Size, Bytes: e.Bytes, Mtime: e.Mtime, Decl: d.Decl, onRoot: d.onRoot}
		it.SetTarget(e.Target)
		it.Subvolume = c.subvolumeRoot(e)
		mu.Lock()
		items = append(items, it)
		var tally *scan.Tally
		if isDir && h != nil && d.onRoot && h.uniform(it.Path) {
			tally = &scan.Tally{Skip: skipLeft}
			tallies = append(tallies, tallied{it, tally})
		}
		mu.Unlock()
		if tally != nil {
			return tally, true
		}
		return true, isDir
	}
	onErr := func(p string, err error) { c.onError(d.Path+p, err) }
	if _, err := scan.Walk(ctx, path.Join(c.cfg.Root, d.Path), scan.Options{Workers: c.cfg.Workers, ReadLinks: true, OnError: onErr}, visit); err != nil {
		if ctx.Err() == nil {
			c.warn(WarnUnreadable, d.Path, fmt.Sprintf("cannot read %s again to list what changed below it: %v", d.Path, err))
		}
		return nil, err
	}
	for _, t := range tallies {
		t.item.SetBelow(Total{Count: t.tally.Entries.Load() - t.tally.Sockets.Load(), Bytes: t.tally.Bytes.Load()})
	}
	slices.SortFunc(items, func(x, y *Item) int { return pathx.Compare(x.Path, y.Path) })
	return items, nil
}

// vanishedFrom lists what the last reboot destroyed and nothing holds now
// from the paths only the previous root has (Removed in cmp): below a
// mount point of the live system (what lay beneath it at that boot, check's
// shadowed; with the live mount table, Config.Under, only) when the live
// path, through the mount, lacks it too; at
// or below a declared path only when its persistent copy lacks it too
// (declaredGone, looked up beneath liveFD), not
// ignored (a rule matching it or a directory above it), not a directory
// re-made at boot (a parent of a mount point or declared path: what
// vanished below it is listed instead). A directory that vanished whole
// is one Vanished with its subtree counted.
func (c *classifier) vanishedFrom(cmp *Comparison, liveFD int, a *Audit, now time.Time) {
	prev := a.PreviousRoot
	age, left := retiredAge(prev, now)
	var removed []*Difference
	unreadable := 0
	for i := range cmp.Diffs {
		d := &cmp.Diffs[i]
		switch {
		case d.Change == Removed && d.A != nil && Remade(d.A.Mode):
			// A socket is made again by its program, never lost (Remade, as
			// check's walk counts it): never vanished, nor counted into the
			// directory that vanished around it.
		case d.Change == Removed && d.A != nil || c.linkToCopy(d) || c.fileMountedNow(d):
			removed = append(removed, d)
		case d.Change == Failed && d.A == nil:
			unreadable++
		}
	}
	slices.SortFunc(removed, func(x, y *Difference) int { return pathx.Compare(x.Path, y.Path) })
	skip := "" // a subtree left out
	row := -1  // the row being counted, in a.Vanished
	// The previous root, opened when a declared path's copy is to be
	// compared with it (declaredGone's other).
	pfd, opened := -1, false
	prevFD := func() int {
		if !opened {
			opened = true
			if fd, err := ifsys.OpenRoot(prev.Dir); err == nil {
				pfd = fd
			}
		}
		return pfd
	}
	defer func() {
		if pfd >= 0 {
			unix.Close(pfd)
		}
	}()
	for _, d := range removed {
		p := d.Path
		if skip != "" && pathx.HasPrefix(p, skip) {
			continue
		}
		size := int64(0)
		if d.A.Mode&unix.S_IFMT == unix.S_IFREG {
			size = d.A.Size
		}
		if row >= 0 && pathx.HasPrefix(p, a.Vanished[row].Path) {
			a.Vanished[row].Entries++
			a.Vanished[row].Bytes += size
			continue
		}
		row = -1
		nd, out, decl, beneath := rootNode, false, int32(-1), false
		for i := 1; i <= len(p); i++ {
			if i < len(p) && p[i] != '/' {
				continue
			}
			q := p[:i]
			name := q[strings.LastIndexByte(q, '/')+1:]
			nd = c.tree.child(nd, name)
			n := c.tree.at(nd)
			if n.decl >= 0 {
				decl = n.decl
			}
			if c.ignore.matchSelf(q) || leftByDrift(name) || n.mounted() && n.decl < 0 && c.cfg.Under == nil {
				skip, out = q, true // ignored, drift's partial copy, or under a mount not looked under
				break
			}
			beneath = beneath || n.mounted() && n.decl < 0
		}
		isDir := d.A.Mode&unix.S_IFMT == unix.S_IFDIR
		if out || c.tree.at(nd).keep() && (decl < 0 || isDir) {
			continue
		}
		gone, other := decl < 0, noOther
		if decl < 0 && beneath {
			// Shadowed at that boot: gone unless the mount shows it now.
			var st unix.Stat_t
			gone = ifsys.Absent(ifsys.Lstat(liveFD, p[1:], &st))
		}
		if decl >= 0 {
			gone, other = c.declaredGone(liveFD, prevFD(), decl, p, d.A)
		}
		if !gone && other == noOther {
			continue
		}
		a.Vanished = append(a.Vanished, Vanished{Path: p, Mode: d.A.Mode, Subvolume: cmp.Subvolume(d.A, 0), Entries: 1, Bytes: size, Root: prev.Name, AgeDays: age, DaysLeft: left, From: prev.RestoreFrom(), Decl: c.declOf(decl), StaleCopy: other == olderCopy, NewerCopy: other == newerCopy})
		if other != noOther {
			a.Vanished[len(a.Vanished)-1].MountedCopy = c.mountedCopy(decl, p, nd)
		}
		row = len(a.Vanished) - 1
	}
	if unreadable > 0 {
		c.warn(WarnUnreadable, "", fmt.Sprintf("%s of the previous root (old_roots/%s) unreadable: what vanished below them is not listed", units.Plural(int64(unreadable), "path", "paths"), prev.Name))
	}
	a.Vanished = activationOnly(prev.Dir, a.Vanished)
	sortVanished(a.Vanished)
}
