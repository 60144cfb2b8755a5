package audit

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/mounts"
	"golang.org/x/sys/unix"
)

// findOldRoots finds the old roots of the last n boots for --old-roots
// spec: none, nothing; auto (a btrfs root with the live mount table),
// old_roots next to the root subvolume in the top level (Paths relative
// to it); DIR, the directory of old roots. note says what was found, for
// --verbose; errors are for warnings (a machine with no old roots is
// normal) and name the flag.
func findOldRoots(spec, root string, table *mounts.Table, liveMounts bool, top *btrfs.LazyTop, n int) (found btrfs.Recent, note string, err error) {
	if spec == "none" {
		return btrfs.Recent{Count: -1}, "", nil
	}
	auto, dir, skip, err := oldRootsWhere(spec, table, liveMounts)
	if skip != "" || err != nil {
		return btrfs.Recent{Count: -1}, skip, err
	}
	if auto {
		found, err = btrfs.RecentRootsInTop(top, root, n)
	} else {
		found, err = btrfs.RecentRootsIn(dir, root, n)
	}
	if err != nil {
		return btrfs.Recent{Count: -1}, "", oldRootsError(auto, err)
	}
	return found, "", nil
}

// oldRootsWhere resolves --old-roots spec other than none to where old
// roots are looked for: auto, old_roots next to the root subvolume in the
// top level, which needs the live mount table (liveMounts) and / on btrfs;
// DIR, dir made absolute. skip, when not empty, says why auto looks
// nowhere (for --verbose).
func oldRootsWhere(spec string, table *mounts.Table, liveMounts bool) (auto bool, dir, skip string, err error) {
	if spec != "auto" && spec != "" {
		dir, err = filepath.Abs(spec)
		return false, dir, "", err
	}
	if !liveMounts {
		return false, "", "--old-roots auto: not with --mountinfo (name the directory of old roots with --old-roots DIR)", nil
	}
	if rm := table.Shows("/"); rm == nil || rm.FSType != "btrfs" {
		return false, "", "--old-roots auto: / is not a btrfs subvolume, no old roots", nil
	}
	return true, "", "", nil
}

// oldRootsError names the flag in an error reading the old roots, and says
// how to get past a permission error of auto.
func oldRootsError(auto bool, err error) error {
	if !auto {
		return fmt.Errorf("--old-roots: %w", err)
	}
	if errors.Is(err, unix.EPERM) {
		err = fmt.Errorf("%w (run as root, or name them with --old-roots DIR, or --old-roots none)", err)
	}
	return fmt.Errorf("--old-roots auto: %w", err)
}

// recentNote says which old roots were found for --boots N (N > 1), for
// --verbose.
func recentNote(found btrfs.Recent) string {
	if len(found.Roots) == 0 {
		return "no old root in " + found.Where()
	}
	var names []string
	for _, r := range found.Roots {
		names = append(names, r.Name)
	}
	return fmt.Sprintf("comparing with %d old roots in %s, newest first: %s", len(found.Roots), found.Where(), strings.Join(names, ", "))
}

// readable sets each root's Dir (where it is read while drift runs: Path
// in the detached top level when found there, else Path, which is then
// also drift restore's --from) and makes its Time UTC.
func readable(found *btrfs.Recent, top *btrfs.LazyTop) {
	for i := range found.Roots {
		r := &found.Roots[i]
		r.Time = r.Time.UTC()
		if found.InTop {
			r.Dir = top.Join(r.Path)
		} else {
			r.Dir, r.From = r.Path, r.Path
		}
	}
}

// rootSubvolUnder returns diff.Config.Under for --root-subvol: none, nil
// (nothing is looked at under mount points); auto, btrfs.AutoView; PATH,
// btrfs.SubvolView, its errors prefixed with the flag and given hints.
func rootSubvolUnder(spec string, o btrfs.ViewOptions) (btrfs.UnderFunc, error) {
	switch spec {
	case "none":
		return nil, nil
	case "auto", "":
		return btrfs.AutoView(o), nil
	}
	under, err := btrfs.SubvolView(o, spec)
	var topErr *btrfs.TopError
	var notLive *btrfs.NotLiveError
	switch {
	case errors.As(err, &topErr):
		return nil, &HintError{Err: fmt.Errorf("--root-subvol %s: %w", spec, topErr.Err), Hint: "drift needs root to mount the top level of the filesystem behind /; --root-subvol none skips looking under mount points"}
	case errors.As(err, &notLive):
		return nil, &HintError{Err: fmt.Errorf("--root-subvol %s: %w", spec, err), Hint: fmt.Sprintf("--root-subvol /%s, or auto", notLive.LivePath)}
	case err != nil:
		return nil, fmt.Errorf("--root-subvol %s: %w", spec, err)
	}
	return under, nil
}

// findOldRoots fills m.OldRoots for o.OldRoots and o.Boots (or the
// previous root alone), saying what it found: a warning when they cannot
// be found, or when --old-roots names a directory (not auto or none) and
// none is there (the user asked for one), a note otherwise.
func (m *Model) findOldRoots(o Options, live bool, warn func(diff.WarningKind, string), note func(string)) {
	m.OldRoots = btrfs.Recent{Count: -1}
	n, what := o.Boots, "the old roots"
	if o.Previous {
		// The older ones too, for diff.Regen (judgeRegen): check says
		// "made again at every boot" of what suggest would.
		n, what = DefaultBoots, "the previous boot's root"
	}
	var msg string
	switch {
	case n == 0:
		msg = fmt.Sprintf("--boots %d: no old root compared", o.Boots)
	case o.OldRoots == "none" && o.Previous:
		msg = "--old-roots none: not looking for the previous boot's root"
	case o.OldRoots == "none":
		msg = "--old-roots none: no old root compared"
	default:
		found, skip, err := findOldRoots(o.OldRoots, m.Root, m.Mounts, live, m.top, n)
		if err != nil {
			warn(diff.WarnOldRoots, fmt.Sprintf("cannot find %s: %v", what, err))
		}
		m.OldRoots, msg = found, skip
		for _, r := range found.Future {
			warn(diff.WarnOldRoots, futureRoot(r, time.Now()))
		}
		for _, r := range found.NotRoots {
			warn(diff.WarnOldRoots, fmt.Sprintf("the old root %s does not look like a root (it %s): it is not taken as a past boot's root, and drift wipe keeps it", r.Name, r.NotRoot))
		}
		if err == nil && skip == "" {
			if msg = found.Note(); !o.Previous {
				msg = recentNote(found)
			}
			if len(found.Roots) == 0 && o.OldRoots != "auto" && o.OldRoots != "" {
				warn(diff.WarnOldRoots, fmt.Sprintf("--old-roots %s: %s", o.OldRoots, msg))
				return
			}
		}
	}
	if msg != "" {
		note(msg)
	}
}

// futureRoot is the warning about an old root dated after now
// (btrfs.OldRoot.DatedAfter), in the words of drift wipe's plan.
func futureRoot(r btrfs.OldRoot, now time.Time) string {
	return fmt.Sprintf("the clock (%s) is before the old root %s (%s): it is not taken as the previous boot's root, and drift wipe keeps it: the clock looks wrong (or the root was named by hand)", now.UTC().Format(time.RFC3339), r.Name, r.Time.UTC().Format(time.RFC3339))
}

// Previous is the previous boot's root, nil when none was found or looked
// for.
func (m *Model) Previous() *btrfs.OldRoot {
	if len(m.OldRoots.Roots) == 0 {
		return nil
	}
	return &m.OldRoots.Roots[0]
}
