package btrfs

import (
	"slices"
	"time"
)

// RecentRoots returns up to n entries of roots, newest first by real time
// (SortOldRoots, never string order), of the kinds given and not rejected
// by skip: the roots of the last n boots, the first being PreviousRoot's
// choice. Entries whose names are not old-root names (ParseName) are never
// among them. n < 1 gives none.
func RecentRoots(roots []OldRoot, kinds []Kind, skip func(OldRoot) bool, n int) []OldRoot {
	sorted := append([]OldRoot(nil), roots...)
	SortOldRoots(sorted)
	var out []OldRoot
	for i := len(sorted) - 1; i >= 0 && len(out) < n; i-- {
		c := sorted[i]
		if !c.Parsed || !slices.Contains(kinds, c.Kind) || (skip != nil && skip(c)) {
			continue
		}
		out = append(out, c)
	}
	return out
}

// RecentRootsInTop finds the old roots of the last n boots for
// --old-roots auto: up to n subvolumes of old_roots next to the live root
// subvolume of root (OldRootsBeside) in the top level, newest first by real
// time, never the live root itself (a root renamed into old_roots after
// it was mounted); the first is the previous boot's
// root; an old root dated after now (OldRoot.DatedAfter) is never one of
// them (Recent.Future lists it). Paths are relative to the top level. The caller checks that root is
// a btrfs subvolume. Errors (opening the top level, listing subvolumes or
// mounts, reading old_roots) are for warnings; none found is not an error.
func RecentRootsInTop(lt *LazyTop, root string, n int) (Recent, error) {
	l, err := lookInTop(lt, root)
	if err != nil {
		return Recent{}, err
	}
	return l.recent(n, time.Now()), nil
}

// RecentRootsIn finds the old roots of the last n boots for --old-roots
// DIR: up to n subvolumes or directories of dir (absolute, OldRootsDir),
// newest first by real time, never the live root (the subvolume that shows
// root, or root itself) nor one dated after now (Recent.Future). Errors are OldRootsDir's.
func RecentRootsIn(dir, root string, n int) (Recent, error) {
	l, err := lookIn(dir, root)
	if err != nil {
		return Recent{}, err
	}
	return l.recent(n, time.Now()), nil
}

// PastBoot is the rule of which old roots can be a past boot's root, the
// one notion of "the previous boot's root" every command reads: drift
// check's history and the last boots drift suggest weighs (RecentRoots*),
// drift restore --from latest (PickOldRoot), drift roots' mark
// (Plan.OldRoots' Previous). It rejects the live root (live, nil for
// none: a root renamed into old_roots after it was mounted), one dated
// after now (DatedAfter: the clock, or the name, is wrong) and one that
// does not look like a root (NotRoot: a home snapshot named by its date).
func PastBoot(live func(OldRoot) bool, now time.Time) func(OldRoot) bool {
	return func(r OldRoot) bool { return (live != nil && live(r)) || r.DatedAfter(now) || r.NotRoot != "" }
}

// DatedAfter reports whether r is dated after now (r.Time: the time in its
// name, read as UTC as the initrd writes it): no past boot's root can be,
// so it is never the previous boot's root; the clock, or the name, is
// wrong. Drift wipe's plan keeps such roots for the same reason ("the
// clock looks wrong").
func (r OldRoot) DatedAfter(now time.Time) bool { return r.Time.After(now) }
