package btrfs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nix-drift/drift/internal/mounts"
)

// Beneath is a directory as a tree comparison reads it: without the mounts
// stacked below it. An old root is a plain subvolume; the live root it is
// compared with has the persistent bind mounts, /nix, /proc… on it, and
// what it holds is what lies beneath them (the empty mount-point files and
// directories the boot made, files hidden under a mount).
type Beneath struct {
	// Dir is what to read: the directory as named when nothing is mounted
	// below it, else a view of it beneath those mounts ("/proc/self/fd/N",
	// valid in this process until Close).
	Dir string
	// Mounts are the mount points below the directory, relative to it
	// ("/nix", "/etc/machine-id"), in mount order; nil when nothing is
	// mounted below it.
	Mounts []string
	// How says how the view was made: "" (nothing mounted below),
	// "open_tree" (a detached non-recursive clone of the mount, nothing
	// mounted anywhere), or "top level" (the subvolume read through a
	// detached mount of its filesystem's top level: OpenTop).
	How string

	release func()
	top     *LazyTop
}

// Close releases the view; it is safe on a nil or already closed Beneath.
func (b *Beneath) Close() {
	if b == nil {
		return
	}
	if b.release != nil {
		b.release()
		b.release = nil
	}
	if b.top != nil {
		b.top.Close()
		b.top = nil
	}
}

// BeneathError is the error of OpenBeneath when dir has mounts below it
// and no view of it beneath them could be made.
type BeneathError struct {
	// Dir is the directory as named; Mounts as Beneath.Mounts.
	Dir    string
	Mounts []string
	// Err is why no view was made: open_tree's error (EPERM without
	// CAP_SYS_ADMIN, ENOSYS before Linux 5.2), with the top level's when
	// that was tried too; or the view showing another directory.
	Err error
}

func (e *BeneathError) Error() string {
	return fmt.Sprintf("%s has %s below it, and it cannot be read beneath its mounts: %v", e.Dir, MountList(e.Mounts, 3), e.Err)
}

func (e *BeneathError) Unwrap() error { return e.Err }

// MountList names mount points for a message: "1 mount (/nix)", "5 mounts
// (/nix, /proc, /sys and 2 more)", at most max of them by name.
func MountList(mps []string, max int) string {
	noun := "mounts"
	if len(mps) == 1 {
		noun = "mount"
	}
	names := mps
	if len(names) > max {
		names = names[:max]
	}
	s := fmt.Sprintf("%d %s (%s", len(mps), noun, strings.Join(names, ", "))
	if len(mps) > len(names) {
		s += fmt.Sprintf(" and %d more", len(mps)-len(names))
	}
	return s + ")"
}

// OpenBeneath returns dir (a directory, named as the user named it) as it
// is read beneath the mounts below it, table being the live mount table
// (absolute mount points). With nothing mounted below it (a visible mount
// whose mount point is strictly below dir, after symlinks are resolved),
// Dir is dir itself and nothing is opened. Else the view is the one drift
// check uses under mount points (AutoView): a detached non-recursive clone
// of dir (open_tree(2)); where that is unavailable and dir is shown by a
// btrfs mount, the subvolume behind it read through the top level of its
// filesystem (a detached mount: OpenTop). The view
// must show dir itself (same device and inode), or it is refused. Errors:
// dir missing or not a directory; *BeneathError when no view could be
// made (no privilege, an old kernel). noOpenTree makes open_tree fail as
// before Linux 5.2 (tests of the top level's view). The caller Closes the
// result.
func OpenBeneath(ctx context.Context, dir string, table *mounts.Table, noOpenTree bool) (*Beneath, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s: not a directory", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	resolved, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, err
	}
	rel := table.Relative(resolved)
	var below []string
	for i, m := range rel.Mounts {
		if m.MountPoint != "/" && rel.Visible(i) {
			below = append(below, m.MountPoint)
		}
	}
	if len(below) == 0 {
		return &Beneath{Dir: dir}, nil
	}
	b := &Beneath{Mounts: below, top: NewLazyTop(ctx, resolved, table)}
	under := AutoView(ViewOptions{Root: resolved, Table: rel, Top: b.top, NoOpenTree: noOpenTree})
	view, release, err := under("/")
	if err == nil {
		b.Dir, b.release, b.How = view, release, "open_tree"
		if b.top.top != nil {
			b.How = "top level"
		}
		var vi os.FileInfo
		if vi, err = os.Stat(view); err == nil && !os.SameFile(fi, vi) {
			err = fmt.Errorf("the view beneath the mounts (%s) shows another directory", b.How)
		}
	}
	if err != nil {
		b.Close()
		return nil, &BeneathError{Dir: dir, Mounts: below, Err: err}
	}
	return b, nil
}
