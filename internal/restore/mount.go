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
type MountError struct {
	Side string // "source" or "destination"
	Path string // the mount point, as a full path (root included)
}

func (e *MountError) Error() string {
	return fmt.Sprintf("%s %s is a mount point: drift never crosses a mount boundary", e.Side, e.Path)
}

// lstatAt is fstatat(dirfd, name, AT_SYMLINK_NOFOLLOW) by statx, which also
// says whether name is the root of a mount (STATX_ATTR_MOUNT_ROOT; Linux
// 5.8 and later: on older kernels the attribute is never set, and the opens
// with RESOLVE_NO_XDEV still refuse a directory mount point).
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
	// Stat_t's field types differ between architectures (Nlink, the
	// times on 386): fstatat fills it, and must see the object statx saw.
	for {
		if err := unix.Fstatat(dirfd, name, st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return false, err
		}
		break
	}
	if st.Ino != x.Ino || st.Dev != unix.Mkdev(x.Dev_major, x.Dev_minor) {
		return false, fmt.Errorf("%s: replaced while it was read", name)
	}
	return x.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 && x.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0, nil
}
