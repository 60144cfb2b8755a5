package btrfs

import "slices"

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

// RecentRootsInTop is PreviousRootInTop for the last n boots (drift suggest
// --boots): up to n subvolumes of old_roots next to the live root
// subvolume, newest first, never the live root. Paths are relative to the
// top level. dir is the old_roots directory looked in (relative to the top
// level) and source the top level's source, for messages.
func RecentRootsInTop(lt *LazyTop, root string, n int) (roots []OldRoot, dir, source string, err error) {
	l, err := lookInTop(lt, root)
	if err != nil {
		return nil, "", "", err
	}
	return l.recent(n), l.dir, l.source, nil
}

// RecentRootsIn is PreviousRootIn for the last n boots: up to n subvolumes
// or directories of dir (absolute, OldRootsDir), newest first, never the
// live root. Errors are OldRootsDir's.
func RecentRootsIn(dir, root string, n int) ([]OldRoot, error) {
	l, err := lookIn(dir, root)
	if err != nil {
		return nil, err
	}
	return l.recent(n), nil
}
