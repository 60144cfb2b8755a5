package btrfs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/nix-drift/drift/internal/mounts"
	"golang.org/x/sys/unix"
)

// LazyTop is the top level (subvolid=5) of the filesystem behind an audited
// root, mounted detached (OpenTop: in no mount namespace, so that a walk of
// the root never enters it) on first use: the root's view and its old
// roots are read through it, paths into it taken with Join.
// The zero value is not usable: make one with NewLazyTop.
type LazyTop struct {
	ctx   context.Context
	root  string
	table *mounts.Table
	top   *Top
	err   error
	done  bool
}

// NewLazyTop returns the top level of the filesystem behind root, not yet
// opened; table is OpenTop's (the live mount table the caller read, or nil).
func NewLazyTop(ctx context.Context, root string, table *mounts.Table) *LazyTop {
	return &LazyTop{ctx: ctx, root: root, table: table}
}

// Get opens the top level on its first call (OpenTop on the root) and
// returns it, or the error of that one attempt, ever after.
func (l *LazyTop) Get() (*Top, error) {
	if !l.done {
		l.done = true
		l.top, l.err = OpenTop(l.ctx, l.root, l.table)
	}
	return l.top, l.err
}

// Join is the path of rel (relative to the top level) as it is now. The top
// level must have been opened.
func (l *LazyTop) Join(rel string) string { return filepath.Join(l.top.Dir, rel) }

// Close closes the top level if it was opened.
func (l *LazyTop) Close() {
	if l.top != nil {
		l.top.Close()
	}
}

// LiveSubvolume returns the path (relative to the top level) and id of the
// subvolume that shows root. Errors: root not on btrfs, listing the
// subvolumes (privilege), no subvolume of the top level with that id.
func LiveSubvolume(top *Top, root string) (string, uint64, error) {
	live, _, err := top.liveSubvolume(root)
	return live.Path, live.ID, err
}

// liveSubvolume is LiveSubvolume, also returning the subvolumes it listed
// (Subvolumes) so that a caller needing them does not list them again.
func (t *Top) liveSubvolume(root string) (Subvolume, []Subvolume, error) {
	info, err := SubvolumeOf(root)
	if err != nil {
		return Subvolume{}, nil, err
	}
	subs, err := t.Subvolumes()
	if err != nil {
		return Subvolume{}, nil, err
	}
	for _, s := range subs {
		if s.ID == info.ID {
			return s, subs, nil
		}
	}
	return Subvolume{}, nil, fmt.Errorf("%s shows subvolume %d, not found below the top level of %s", root, info.ID, t.Source)
}

// UnderFunc returns the directory that shows what is under mount point mp
// (relative to the root, "/" for the root mount) and a func that releases
// it, like mounts.Under; it is diff.Config.Under.
type UnderFunc = func(mp string) (dir string, release func(), err error)

// ViewOptions are the parts of a root's view that do not change with the
// rule chosen.
type ViewOptions struct {
	// Root is the audited root; Table its mount table relative to Root.
	Root  string
	Table *mounts.Table
	// Top is the top level of the filesystem behind Root. The UnderFunc
	// returned uses it only through Join.
	Top *LazyTop
	// NoOpenTree makes open_tree fail with ENOSYS (tests).
	NoOpenTree bool
}

func (o ViewOptions) openTree(mp string) (string, func(), error) {
	if o.NoOpenTree {
		return "", nil, &os.PathError{Op: "open_tree", Path: filepath.Join(o.Root, mp), Err: unix.ENOSYS}
	}
	return mounts.Under(filepath.Join(o.Root, mp))
}

func (o ViewOptions) btrfsRoot() (*mounts.Mount, bool) {
	rm := o.Table.Shows("/")
	return rm, rm != nil && rm.FSType == "btrfs"
}

// AutoView is the view under mount points of --root-subvol auto: a
// detached clone of each mount (mounts.Under). For the root mount, when it
// is btrfs and open_tree is not available (ENOSYS, EPERM: probed now), the
// live root subvolume (LiveSubvolume) is read through the top level
// instead; if that fails too, looking under the root mount fails with the
// probe's error and why the top level could not stand in. It never fails
// itself: errors are reported when a mount is looked under.
func AutoView(o ViewOptions) UnderFunc {
	if _, ok := o.btrfsRoot(); !ok {
		return o.openTree
	}
	_, release, probe := o.openTree("/")
	if probe == nil {
		release()
		return o.openTree
	}
	if !errors.Is(probe, unix.ENOSYS) && !errors.Is(probe, unix.EPERM) {
		return o.openTree // reported when the root is looked under
	}
	rel, fallback := "", error(nil)
	top, err := o.Top.Get()
	if err == nil {
		rel, _, err = LiveSubvolume(top, o.Root)
	}
	if err == nil {
		rel, _, err = top.CheckSubvolume(rel)
	}
	if err != nil {
		fallback = fmt.Errorf("%w; through the top level: %v", probe, err)
	}
	return func(mp string) (string, func(), error) {
		switch {
		case mp != "/":
			return o.openTree(mp)
		case fallback != nil:
			return "", nil, fallback
		}
		return o.Top.Join(rel), func() {}, nil
	}
}

// TopError is an error of SubvolView opening the top level (OpenTop):
// typically a lack of privilege.
type TopError struct{ Err error }

func (e *TopError) Error() string { return e.Err.Error() }
func (e *TopError) Unwrap() error { return e.Err }

// NotLiveError is the error of SubvolView when the subvolume named is not
// the one mounted at the root (compared by id).
type NotLiveError struct {
	// ID is the subvolume named; Root shows subvolume LiveID, which is
	// LivePath (relative to the top level) on Source.
	ID       uint64
	Root     string
	LiveID   uint64
	LivePath string
	Source   string
}

func (e *NotLiveError) Error() string {
	return fmt.Sprintf("subvolume %d, but %s is subvolume %d (/%s on %s)", e.ID, e.Root, e.LiveID, e.LivePath, e.Source)
}

// SubvolView is the view under mount points of --root-subvol PATH: for the
// root mount, the subvolume path (relative to the top level) read through
// the top level; it must be the subvolume mounted at the root. Other mounts
// as for AutoView. Errors: the root mount is not btrfs, *TopError, path not
// a subvolume (Top.CheckSubvolume), the live subvolume not found
// (LiveSubvolume), *NotLiveError.
func SubvolView(o ViewOptions, path string) (UnderFunc, error) {
	rm, ok := o.btrfsRoot()
	if !ok {
		what := "nothing"
		if rm != nil {
			what = "a " + rm.FSType
		}
		return nil, fmt.Errorf("%s shows %s, not a btrfs subvolume", o.Root, what)
	}
	top, err := o.Top.Get()
	if err != nil {
		return nil, &TopError{Err: err}
	}
	rel, id, err := top.CheckSubvolume(path)
	if err != nil {
		return nil, err
	}
	livePath, liveID, err := LiveSubvolume(top, o.Root)
	if err != nil {
		return nil, err
	}
	if id != liveID {
		return nil, &NotLiveError{ID: id, Root: o.Root, LiveID: liveID, LivePath: livePath, Source: top.Source}
	}
	return func(mp string) (string, func(), error) {
		if mp == "/" {
			return o.Top.Join(rel), func() {}, nil
		}
		return o.openTree(mp)
	}, nil
}

// Recent is what a look for the roots of past boots found
// (RecentRootsInTop, RecentRootsIn).
type Recent struct {
	// Roots are the old roots of the last boots asked for, newest first by
	// real time; Roots[0], when there is one, is the previous boot's root.
	Roots []OldRoot
	// InTop says the Roots' Paths are relative to the top level (LazyTop.Join
	// them); Source is the top level's source.
	InTop  bool
	Source string
	// Dir is the directory looked in: relative to the top level when InTop.
	Dir string
	// Count is how many old roots Dir holds: entries with old-root names
	// of the kinds looked for, the live root not counted (the
	// drift_old_roots metric).
	Count int
	// Future are the old roots (as counted in Count) dated after the clock
	// when they were looked for (OldRoot.DatedAfter), oldest first: never
	// among Roots, not the root of any past boot; the clock or the name is
	// wrong. Drift wipe keeps them (Plan: "the clock looks wrong").
	Future []OldRoot
	// NotRoots are the subvolumes with old-root names that do not look
	// like a root (OldRoot.NotRoot: a home snapshot named by its date),
	// oldest first: never among Roots nor counted in Count. Drift wipe
	// keeps them.
	NotRoots []OldRoot
}

// Where names the directory looked in: SOURCE:/DIR in the top level, else
// DIR.
func (r Recent) Where() string {
	if r.InTop {
		return r.Source + ":/" + r.Dir
	}
	return r.Dir
}

// Note says what was found as the previous boot's root, for --verbose:
// "the previous boot's root is WHERE (TIME)" or "no old root in WHERE",
// WHERE being SOURCE:/PATH for a root in the top level.
func (r Recent) Note() string {
	switch {
	case len(r.Roots) > 0 && r.InTop:
		return fmt.Sprintf("the previous boot's root is %s:/%s (%s)", r.Source, r.Roots[0].Path, r.Roots[0].Time.UTC().Format(time.RFC3339))
	case len(r.Roots) > 0:
		return fmt.Sprintf("the previous boot's root is %s (%s)", r.Roots[0].Path, r.Roots[0].Time.UTC().Format(time.RFC3339))
	}
	return "no old root in " + r.Where()
}

// oldRootLook is one look for the roots of past boots: the entries of a
// directory of old roots, the kinds that count there and the live root,
// never counted. PreviousRoot and RecentRoots choose among them.
type oldRootLook struct {
	roots []OldRoot
	kinds []Kind
	live  func(OldRoot) bool
	// inTop, source and dir are Recent.InTop, Source and Dir.
	inTop       bool
	source, dir string
}

// lookInTop is the look of --old-roots auto: the subvolumes of old_roots
// next to the live root subvolume of root (OldRootsBeside) in the top
// level, the live root being the subvolume that shows root. Errors are
// opening the top level, listing subvolumes or mounts, reading old_roots.
func lookInTop(lt *LazyTop, root string) (oldRootLook, error) {
	top, err := lt.Get()
	if err != nil {
		return oldRootLook{}, err
	}
	liveSub, subs, err := top.liveSubvolume(root)
	if err != nil {
		return oldRootLook{}, err
	}
	dir := OldRootsBeside(liveSub.Path)
	mounted, err := top.MountedIDs()
	if err != nil {
		return oldRootLook{}, err
	}
	roots, err := top.OldRoots(dir, subs, mounted, time.UTC)
	if err != nil {
		return oldRootLook{}, err
	}
	live := func(r OldRoot) bool { return r.ID == liveSub.ID }
	return oldRootLook{roots: roots, kinds: []Kind{KindSubvolume}, live: live, inTop: true, source: top.Source, dir: dir}, nil
}

// lookIn is the look of --old-roots DIR: the subvolumes and directories of
// dir (absolute, OldRootsDir), the live root being the subvolume that shows
// root, or root itself. Errors are OldRootsDir's.
func lookIn(dir, root string) (oldRootLook, error) {
	roots, err := OldRootsDir(dir, time.UTC)
	if err != nil {
		return oldRootLook{}, err
	}
	liveFI, _ := os.Stat(root)
	var liveID uint64
	if info, err := SubvolumeOf(root); err == nil {
		liveID = info.ID
	}
	live := func(r OldRoot) bool {
		if r.Kind == KindSubvolume && r.ID == liveID {
			return true
		}
		fi, err := os.Stat(r.Path)
		return err == nil && liveFI != nil && os.SameFile(fi, liveFI)
	}
	return oldRootLook{roots: roots, kinds: []Kind{KindSubvolume, KindDir}, live: live, dir: dir}, nil
}

// recent is the look's roots of the last n boots (RecentRoots), with the
// count of old roots it chose among: none dated after now (DatedAfter),
// which are listed in Future instead.
func (l oldRootLook) recent(n int, now time.Time) Recent {
	var future, notRoots []OldRoot
	for _, r := range l.roots {
		if !r.Parsed || !slices.Contains(l.kinds, r.Kind) || l.live(r) {
			continue
		}
		if r.NotRoot != "" {
			notRoots = append(notRoots, r)
		} else if r.DatedAfter(now) {
			future = append(future, r)
		}
	}
	skip := PastBoot(l.live, now)
	return Recent{Roots: RecentRoots(l.roots, l.kinds, skip, n), InTop: l.inTop, Source: l.source, Dir: l.dir, Count: countOldRoots(l.roots, l.kinds, func(r OldRoot) bool { return l.live(r) || r.NotRoot != "" }), Future: future, NotRoots: notRoots}
}

// countOldRoots counts the entries of roots that PreviousRoot could choose:
// old-root names, of kinds, not skipped.
func countOldRoots(roots []OldRoot, kinds []Kind, skip func(OldRoot) bool) int {
	n := 0
	for _, r := range roots {
		if r.Parsed && slices.Contains(kinds, r.Kind) && !skip(r) {
			n++
		}
	}
	return n
}
