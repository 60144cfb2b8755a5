package diff

import (
	"context"
	"fmt"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/escape"
	ifsys "github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/scan"
	"github.com/nix-drift/drift/internal/units"
	"golang.org/x/sys/unix"
)

// History is what a lost path was in the previous boot's root.
type History uint8

const (
	// NoHistory: no previous root, or the path could not be compared.
	NoHistory History = iota
	// HistoryNew: no such path in the previous root (made since that boot).
	HistoryNew
	// HistoryChanged: there, but different (content, type, mode, owner or
	// symlink target): state that is being lost at every boot.
	HistoryChanged
	// HistorySame: identical in the previous root: regenerated at every
	// boot, of little value to persist.
	HistorySame
)

// SameMeans is what RegenYes means for a lost path, as drift check's
// WHY and drift suggest's note both say it: the wipe deletes it, and the
// boot makes it again with the same bytes (suggest proposes an --ignore
// rule for it), so the two commands never tell one path apart. It is
// said of a path only when Item.Regen is RegenYes.
const SameMeans = "made again at every boot with the same bytes, of little value to persist"

// Regen is whether a lost, unpersisted path is made again at every boot
// with the same bytes: the one fact behind drift check's "--ignore it"
// and drift suggest's ignore, so that the two never disagree (check never
// advises --ignore for a path suggest proposes to persist). Being the same
// in the previous root (HistorySame) says only that the bytes did not
// change since that boot; "made again at every boot" is established
// (RegenYes) when, besides, all of these hold:
//
//   - it is the same in every old root compared: the previous root and
//     the older ones of the last boots (drift suggest's --boots, 5 for
//     drift check: audit.DefaultBoots), each holding it with the same
//     type, mode, owner, target and bytes, everything below it too
//     (RegenOlder when one lacks it or holds it otherwise: state that
//     changed, or is new since);
//   - it was not copied from the previous root: its modification time
//     differs from the previous root's. What a boot makes carries that
//     boot's time; drift restore (and cp -a) keep the old root's, so a
//     path brought back with the same bytes is the old root's data, not
//     a path made again (RegenCopied);
//   - the known-state catalogue (internal/knowledge) marks no path at,
//     above or below it as state to persist: BlueZ's pairings or a Wi-Fi
//     profile are state however alike the old roots are (RegenKnown);
//   - for a directory, all of this holds of everything below it too,
//     whether the lost set lists it (every lost path below it RegenYes;
//     else RegenBelow) or the directory stands for it (a directory lost
//     whole: its subtree compared, each modification time looked at):
//     an --ignore of a directory covers what it holds.
//
// A path that is not unpersisted, or not HistorySame, is RegenUnknown.
type Regen uint8

const (
	// RegenUnknown: not asked (not unpersisted, or not the same in the
	// previous root), or the older roots could not be compared.
	RegenUnknown Regen = iota
	// RegenYes: made again at every boot with the same bytes (SameMeans).
	RegenYes
	// RegenOlder: an older root compared lacks it or holds it otherwise.
	RegenOlder
	// RegenCopied: its modification time is the previous root's: a copy
	// of it (drift restore keeps the time), not made again at boot.
	RegenCopied
	// RegenKnown: the known-state catalogue marks it (or a path above or
	// below it) as state to persist.
	RegenKnown
	// RegenBelow: a directory whose own entry is, but a lost path below it
	// is not (changed, new, or one of the answers above): an --ignore of
	// it would cover that state too.
	RegenBelow
)

// NotRegenWhy says why a path the same in the previous root is not called
// made again at every boot (Regen other than RegenYes), for check's WHY
// and suggest's note; "" when there is nothing to add.
func (r Regen) NotRegenWhy() string {
	switch r {
	case RegenCopied:
		return "with the previous root's modification time too: a copy of it (as drift restore brings back), not made again at boot"
	case RegenOlder:
		return "but not in every older root compared: state, not made again at every boot"
	case RegenKnown:
		return "known application state, not made again at boot"
	case RegenBelow:
		return "but not all it holds: state below it, not made again at every boot"
	}
	return ""
}

// Histories lists the histories a lost path can have, in report order.
var Histories = []History{HistoryNew, HistoryChanged, HistorySame}

func (h History) String() string {
	switch h {
	case HistoryNew:
		return "new"
	case HistoryChanged:
		return "changed"
	case HistorySame:
		return "same"
	}
	return ""
}

// Vanished is what the last reboot destroyed and nothing holds now: a
// path of the previous root that is absent from the audited root, not
// under a mount point, and either not covered by a declaration or covered
// by one whose persistent copy lacks it too (Decl: the copy was not
// mounted over it at that boot, vanishdecl.go), or holds other bytes
// there, shown in place of the old root's (Replaced). A directory that
// vanished whole is one Vanished standing for its subtree.
type Vanished struct {
	// Path is relative to the roots, starting with "/", byte-exact.
	Path string
	Mode uint32
	// Subvolume is true for a nested btrfs subvolume of the old root (the
	// rule of Item.Subvolume, against the old root's device).
	Subvolume bool
	// Entries counts the path and everything below it; Bytes sums the
	// apparent sizes of the regular files among them.
	Entries int64
	Bytes   int64
	// Root is the name of the old root that holds it (btrfs.OldRoot.Name).
	Root string
	// AgeDays is how many whole days ago that root was retired; DaysLeft
	// how many whole days remain before the wipe's cleanup deletes it
	// (btrfs.DeleteAt with the seed's 30 days, from btrfs.OldRoot.Age: its
	// retirement as drift wipe recorded it, else the time in its name), 0
	// when due.
	AgeDays, DaysLeft int
	// From is the --from value of drift restore (btrfs.OldRoot.RestoreFrom).
	From string
	// PersistentCopy, set by the audit (internal/audit), is where the data
	// is when the old root held only an empty directory here and the same
	// path under a persistent storage path exists: the mount point of a
	// bind mount of that copy until the last boot, no longer declared.
	// Restoring would give back the empty directory; "" otherwise.
	PersistentCopy string
	// Decl is the declared path (persist.Entry.Path) covering Path, ""
	// for a path nothing declares: its data lay on the ephemeral root,
	// its persistent copy not mounted over it at that boot, and the copy
	// lacks it now. drift restore puts it back into that copy.
	Decl string
	// StaleCopy: the persistent copy of Decl holds Path too, other, older
	// bytes (declaredGone's olderCopy): the stale copy the boot showed in
	// place of the newer bytes, which are only in the old root. drift
	// restore replaces it only with --force (ReplacesCopy).
	StaleCopy bool
	// NewerCopy: the persistent copy of Decl holds Path too, other bytes
	// changed no earlier than the old root's (declaredGone's newerCopy):
	// the boot showed the copy in place of the old root's bytes, which
	// that boot wrote on the root (the copy not mounted over Path then,
	// MountedThen) and which are only in the old root now. Which of the
	// two is to be kept is the user's call; drift restore replaces the
	// copy with the old root's only with --force --beneath-mount.
	NewerCopy bool
	// MountedCopy, for a Replaced row whose Path is a declared file, is
	// its persistent copy (as the audited system sees it) when that copy
	// is bind-mounted over Path now: drift restore never replaces a file
	// a mount shows (the mount would go on showing the deleted one), so
	// the command unmounts Path first and mounts the copy again after.
	MountedCopy string
}

// Replaced reports whether the persistent copy holds v's path with other
// bytes, shown in place of the old root's (StaleCopy or NewerCopy): the
// wipe replaced it rather than leaving nothing there.
func (v *Vanished) Replaced() bool { return v.StaleCopy || v.NewerCopy }

// IsDir reports whether v is a directory.
func (v *Vanished) IsDir() bool { return v.Mode&unix.S_IFMT == unix.S_IFDIR }

// RestoreCommand is the drift restore command line that copies v back:
// into its persistent copy when it is declared (v.Decl), else to its live
// path (--to live), with --force when that copy holds older, other bytes
// there (v.StaleCopy: restore replaces them only then), between the
// unmount of a declared file bind-mounted from that copy and its mount
// again (v.MountedCopy; the line's status is the restore's), its words quoted
// with escape.Shell: safe to print as it is, and exactly the names when
// pasted into a shell. "" when the copy holds other bytes changed no
// earlier (v.NewerCopy): which to keep is not known, and no command that
// replaces the copy is printed (drift restore --force --beneath-mount
// does it when told).
//
// root is the audited root (Audit.Root): a system audited elsewhere than at
// / gets --root, so the command restores into it and not into the host.
// args are the audit's flags (Audit.Args, flag and value pairs): those
// restore takes (--persist, --flake, --home) are passed on, so it reads
// the declarations the audit read; --mountinfo and --ephemeral are not.
func (v *Vanished) RestoreCommand(root string, args []string) string {
	cmd := "drift restore " + escape.Shell(v.Path) + " --from " + escape.Shell(v.From)
	if v.Decl == "" {
		cmd += " --to live"
	}
	switch {
	case v.StaleCopy:
		cmd += " --force"
	case v.NewerCopy:
		// Which to keep is not known: the copy may have been written
		// through a mount made during that boot (drift adopt --mount, a
		// switch that added the declaration), over stale data beneath.
		// No command replaces it as printed.
		return ""
	}
	if root != "" && root != "/" {
		cmd += " --root " + escape.Shell(root)
	}
	// The declarations restore reads to find the persistent copy (and to
	// know the path is declared): the audit's --persist, --flake and
	// --home; restore takes no mount table.
	for i := 0; i+1 < len(args); i += 2 {
		switch args[i] {
		case "--persist", "--flake", "--home":
			cmd += " " + args[i] + " " + escape.Shell(args[i+1])
		}
	}
	if v.MountedCopy != "" {
		// The mount is made again whether or not the restore succeeds.
		mp, src := escape.Shell(path.Join(root, v.Path)), escape.Shell(path.Join(root, v.MountedCopy))
		// The group's status is the restore's: a failed restore is not
		// hidden by the mount that follows it.
		cmd = "umount " + mp + " && { " + cmd + "; s=$?; mount --bind " + src + " " + mp + "; test $s -eq 0; }"
	}
	return cmd
}

func entryOf(p string, st *unix.Stat_t, target string) scan.Entry {
	var e scan.Entry
	scan.Fill(&e, p, st, 0)
	e.Target = target
	return e
}

// livePlace says where the live copy of a lost item is read: beneath fd
// at rel (relative, no leading "/"). The audited root for a visible path;
// the view under the mount points (Config.Under) for a shadowed one.
type livePlace func(it *Item) (fd int, rel string)

// lookups counts itemHistory's calls, for the tests that hold the history
// to one lockstep walk per old root, not one lookup per lost path.
var lookups atomic.Int64

// itemHistory compares the lost item it with the same path in the previous
// root (WhatChanged, content hashed for regular files of equal size); the
// live copy is read where live says.
func itemHistory(live livePlace, prevFD int, hs *hasher, it *Item) (History, error) {
	lookups.Add(1)
	rel := strings.TrimPrefix(it.Path, "/")
	if rel == "" {
		return NoHistory, nil
	}
	liveFD, liveRel := live(it)
	if liveRel == "" {
		return NoHistory, nil
	}
	var ps, ls unix.Stat_t
	if err := ifsys.Lstat(prevFD, rel, &ps); err != nil {
		if ifsys.Absent(err) {
			return HistoryNew, nil
		}
		return NoHistory, err
	}
	if err := ifsys.Lstat(liveFD, liveRel, &ls); err != nil {
		return NoHistory, err
	}
	var pt, lt string
	if ps.Mode&unix.S_IFMT == unix.S_IFLNK && ls.Mode&unix.S_IFMT == unix.S_IFLNK {
		var err error
		if pt, err = ifsys.Readlink(prevFD, rel); err != nil {
			return NoHistory, err
		}
		if lt, err = ifsys.Readlink(liveFD, liveRel); err != nil {
			return NoHistory, err
		}
	}
	a, b := entryOf(it.Path, &ps, pt), entryOf("/"+liveRel, &ls, lt)
	ch, _, err := WhatChanged(&a, &b, false, func() (bool, error) { return hs.sameFiles(prevFD, &a, liveFD, &b) })
	switch {
	case err != nil:
		return NoHistory, err
	case ch == Same:
		return HistorySame, nil
	}
	return HistoryChanged, nil
}

// livePlace says where each lost item is read in the live system: beneath
// liveFD (the audited root) for a visible path, beneath its view for a
// shadowed one. done closes the views' descriptors.
func (c *classifier) livePlace(liveFD int) (live livePlace, done func()) {
	viewFDs := make([]int, len(c.views))
	for i, v := range c.views {
		fd, err := ifsys.OpenRoot(v.dir)
		if err != nil {
			fd = -1
		}
		viewFDs[i] = fd
	}
	done = func() {
		for _, fd := range viewFDs {
			if fd >= 0 {
				unix.Close(fd)
			}
		}
	}
	live = func(it *Item) (int, string) {
		if it.view == 0 {
			return liveFD, strings.TrimPrefix(it.Path, "/")
		}
		v := c.views[it.view-1]
		rest, ok := pathx.Rel(v.mountPoint, it.Path)
		if !ok || viewFDs[it.view-1] < 0 || rest == "/" || v.persistent {
			return -1, ""
		}
		return viewFDs[it.view-1], rest[1:]
	}
	return live, done
}

// historiesOf compares each item with the same path beneath prevFD
// (itemHistory), on at most workers goroutines (0: GOMAXPROCS, at most 8 in
// any case). The result is parallel to items; a path that cannot be
// compared gets NoHistory and is counted in failed, first naming the
// first of them in path order with its error. Once ctx is done no item is
// begun, and a file being hashed stops at its next piece.
func historiesOf(ctx context.Context, live livePlace, prevFD int, items []*Item, workers int) (hs []History, failed int, first string) {
	n := min(runtime.GOMAXPROCS(0), 8)
	if workers > 0 {
		n = min(n, workers)
	}
	hs = make([]History, len(items))
	var next atomic.Int64
	var mu sync.Mutex
	var firstPath string
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var h *hasher
			for {
				i := int(next.Add(1) - 1)
				if i >= len(items) || ctx.Err() != nil {
					return
				}
				it := items[i]
				if it.Mode&unix.S_IFMT == unix.S_IFREG && h == nil {
					h = newHasher(nil)
					h.ctx = ctx
				}
				if it.Mount != 0 && it.Decl >= 0 { // Covered, also when ignored
					continue // on persistent storage now: the previous root holds only the mount point there
				}
				r, err := itemHistory(live, prevFD, h, it)
				hs[i] = r
				if err != nil && ctx.Err() == nil {
					mu.Lock()
					failed++
					if firstPath == "" || pathx.Compare(it.Path, firstPath) < 0 {
						firstPath, first = it.Path, fmt.Sprintf("%s: %v", it.Path, err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return hs, failed, first
}

// vrow is a vanished path being collected.
type vrow struct {
	v              Vanished
	entries, bytes atomic.Int64
}

// vstate is what the walk of the previous root passes down to children.
type vstate struct {
	node nodeID // the tree's node of the path, 0 off the tree
	row  *vrow  // set when the path (or an ancestor) vanished
	decl int32  // 1 + the declaration covering the path, 0 for none
}

// vanished walks the previous root and lists what is absent from the
// audited root (looked up through its mounts), not ignored and, at or
// below a declared path, absent from its persistent copy too
// (declaredGone). Beneath a mount point that is not a declared path the
// previous root holds what lay on the root beneath the mount at that boot,
// which check called shadowed, lost at the next boot: listed when the
// live path (through the mount) lacks it; only with the live mount table
// (Config.Under, as check looks under mount points), whose mounts a
// lookup crosses.
func (c *classifier) vanished(ctx context.Context, liveFD int, a *Audit, now time.Time) {
	prev := a.PreviousRoot
	var mu sync.Mutex
	var rows []*vrow
	age, left := retiredAge(prev, now)
	var rootDev atomic.Uint64 // the old root's device: a nested subvolume's differs
	prevFD, err := ifsys.OpenRoot(prev.Dir)
	if err != nil {
		prevFD = -1 // no stale copy is told apart (declaredGone)
	} else {
		defer unix.Close(prevFD)
	}
	visit := func(parent any, e *scan.Entry) (any, bool) {
		isDir := e.Mode&unix.S_IFMT == unix.S_IFDIR
		if parent == nil {
			rootDev.Store(e.Dev)
			return &vstate{node: rootNode}, isDir
		}
		if e.Replaced || Remade(e.Mode) {
			return nil, false // a socket is made again by its program, never lost: never vanished
		}
		ps := parent.(*vstate)
		if ps.row != nil {
			ps.row.entries.Add(1)
			if e.Mode&unix.S_IFMT == unix.S_IFREG {
				ps.row.bytes.Add(e.Size)
			}
			return ps, isDir
		}
		name := e.Path[strings.LastIndexByte(e.Path, '/')+1:]
		nd := c.tree.child(ps.node, name)
		n, decl := c.tree.at(nd), ps.decl
		if n.decl >= 0 {
			decl = n.decl + 1
		}
		if c.ignore.matchSelf(e.Path) || leftByDrift(name) {
			return nil, false // ignored, or a partial copy drift was building: never vanished data
		}
		if n.mounted() && n.decl < 0 && c.cfg.Under == nil {
			return nil, false // a mount point, not looked under: lives elsewhere
		}
		here := &vstate{node: nd, decl: decl}
		other := noOther
		if decl > 0 {
			var gone bool
			gone, other = c.declaredGone(liveFD, prevFD, decl-1, e.Path, e)
			if !gone && other == noOther || n.keep() && isDir {
				return here, isDir // persisted, there now, or re-made at boot: look below
			}
		} else {
			var st unix.Stat_t
			err := ifsys.Lstat(liveFD, e.Path[1:], &st)
			if err == nil || !ifsys.Absent(err) {
				return here, isDir // there now (or unknown): look below
			}
			if n.keep() {
				// Holds a declared path or a mount point: list what vanished
				// below it, not the directory itself.
				return here, isDir
			}
		}
		r := &vrow{v: Vanished{Path: e.Path, Mode: e.Mode, Subvolume: isDir && e.Ino == btrfs.RootIno && e.Dev != rootDev.Load(), Root: prev.Name, AgeDays: age, DaysLeft: left, From: prev.RestoreFrom(), Decl: c.declOf(decl - 1), StaleCopy: other == olderCopy, NewerCopy: other == newerCopy}}
		if other != noOther {
			r.v.MountedCopy = c.mountedCopy(decl-1, e.Path, nd)
		}
		r.entries.Store(1)
		if e.Mode&unix.S_IFMT == unix.S_IFREG {
			r.bytes.Store(e.Size)
		}
		mu.Lock()
		rows = append(rows, r)
		mu.Unlock()
		return &vstate{row: r}, isDir
	}
	var errs atomic.Int64
	_, err = scan.Walk(ctx, prev.Dir, scan.Options{Workers: c.cfg.Workers, OnError: func(string, error) { errs.Add(1) }}, visit)
	if err != nil {
		if ctx.Err() != nil {
			return // Check returns the context's error
		}
		c.warn(WarnUnreadable, "", fmt.Sprintf("cannot walk the previous root (old_roots/%s): %v: nothing listed as vanished", prev.Name, err))
		return
	}
	if n := errs.Load(); n > 0 {
		c.warn(WarnUnreadable, "", fmt.Sprintf("%s of the previous root (old_roots/%s) unreadable: what vanished below them is not listed", units.Plural(int64(n), "path", "paths"), prev.Name))
	}
	for _, r := range rows {
		v := r.v
		v.Entries, v.Bytes = r.entries.Load(), r.bytes.Load()
		a.Vanished = append(a.Vanished, v)
	}
	a.Vanished = activationOnly(prev.Dir, a.Vanished)
	sortVanished(a.Vanished)
}

// retiredAge is how many whole days ago the old root prev was retired (its
// Age: when drift retired it, else the time in its name: what the wipe
// counts from) and how many whole days are left before the wipe's cleanup
// deletes it (0 when due).
func retiredAge(prev *btrfs.OldRoot, now time.Time) (age, left int) {
	retired := prev.Age
	if retired.IsZero() {
		retired = prev.Time
	}
	age = int(now.Sub(retired) / (24 * time.Hour))
	left = max(int(btrfs.DeleteAt(retired, btrfs.DefaultOptions().KeepDays).Sub(now)/(24*time.Hour)), 0)
	if now.Before(retired) {
		age = 0
	}
	return age, left
}

func sortVanished(vs []Vanished) {
	slices.SortFunc(vs, func(x, y Vanished) int { return pathx.Compare(x.Path, y.Path) })
}
