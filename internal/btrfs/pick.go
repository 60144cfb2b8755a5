package btrfs

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Latest names the newest old root (PickOldRoot).
const Latest = "latest"

// ErrNoOldRoot is returned (wrapped) by PickOldRoot when nothing matches.
var ErrNoOldRoot = errors.New("no such old root")

// PickOldRoot returns the entry of roots (as from OldRoots) called name, or
// for Latest the previous boot's root as drift check takes it: the newest
// verified subvolume with an old-root name by real time (OldRoot.Time, the
// order of SortOldRoots: 2026-11-10 after 2026-11-9, a .1 after its twin),
// never by string, that a past boot can have left (PastBoot: not dated
// after now; such a root is named in the error when it is the only
// one); a subvolume named otherwise (manual-backup) is not an old root and
// never the latest. A named entry must be a subvolume or a directory: a
// symlink (never followed) or anything else is an error. A name that is
// not there finds the one entry whose name denotes the same time (byName:
// zero-padded or not). Errors wrap ErrNoOldRoot when nothing matches.
func PickOldRoot(roots []OldRoot, name string, now time.Time) (OldRoot, error) {
	if name == Latest {
		kinds := []Kind{KindSubvolume} // managed: a subvolume with an old-root name
		if r, ok := PreviousRoot(roots, kinds, PastBoot(nil, now)); ok {
			return r, nil
		}
		if r, ok := PreviousRoot(roots, kinds, nil); ok {
			return OldRoot{}, fmt.Errorf("%w: the only subvolume with an old-root name, %s, is dated after now (%s): no past boot left it, the clock looks wrong (or the root was named by hand); name it with --from %s to read it", ErrNoOldRoot, r.Name, now.UTC().Format(time.RFC3339), r.Name)
		}
		return OldRoot{}, fmt.Errorf("%w: no subvolume with an old-root name (YYYY-MM-D_hh:mm:ss[.N]) among the %d entries of old_roots", ErrNoOldRoot, len(roots))
	}
	r, err := byName(roots, name)
	if err != nil {
		return OldRoot{}, err
	}
	switch r.Kind {
	case KindSubvolume, KindDir:
		return r, nil
	case KindSymlink:
		return OldRoot{}, fmt.Errorf("%s is a symlink: drift never follows one", r.Path)
	default:
		return OldRoot{}, fmt.Errorf("%s is not a directory", r.Path)
	}
}

// byName returns the entry of roots called name, else the one whose name
// denotes the same time and collision suffix (ParseName: 2026-11-09_03:04:05
// finds 2026-11-9_03:04:05, the seed's spelling). Several such entries and
// none called name exactly is an error naming them.
func byName(roots []OldRoot, name string) (OldRoot, error) {
	for _, r := range roots {
		if r.Name == name {
			return r, nil
		}
	}
	var same []OldRoot
	if want, err := ParseName(name, time.UTC); err == nil {
		for _, r := range roots {
			if !r.Parsed {
				continue
			}
			if got, err := ParseName(r.Name, time.UTC); err == nil && got.Seq == want.Seq && got.Time.Equal(want.Time) {
				same = append(same, r)
			}
		}
	}
	switch len(same) {
	case 0:
		return OldRoot{}, fmt.Errorf("%w: %s", ErrNoOldRoot, name)
	case 1:
		return same[0], nil
	}
	names := make([]string, len(same))
	for i, r := range same {
		names[i] = r.Name
	}
	return OldRoot{}, fmt.Errorf("%s names the same time as %s: give one of them exactly", name, strings.Join(names, " and "))
}

// FindOldRoot lists the old roots in the directory dir (relative to the top
// level; names parsed in loc) and picks name among them (PickOldRoot, at
// now).
func (t *Top) FindOldRoot(dir, name string, loc *time.Location, now time.Time) (OldRoot, error) {
	dir, err := CleanRel("--old-roots", dir)
	if err != nil {
		return OldRoot{}, err
	}
	subs, err := t.Subvolumes()
	if err != nil {
		return OldRoot{}, err
	}
	mounted, err := t.MountedIDs()
	if err != nil {
		return OldRoot{}, err
	}
	roots, err := t.OldRoots(dir, subs, mounted, loc)
	if err != nil {
		return OldRoot{}, err
	}
	r, err := PickOldRoot(roots, name, now)
	if err != nil {
		return OldRoot{}, fmt.Errorf("%s of %s: %w", dir, t.Source, err)
	}
	return r, nil
}
