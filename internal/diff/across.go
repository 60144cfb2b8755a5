package diff

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync/atomic"

	ifsys "github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/scan"
	"github.com/nix-drift/drift/internal/units"
	"golang.org/x/sys/unix"
)

// HistoryIn compares each item (lost items of an audit of root) with the
// same path in another old root, dir, named label ("old_roots/NAME"),
// exactly as Check compares them with the previous root (Item.History),
// and at the same cost: one lockstep walk (Compare) of dir against root
// for the items on the filesystem at /, one lookup each for the others
// (lockHist.histories): HistoryNew when dir lacks the path, HistoryChanged
// when it differs, HistorySame when identical. It is how drift suggest
// --boots looks further back than the previous boot. The result is
// parallel to items; a path that cannot be compared gets NoHistory and
// counts in one warning. When the walk fails, the warning says so and
// every item is looked up one by one. Errors: root or dir cannot be
// opened; ctx's, once it is done. It is CompareOlder then
// OlderRoot.Histories.
func HistoryIn(ctx context.Context, root, dir, label string, items []*Item, workers int) ([]History, []Warning, error) {
	o, err := CompareOlder(ctx, root, dir, label, workers)
	if err != nil {
		return nil, nil, err
	}
	return o.Histories(ctx, items, workers)
}

// OlderRoot is an old root compared with the audited root ahead of the
// lookups of HistoryIn: the lockstep walk's result (the paths that are not
// the same, a few per cent of a tree), kept until the lost set is known.
// An audit that needs the history of its lost paths in old roots past the
// previous one (drift suggest --boots) compares them before its own walk,
// while its heap is small: compared after it, each walk's garbage made the
// collector mark the whole lost set again and again near the soft memory
// limit (drift suggest --boots 2 on 1,000,000 lost paths: 50 s of the
// collector's CPU for one old root).
type OlderRoot struct {
	root, dir, label string
	h                *lockHist // nil: every item is looked up one by one
	warnings         []Warning
}

// CompareOlder runs the lockstep walk (Compare) of the old root dir, named
// label ("old_roots/NAME"), against root, for OlderRoot.Histories. A walk
// that fails is a warning of the result (its items are then looked up one
// by one), not an error. Errors: root or dir cannot be opened; ctx's, once
// it is done.
func CompareOlder(ctx context.Context, root, dir, label string, workers int) (*OlderRoot, error) {
	for _, d := range []string{root, dir} {
		fd, err := ifsys.OpenRoot(d)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d, err)
		}
		unix.Close(fd)
	}
	o := &OlderRoot{root: root, dir: dir, label: label}
	if lockstepHistory {
		cmp, err := Compare(ctx, dir, root, CompareOptions{Workers: workers})
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil:
			o.warnings = append(o.warnings, Warning{Kind: WarnHistory, Message: fmt.Sprintf("cannot compare the root with %s: %v: lost paths are looked up one by one", label, err)})
		default:
			o.h = newLockHist(cmp)
		}
	}
	return o, nil
}

// Histories is HistoryIn's result for items from the comparison o holds:
// one History per item, the warnings of the walk and of the items that
// could not be compared. Errors: o's roots cannot be opened again; ctx's,
// once it is done.
func (o *OlderRoot) Histories(ctx context.Context, items []*Item, workers int) ([]History, []Warning, error) {
	liveFD, err := ifsys.OpenRoot(o.root)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", o.root, err)
	}
	defer unix.Close(liveFD)
	prevFD, err := ifsys.OpenRoot(o.dir)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", o.dir, err)
	}
	defer unix.Close(prevFD)
	warnings := slices.Clone(o.warnings)
	live := func(it *Item) (int, string) { return liveFD, strings.TrimPrefix(it.Path, "/") }
	hs, failed, first := o.h.histories(ctx, live, prevFD, items, workers, o.label)
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if failed > 0 {
		warnings = append(warnings, Warning{Kind: WarnHistory, Path: strings.SplitN(first, ":", 2)[0], Message: fmt.Sprintf("%s not compared with %s (first: %s)", units.Plural(int64(failed), "lost path", "lost paths"), o.label, first)})
	}
	return hs, warnings, nil
}

// IDNames are a root's user and group names by numeric id, from its
// /etc/passwd and /etc/group, then the ids they lack from
// /var/lib/nixos/uid-map and gid-map (as the ownership check reads them).
type IDNames struct {
	Users, Groups map[uint32]string
}

// ReadIDNames reads root's names (IDNames); problems (unreadable or
// malformed files) are returned as warnings, never as an error.
func ReadIDNames(root string) (IDNames, []Warning) {
	c := &classifier{}
	fd, err := ifsys.OpenRoot(root)
	if err != nil {
		return IDNames{Users: map[uint32]string{}, Groups: map[uint32]string{}}, []Warning{{Kind: WarnIDs, Path: "/", Message: err.Error()}}
	}
	defer unix.Close(fd)
	h := &hist{c: c}
	db := h.loadIDs(fd, "the audited root")
	return IDNames{Users: db.uid, Groups: db.gid}, c.warnings
}

// SameIn reports, for each of items (lost paths of an audit of root, on
// root itself), whether the old root at dir holds it the same: the same
// type, mode, owner, symlink target and bytes (itemHistory's comparison),
// and for a directory everything below it too (Compare of the two
// subtrees, no difference). A path that cannot be compared is not the
// same. It looks up only these paths: Regen asks it of the few paths the
// same in the previous root, not of the whole lost set. differs, in
// pathx.Compare order, are paths where root is known to differ from
// another old root (the previous root: the lost paths changed or new
// there, and what vanished from it); an old root tends to differ where
// that one does, so those below a directory item are looked up in dir
// first (differsBelow), and one found different settles that the subtree
// is not the same without the Compare that reads every file of it. Errors:
// root or dir cannot be opened; ctx's once it is done.
func SameIn(ctx context.Context, root, dir string, items []*Item, differs []string) ([]bool, error) {
	liveFD, err := ifsys.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", root, err)
	}
	defer unix.Close(liveFD)
	oldFD, err := ifsys.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	defer unix.Close(oldFD)
	live := func(it *Item) (int, string) { return liveFD, strings.TrimPrefix(it.Path, "/") }
	hs := newHasher(nil)
	hs.ctx = ctx
	out := make([]bool, len(items))
	for i, it := range items {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h, err := itemHistory(live, oldFD, hs, it)
		if err != nil || h != HistorySame {
			continue
		}
		if it.IsDir() {
			rel := strings.TrimPrefix(it.Path, "/")
			if differsBelow(path.Join(dir, rel), path.Join(root, rel), hs, it.Path, differs) {
				continue
			}
			subtreeCompares.Add(1)
			cmp, err := Compare(ctx, path.Join(dir, rel), path.Join(root, rel), CompareOptions{Workers: 1})
			if err != nil || len(cmp.Diffs) > 0 {
				continue
			}
		}
		out[i] = true
	}
	return out, nil
}

// subtreeCompares counts SameIn's Compare runs, for the test that holds
// differsBelow to settling a subtree without one.
var subtreeCompares atomic.Int64

// probesAtMost bounds the paths differsBelow looks up below one directory
// before leaving the answer to Compare.
const probesAtMost = 16

// differsBelow reports whether one of the paths of differs below the
// directory p (at most probesAtMost of them) is known to differ between
// the subtrees at a and b (p in the old root and in the live root, opened
// as Compare opens them) as Compare of a and b would find it (pathDiffers).
// false says nothing: the subtrees are then compared whole.
func differsBelow(a, b string, hs *hasher, p string, differs []string) bool {
	i, _ := slices.BinarySearchFunc(differs, p, pathx.Compare)
	var fd [2]int
	opened := 0
	defer func() {
		for _, f := range fd[:opened] {
			unix.Close(f)
		}
	}()
	for n := 0; i < len(differs) && n < probesAtMost; i++ {
		q := differs[i]
		if q == p {
			continue
		}
		if !pathx.HasPrefix(q, p) {
			break
		}
		for ; opened < 2; opened++ {
			f, err := openRoot([2]string{a, b}[opened])
			if err != nil {
				return false
			}
			fd[opened] = f
		}
		n++
		if d, known := pathDiffers(fd, strings.TrimPrefix(q[len(p):], "/"), hs); known && d {
			return true
		}
	}
	return false
}

// pathDiffers looks rel (relative, not empty) up beneath the directories
// fd[0] (an old root's) and fd[1] (the live root's) as Compare of the two
// reads it: its parent reached without following a symlink or crossing a
// mount point, the name lstat'ed there. differs is true when it is on one
// side only or WhatChanged calls the two not Same (content compared by
// hash, as itemHistory does). known is false when either side cannot be
// looked up so: a mount point, a symlink or a non-directory on the way,
// an error; the answer is then Compare's.
func pathDiffers(fd [2]int, rel string, hs *hasher) (differs, known bool) {
	dir, name := path.Split(rel)
	dir = strings.TrimSuffix(dir, "/")
	var e [2]scan.Entry
	var present [2]bool
	pfd := [2]int{-1, -1}
	defer func() {
		for _, f := range pfd {
			if f >= 0 {
				unix.Close(f)
			}
		}
	}()
	for s := range 2 {
		dfd := fd[s]
		if dir != "" {
			f, err := ifsys.OpenNoXDev(fd[s], dir, unix.O_PATH|unix.O_DIRECTORY)
			if err != nil {
				return false, false
			}
			pfd[s], dfd = f, f
		}
		var st unix.Stat_t
		switch err := unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); {
		case err == unix.ENOENT:
			continue
		case err != nil:
			return false, false
		}
		present[s] = true
		target := ""
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			var err error
			if target, err = ifsys.Readlink(dfd, name); err != nil {
				return false, false
			}
		}
		e[s] = entryOf("/"+name, &st, target)
	}
	if present[0] != present[1] {
		return true, true
	}
	if !present[0] {
		return false, true
	}
	dfd := func(s int) int {
		if pfd[s] >= 0 {
			return pfd[s]
		}
		return fd[s]
	}
	ch, _, err := WhatChanged(&e[0], &e[1], false, func() (bool, error) { return hs.sameFiles(dfd(0), &e[0], dfd(1), &e[1]) })
	if err != nil {
		return false, false
	}
	return ch != Same, true
}
