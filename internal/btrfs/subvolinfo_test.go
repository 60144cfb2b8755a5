package btrfs

import (
	"errors"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/testutil"
)

func TestSubvolInfoABI(t *testing.T) {
	if n := unsafe.Sizeof(getSubvolInfoArgs{}); n != 504 {
		t.Errorf("sizeof(btrfs_ioctl_get_subvol_info_args) = %d, want 504", n)
	}
	if iocGetSubvolInfo != 0x81f8943c {
		t.Errorf("BTRFS_IOC_GET_SUBVOL_INFO = %#x, want 0x81f8943c", iocGetSubvolInfo)
	}
}

// TestSubvolumeOfNotBtrfs: on another filesystem, SubvolumeOf fails with
// ENOTTY. /proc is never btrfs; the temporary directory is tried too when
// it is not on btrfs.
func TestSubvolumeOfNotBtrfs(t *testing.T) {
	for _, dir := range []string{"/proc", t.TempDir()} {
		var sfs unix.Statfs_t
		if err := unix.Statfs(dir, &sfs); err != nil {
			t.Fatal(err)
		}
		if uint32(sfs.Type) == unix.BTRFS_SUPER_MAGIC {
			continue
		}
		if _, err := SubvolumeOf(dir); !errors.Is(err, unix.ENOTTY) {
			t.Errorf("SubvolumeOf(%s) on a non-btrfs filesystem: %v, want ENOTTY", dir, err)
		}
	}
}

// TestSubvolumeOfSnapshot: the creation time of a snapshot is when it was
// taken, while statx's birth time of its root directory is its source's
// (why drift check reads the subvolume's otime, not STATX_BTIME).
func TestSubvolumeOfSnapshot(t *testing.T) {
	if !inNamespace(t) {
		return
	}
	im := newImage(t)
	im.subvol("blank", time.Time{})
	time.Sleep(20 * time.Millisecond)
	before := time.Now()
	sh(t, "btrfs", "subvolume", "snapshot", im.P("blank"), im.P("root"))
	after := time.Now()
	testutil.Must(t, unix.Mkdir(im.P("root/etc"), 0o755))

	blank, err := SubvolumeOf(im.P("blank"))
	testutil.Must(t, err)
	root, err := SubvolumeOf(im.P("root/etc")) // any path inside it
	testutil.Must(t, err)
	if root.Name != "root" || root.ParentID != TopLevelID || root.ID == blank.ID {
		t.Errorf("SubvolumeOf(root/etc) = %+v, want subvolume root in the top level", root)
	}
	slack := 50 * time.Millisecond // the kernel's coarse clock
	if root.OTime.Before(before.Add(-slack)) || root.OTime.After(after.Add(slack)) {
		t.Errorf("snapshot otime %s, want between %s and %s", root.OTime, before, after)
	}
	if !blank.OTime.Before(root.OTime) {
		t.Errorf("blank otime %s not before the snapshot's %s", blank.OTime, root.OTime)
	}
	subs, err := (&Top{Dir: im.Top}).Subvolumes()
	testutil.Must(t, err)
	for _, s := range subs {
		if s.ID == root.ID && !s.OTime.Equal(root.OTime) {
			t.Errorf("tree search otime %s, ioctl %s", s.OTime, root.OTime)
		}
	}
	birth := func(p string) time.Time {
		var stx unix.Statx_t
		testutil.Must(t, unix.Statx(unix.AT_FDCWD, p, 0, unix.STATX_BTIME, &stx))
		return time.Unix(stx.Btime.Sec, int64(stx.Btime.Nsec))
	}
	btime, blankBtime := birth(im.P("root")), birth(im.P("blank"))
	if !btime.Equal(blankBtime) || !btime.Before(root.OTime) {
		t.Errorf("statx birth time of the snapshot's root %s, want the blank root's %s (the inode is copied), before the snapshot's creation %s", btime, blankBtime, root.OTime)
	}
	t.Logf("blank otime %s, snapshot otime %s, snapshot root statx btime %s", blank.OTime, root.OTime, btime)
}

// TestSubvolumeRoot: the root directory of a subvolume is one, with its id
// and creation time; a plain directory inside it (inode other than
// RootIno) and a directory not on btrfs are not.
func TestSubvolumeRoot(t *testing.T) {
	if !inNamespace(t) {
		return
	}
	im := newImage(t)
	im.subvol("root", time.Time{})
	testutil.Must(t, unix.Mkdir(im.P("root/etc"), 0o755))
	want, err := SubvolumeOf(im.P("root"))
	testutil.Must(t, err)
	if got, ok := SubvolumeRoot(im.P("root")); !ok || got.ID != want.ID || !got.OTime.Equal(want.OTime) {
		t.Errorf("SubvolumeRoot(root) = %+v, %v, want %+v", got, ok, want)
	}
	for _, p := range []string{im.P("root/etc"), t.TempDir(), im.P("missing")} {
		if got, ok := SubvolumeRoot(p); ok {
			t.Errorf("SubvolumeRoot(%s) = %+v, want not a subvolume root", p, got)
		}
	}
}
