package restore

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// MountError reports a mount point met where restore reads or writes: a
// bind mount inside the old root would make restore copy what it binds, one
// inside the persistent storage path (or the destination) would send the
// copy, or the removal of the copy it replaces, outside it. Restore never
// crosses one, as it never goes through a symlink.
//
// Subvolume marks a directory on another device than the one holding it
// that is no mount point: a nested btrfs subvolume (what a container
// manager or a user made), never deleted nor replaced with what holds it.
type MountError struct {
	Side      string // "source" or "destination"
	Path      string // the mount point, as a full path (root included)
	Subvolume bool
}

func (e *MountError) Error() string {
	if e.Subvolume {
		return fmt.Sprintf("%s %s is a btrfs subvolume (another device than the directory holding it): drift never deletes one, nor replaces a tree that holds one", e.Side, e.Path)
	}
	return fmt.Sprintf("%s %s is a mount point: drift never crosses a mount boundary", e.Side, e.Path)
}

// lstatAt is fstatat(dirfd, name, AT_SYMLINK_NOFOLLOW) by one statx,
// which also says whether name is the root of a mount
// (STATX_ATTR_MOUNT_ROOT; Linux 5.8 and later: on older kernels the
// attribute is never set, and the opens with RESOLVE_NO_XDEV still refuse a
// directory mount point).
func lstatAt(dirfd int, name string, st *unix.Stat_t) (mountRoot bool, err error) {
	var x unix.Statx_t
	for {
		err = unix.Statx(dirfd, name, unix.AT_SYMLINK_NOFOLLOW|unix.AT_NO_AUTOMOUNT, unix.STATX_BASIC_STATS, &x)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		return false, err
	}
	statxToStat(&x, st)
	return x.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 && x.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0, nil
}

// statxToStat fills st with what fstatat would have said of x's object.
// Stat_t's field types differ between architectures (Nlink, Blksize, the
// times on 386 and arm): each is set through a conversion to its own type.
func statxToStat(x *unix.Statx_t, st *unix.Stat_t) {
	*st = unix.Stat_t{}
	setU(&st.Dev, unix.Mkdev(x.Dev_major, x.Dev_minor))
	setU(&st.Ino, x.Ino)
	setU(&st.Nlink, uint64(x.Nlink))
	setU(&st.Mode, uint64(x.Mode))
	setU(&st.Uid, uint64(x.Uid))
	setU(&st.Gid, uint64(x.Gid))
	setU(&st.Rdev, unix.Mkdev(x.Rdev_major, x.Rdev_minor))
	setI(&st.Size, int64(x.Size))
	setI(&st.Blksize, int64(x.Blksize))
	setI(&st.Blocks, int64(x.Blocks))
	statxTime(&st.Atim, x.Atime)
	statxTime(&st.Mtim, x.Mtime)
	statxTime(&st.Ctim, x.Ctime)
}

func setU[T ~uint16 | ~uint32 | ~uint64](p *T, v uint64) { *p = T(v) }
func setI[T ~int32 | ~int64 | ~uint32](p *T, v int64)    { *p = T(v) }

func statxTime(t *unix.Timespec, x unix.StatxTimestamp) {
	setI(&t.Sec, x.Sec)
	setI(&t.Nsec, int64(x.Nsec))
}
