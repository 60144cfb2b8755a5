package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/mounts"
	"golang.org/x/sys/unix"
)

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
		return nil, withHint(fmt.Errorf("--root-subvol %s: %w", spec, topErr.Err), "drift needs root to mount the top level of the filesystem behind /; --root-subvol none skips looking under mount points")
	case errors.As(err, &notLive):
		return nil, withHint(fmt.Errorf("--root-subvol %s: %w", spec, err), fmt.Sprintf("--root-subvol /%s, or auto", notLive.LivePath))
	case err != nil:
		return nil, fmt.Errorf("--root-subvol %s: %w", spec, err)
	}
	return under, nil
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

// previousRoot finds the previous boot's root for --old-roots: none, nil;
// auto (on a btrfs root, with the live mount table),
// btrfs.PreviousRootInTop, its Path relative to the top level (inTop);
// DIR, btrfs.PreviousRootIn. note says what was looked at (for --verbose);
// oldRoots how many old roots were found there (-1: not looked for).
// Errors are for warnings: a machine with no old roots is normal.
func previousRoot(spec, root string, table *mounts.Table, liveMounts bool, top *btrfs.LazyTop) (prev *btrfs.OldRoot, inTop bool, note string, oldRoots int, err error) {
	if spec == "none" {
		return nil, false, "--old-roots none: not looking for the previous boot's root", -1, nil
	}
	auto, dir, skip, err := oldRootsWhere(spec, table, liveMounts)
	if skip != "" || err != nil {
		return nil, false, skip, -1, err
	}
	var p btrfs.Previous
	if auto {
		p, err = btrfs.PreviousRootInTop(top, root)
	} else {
		p, err = btrfs.PreviousRootIn(dir, root)
	}
	if err != nil {
		return nil, false, "", -1, oldRootsError(auto, err)
	}
	if !p.Found {
		return nil, false, p.Note(), p.Count, nil
	}
	return &p.Root, p.InTop, p.Note(), p.Count, nil
}

// asPreviousRoot is diff.PreviousRoot for the old root r found by
// previousRoot or recentRoots, once top is detached: its Path joined to
// top's mount when inTop, else its directory as drift restore's --from
// (not in a top level where restore finds it by name).
func asPreviousRoot(r btrfs.OldRoot, inTop bool, top *btrfs.LazyTop) *diff.PreviousRoot {
	p := &diff.PreviousRoot{Name: r.Name, Time: r.Time.UTC(), Dir: r.Path}
	if inTop {
		p.Dir = top.Join(r.Path)
	} else {
		p.From = r.Path
	}
	return p
}
