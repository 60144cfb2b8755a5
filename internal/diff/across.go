package diff

import (
	"context"
	"fmt"
	"path"
	"strings"

	ifsys "github.com/nix-drift/drift/internal/fsys"
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
// opened; ctx's, once it is done.
func HistoryIn(ctx context.Context, root, dir, label string, items []*Item, workers int) ([]History, []Warning, error) {
	liveFD, err := ifsys.OpenRoot(root)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", root, err)
	}
	defer unix.Close(liveFD)
	prevFD, err := ifsys.OpenRoot(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", dir, err)
	}
	defer unix.Close(prevFD)
	var warnings []Warning
	var h *lockHist // nil: every item is looked up one by one
	if lockstepHistory {
		cmp, err := Compare(ctx, dir, root, CompareOptions{Workers: workers})
		switch {
		case ctx.Err() != nil:
			return nil, nil, ctx.Err()
		case err != nil:
			warnings = append(warnings, Warning{Kind: WarnHistory, Message: fmt.Sprintf("cannot compare the root with %s: %v: lost paths are looked up one by one", label, err)})
		default:
			h = newLockHist(cmp)
		}
	}
	live := func(it *Item) (int, string) { return liveFD, strings.TrimPrefix(it.Path, "/") }
	hs, failed, first := h.histories(ctx, live, prevFD, items, workers, label)
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if failed > 0 {
		warnings = append(warnings, Warning{Kind: WarnHistory, Path: strings.SplitN(first, ":", 2)[0], Message: fmt.Sprintf("%s not compared with %s (first: %s)", units.Plural(int64(failed), "lost path", "lost paths"), label, first)})
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
// same in the previous root, not of the whole lost set. Errors: root or
// dir cannot be opened; ctx's once it is done.
func SameIn(ctx context.Context, root, dir string, items []*Item) ([]bool, error) {
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
			cmp, err := Compare(ctx, path.Join(dir, rel), path.Join(root, rel), CompareOptions{Workers: 1})
			if err != nil || len(cmp.Diffs) > 0 {
				continue
			}
		}
		out[i] = true
	}
	return out, nil
}
