package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/mounts"
	"golang.org/x/sys/unix"
)

// checkTop is the top level (subvolid=5) of the filesystem behind the
// audited root, mounted privately on first use (btrfs.OpenTop) and kept
// until close: --root-subvol and --old-roots read through it.
type checkTop struct {
	ctx  context.Context
	root string
	top  *btrfs.Top
	err  error
	done bool
}

func (c *checkTop) get() (*btrfs.Top, error) {
	if !c.done {
		c.done = true
		c.top, c.err = btrfs.OpenTop(c.ctx, c.root)
	}
	return c.top, c.err
}

func (c *checkTop) close() {
	if c.top != nil {
		c.top.Close()
	}
}

// liveSubvolume returns the path (relative to the top level) and id of the
// subvolume that shows root.
func liveSubvolume(top *btrfs.Top, root string) (string, uint64, error) {
	info, err := btrfs.SubvolumeOf(root)
	if err != nil {
		return "", 0, err
	}
	subs, err := top.Subvolumes()
	if err != nil {
		return "", 0, err
	}
	for _, s := range subs {
		if s.ID == info.ID {
			return s.Path, s.ID, nil
		}
	}
	if info.ID == btrfs.TopLevelID {
		return "", info.ID, nil
	}
	return "", 0, fmt.Errorf("subvolume %d (at %s) not found on %s", info.ID, root, top.Source)
}

// rootSubvolUnder returns diff.Config.Under for --root-subvol:
//
//   - none: nil, nothing is looked at under mount points;
//   - auto: a detached clone of each ephemeral mount (mounts.Under); for the
//     root mount, when open_tree is not available (ENOSYS, EPERM), the live
//     root subvolume read through the private top-level mount instead;
//   - PATH: the subvolume PATH of the top level, read through the private
//     top-level mount, for the root mount; it must be the subvolume mounted
//     at the root (compared by id). Other ephemeral mounts as for auto.
//
// ct is where the top level comes from; table is the mount table relative
// to root. noOpenTree makes open_tree fail with ENOSYS (tests).
func rootSubvolUnder(spec, root string, table *mounts.Table, ct *checkTop, noOpenTree bool) (func(string) (string, func(), error), error) {
	openTree := func(mp string) (string, func(), error) {
		if noOpenTree {
			return "", nil, &os.PathError{Op: "open_tree", Path: filepath.Join(root, mp), Err: unix.ENOSYS}
		}
		return mounts.Under(filepath.Join(root, mp))
	}
	switch spec {
	case "none":
		return nil, nil
	case "auto", "":
		return func(mp string) (string, func(), error) {
			dir, release, err := openTree(mp)
			if err == nil || mp != "/" || !(errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM)) {
				return dir, release, err
			}
			top, err2 := ct.get()
			if err2 == nil {
				var rel string
				if rel, _, err2 = liveSubvolume(top, root); err2 == nil {
					if rel == "" {
						err2 = errors.New("/ is the top level itself")
					} else if dir, _, err2 = top.SubvolumeDir(rel); err2 == nil {
						return dir, func() {}, nil
					}
				}
			}
			return "", nil, fmt.Errorf("%w; through the top level: %v", err, err2)
		}, nil
	}
	rm := table.Shows("/")
	if rm == nil || rm.FSType != "btrfs" {
		what := "nothing"
		if rm != nil {
			what = rm.FSType
		}
		return nil, fmt.Errorf("--root-subvol %s: %s is %s, not a btrfs subvolume", spec, root, what)
	}
	top, err := ct.get()
	if err != nil {
		return nil, withHint(fmt.Errorf("--root-subvol %s: %w", spec, err), "drift needs root to mount the top level of the filesystem behind /; --root-subvol none skips looking under mount points")
	}
	dir, id, err := top.SubvolumeDir(spec)
	if err != nil {
		return nil, fmt.Errorf("--root-subvol %s: %w", spec, err)
	}
	livePath, liveID, err := liveSubvolume(top, root)
	if err != nil {
		return nil, fmt.Errorf("--root-subvol %s: %w", spec, err)
	}
	if id != liveID {
		return nil, withHint(fmt.Errorf("--root-subvol %s: subvolume %d, but %s is subvolume %d (/%s on %s)", spec, id, root, liveID, livePath, top.Source),
			fmt.Sprintf("--root-subvol /%s, or auto", livePath))
	}
	return func(mp string) (string, func(), error) {
		if mp == "/" {
			return dir, func() {}, nil
		}
		return openTree(mp)
	}, nil
}

// previousRoot finds the previous boot's root for --old-roots:
//
//   - none: nil;
//   - auto: on a btrfs root, the newest subvolume by real time in old_roots
//     next to the root subvolume (btrfs.OldRootsBeside) in the top level,
//     never the live root (C18); nil when there is none;
//   - DIR: the newest subvolume or directory by real time in DIR, never the
//     live root.
//
// note says what was looked at (for --verbose). Errors are for warnings:
// a machine with no old roots is normal.
func previousRoot(spec, root string, table *mounts.Table, liveMounts bool, ct *checkTop) (prev *diff.PreviousRoot, note string, err error) {
	switch spec {
	case "none":
		return nil, "--old-roots none: not looking for the previous boot's root", nil
	case "auto", "":
		if !liveMounts {
			return nil, "--old-roots auto: not with --mountinfo (name the directory of old roots with --old-roots DIR)", nil
		}
		rm := table.Shows("/")
		if rm == nil || rm.FSType != "btrfs" {
			return nil, "--old-roots auto: / is not a btrfs subvolume, no old roots", nil
		}
		top, err := ct.get()
		if err != nil {
			return nil, "", fmt.Errorf("--old-roots auto: %w", err)
		}
		livePath, liveID, err := liveSubvolume(top, root)
		if err != nil {
			return nil, "", fmt.Errorf("--old-roots auto: %w", err)
		}
		dir := btrfs.OldRootsBeside(livePath)
		subs, err := top.Subvolumes()
		if err != nil {
			return nil, "", fmt.Errorf("--old-roots auto: %w", err)
		}
		mounted, err := top.MountedIDs()
		if err != nil {
			return nil, "", fmt.Errorf("--old-roots auto: %w", err)
		}
		roots, err := top.OldRoots(dir, subs, mounted, time.UTC)
		if err != nil {
			return nil, "", fmt.Errorf("--old-roots auto: %w", err)
		}
		r, ok := btrfs.PreviousRoot(roots, []btrfs.Kind{btrfs.KindSubvolume}, func(r btrfs.OldRoot) bool { return r.ID == liveID })
		if !ok {
			return nil, fmt.Sprintf("no old root in %s:/%s", top.Source, dir), nil
		}
		return &diff.PreviousRoot{Name: r.Name, Time: r.Time.UTC(), Dir: filepath.Join(top.Dir, r.Path)},
			fmt.Sprintf("the previous boot's root is %s:/%s (%s)", top.Source, r.Path, r.Time.UTC().Format(time.RFC3339)), nil
	}
	dir, err := filepath.Abs(spec)
	if err != nil {
		return nil, "", err
	}
	roots, err := btrfs.OldRootsDir(dir, time.UTC)
	if err != nil {
		return nil, "", fmt.Errorf("--old-roots: %w", err)
	}
	live, _ := os.Stat(root)
	var liveID uint64
	if info, err := btrfs.SubvolumeOf(root); err == nil {
		liveID = info.ID
	}
	r, ok := btrfs.PreviousRoot(roots, []btrfs.Kind{btrfs.KindSubvolume, btrfs.KindDir}, func(r btrfs.OldRoot) bool {
		if r.Kind == btrfs.KindSubvolume && r.ID == liveID {
			return true
		}
		fi, err := os.Stat(r.Path)
		return err == nil && live != nil && os.SameFile(fi, live)
	})
	if !ok {
		return nil, fmt.Sprintf("no old root in %s", dir), nil
	}
	return &diff.PreviousRoot{Name: r.Name, Time: r.Time.UTC(), Dir: r.Path},
		fmt.Sprintf("the previous boot's root is %s (%s)", r.Path, r.Time.UTC().Format(time.RFC3339)), nil
}
