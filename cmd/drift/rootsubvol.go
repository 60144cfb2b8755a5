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
// audited root, mounted privately on first use (btrfs.OpenTop):
// --root-subvol and --old-roots read through it. Everything that needs the
// mount attached (listing subvolumes, finding mounts) happens before the
// walk; detach then takes it out of the mount namespace (btrfs.Top.Detach),
// so that the walk of the root never enters it, and paths into it are taken
// with join afterwards.
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

// detach detaches the top level if it was opened.
func (c *checkTop) detach() error {
	if c.top == nil {
		return nil
	}
	return c.top.Detach()
}

// join is the path of rel (relative to the top level) as it is now.
func (c *checkTop) join(rel string) string { return filepath.Join(c.top.Dir, rel) }

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
	return "", 0, fmt.Errorf("%s shows subvolume %d, not found below the top level of %s", root, info.ID, top.Source)
}

// rootSubvolUnder returns diff.Config.Under for --root-subvol:
//
//   - none: nil, nothing is looked at under mount points;
//   - auto: a detached clone of each ephemeral mount (mounts.Under); for the
//     root mount, when open_tree is not available (ENOSYS, EPERM: probed
//     now) and it is btrfs, the live root subvolume read through the top
//     level instead;
//   - PATH: the subvolume PATH of the top level, read through the top level,
//     for the root mount; it must be the subvolume mounted at the root
//     (compared by id). Other ephemeral mounts as for auto.
//
// table is the mount table relative to root; noOpenTree makes open_tree
// fail with ENOSYS (tests). The Under returned uses ct only through join,
// so ct may be detached before it is called.
func rootSubvolUnder(spec, root string, table *mounts.Table, ct *checkTop, noOpenTree bool) (func(string) (string, func(), error), error) {
	openTree := func(mp string) (string, func(), error) {
		if noOpenTree {
			return "", nil, &os.PathError{Op: "open_tree", Path: filepath.Join(root, mp), Err: unix.ENOSYS}
		}
		return mounts.Under(filepath.Join(root, mp))
	}
	rm := table.Shows("/")
	btrfsRoot := rm != nil && rm.FSType == "btrfs"
	switch spec {
	case "none":
		return nil, nil
	case "auto", "":
		if !btrfsRoot {
			return openTree, nil
		}
		_, release, probe := openTree("/")
		if probe == nil {
			release()
			return openTree, nil
		}
		if !errors.Is(probe, unix.ENOSYS) && !errors.Is(probe, unix.EPERM) {
			return openTree, nil // reported when the root is looked under
		}
		rel, fallback := "", error(nil)
		top, err := ct.get()
		if err == nil {
			rel, _, err = liveSubvolume(top, root)
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
				return openTree(mp)
			case fallback != nil:
				return "", nil, fallback
			}
			return ct.join(rel), func() {}, nil
		}, nil
	}
	if !btrfsRoot {
		what := "nothing"
		if rm != nil {
			what = "a " + rm.FSType
		}
		return nil, fmt.Errorf("--root-subvol %s: %s shows %s, not a btrfs subvolume", spec, root, what)
	}
	top, err := ct.get()
	if err != nil {
		return nil, withHint(fmt.Errorf("--root-subvol %s: %w", spec, err), "drift needs root to mount the top level of the filesystem behind /; --root-subvol none skips looking under mount points")
	}
	rel, id, err := top.CheckSubvolume(spec)
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
			return ct.join(rel), func() {}, nil
		}
		return openTree(mp)
	}, nil
}

// previousRoot finds the previous boot's root for --old-roots:
//
//   - none: nil;
//   - auto: on a btrfs root, the newest subvolume by real time in old_roots
//     next to the root subvolume (btrfs.OldRootsBeside) in the top level,
//     never the live root (C18); nil when there is none. Its Dir is relative
//     to the top level (rel is true): join it once ct is detached;
//   - DIR: the newest subvolume or directory by real time in DIR, never the
//     live root.
//
// note says what was looked at (for --verbose). Errors are for warnings:
// a machine with no old roots is normal.
func previousRoot(spec, root string, table *mounts.Table, liveMounts bool, ct *checkTop) (prev *diff.PreviousRoot, rel bool, note string, err error) {
	switch spec {
	case "none":
		return nil, false, "--old-roots none: not looking for the previous boot's root", nil
	case "auto", "":
		if !liveMounts {
			return nil, false, "--old-roots auto: not with --mountinfo (name the directory of old roots with --old-roots DIR)", nil
		}
		if rm := table.Shows("/"); rm == nil || rm.FSType != "btrfs" {
			return nil, false, "--old-roots auto: / is not a btrfs subvolume, no old roots", nil
		}
		fail := func(err error) (*diff.PreviousRoot, bool, string, error) {
			if errors.Is(err, unix.EPERM) {
				err = fmt.Errorf("%w (run as root, or name them with --old-roots DIR, or --old-roots none)", err)
			}
			return nil, false, "", fmt.Errorf("--old-roots auto: %w", err)
		}
		top, err := ct.get()
		if err != nil {
			return fail(err)
		}
		livePath, liveID, err := liveSubvolume(top, root)
		if err != nil {
			return fail(err)
		}
		dir := btrfs.OldRootsBeside(livePath)
		subs, err := top.Subvolumes()
		if err != nil {
			return fail(err)
		}
		mounted, err := top.MountedIDs()
		if err != nil {
			return fail(err)
		}
		roots, err := top.OldRoots(dir, subs, mounted, time.UTC)
		if err != nil {
			return fail(err)
		}
		r, ok := btrfs.PreviousRoot(roots, []btrfs.Kind{btrfs.KindSubvolume}, func(r btrfs.OldRoot) bool { return r.ID == liveID })
		if !ok {
			return nil, false, fmt.Sprintf("no old root in %s:/%s", top.Source, dir), nil
		}
		return &diff.PreviousRoot{Name: r.Name, Time: r.Time.UTC(), Dir: r.Path}, true,
			fmt.Sprintf("the previous boot's root is %s:/%s (%s)", top.Source, r.Path, r.Time.UTC().Format(time.RFC3339)), nil
	}
	dir, err := filepath.Abs(spec)
	if err != nil {
		return nil, false, "", err
	}
	roots, err := btrfs.OldRootsDir(dir, time.UTC)
	if err != nil {
		return nil, false, "", fmt.Errorf("--old-roots: %w", err)
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
		return nil, false, fmt.Sprintf("no old root in %s", dir), nil
	}
	return &diff.PreviousRoot{Name: r.Name, Time: r.Time.UTC(), Dir: r.Path}, false,
		fmt.Sprintf("the previous boot's root is %s (%s)", r.Path, r.Time.UTC().Format(time.RFC3339)), nil
}
