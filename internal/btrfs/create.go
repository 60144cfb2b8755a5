package btrfs

import (
	"fmt"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// volArgs is struct btrfs_ioctl_vol_args (include/uapi/linux/btrfs.h),
// 4096 bytes: a descriptor (unused here) and a NUL-terminated name.
type volArgs struct {
	Fd   int64
	Name [4088]byte
}

// iocSubvolCreate is BTRFS_IOC_SUBVOL_CREATE, _IOW(0x94, 14, struct
// btrfs_ioctl_vol_args).
const iocSubvolCreate = 1<<30 | uintptr(unsafe.Sizeof(volArgs{}))<<16 | 0x94<<8 | 14

// CreateSubvolumeAt creates an empty subvolume named name (one path
// component) in the directory dirfd, through BTRFS_IOC_SUBVOL_CREATE on
// that descriptor: no path is resolved, so nothing is reached through a
// symlink or across a mount. Its root directory is mode 0755, owned by
// the caller. Errors: a name that is not one component (nor "." or "..");
// EEXIST when name exists; ENOTTY (wrapped) when dirfd is not on btrfs;
// EPERM/EACCES without write permission on dirfd.
func CreateSubvolumeAt(dirfd int, name string) error {
	var a volArgs
	if name == "" || name == "." || name == ".." || strings.Contains(name, "/") || len(name) >= len(a.Name) {
		return fmt.Errorf("subvolume name %q: expected one path component", name)
	}
	copy(a.Name[:], name)
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(dirfd), iocSubvolCreate, uintptr(unsafe.Pointer(&a))); errno != 0 {
		return fmt.Errorf("BTRFS_IOC_SUBVOL_CREATE %s: %w", name, errno)
	}
	return nil
}

// OnBtrfs reports whether the open file fd lies on a btrfs filesystem
// (fstatfs(2) f_type BTRFS_SUPER_MAGIC). A failed fstatfs is reported as
// not btrfs.
func OnBtrfs(fd int) bool {
	var fs unix.Statfs_t
	return unix.Fstatfs(fd, &fs) == nil && uint32(fs.Type) == unix.BTRFS_SUPER_MAGIC
}

// IsSubvolumeRootAt reports whether st, the lstat of an entry of the open
// directory dirfd, is the root directory of a btrfs subvolume nested
// there: a directory with inode RootIno on another device than dirfd
// (each subvolume has its own st_dev), dirfd on btrfs. The caller has
// ruled out a mount point (statx STATX_ATTR_MOUNT_ROOT, or an open with
// RESOLVE_NO_XDEV): a mount of another btrfs filesystem's subvolume would
// pass this check too.
func IsSubvolumeRootAt(dirfd int, st *unix.Stat_t) bool {
	if st.Mode&unix.S_IFMT != unix.S_IFDIR || st.Ino != RootIno {
		return false
	}
	var parent unix.Stat_t
	if unix.Fstat(dirfd, &parent) != nil || parent.Dev == st.Dev {
		return false
	}
	return OnBtrfs(dirfd)
}
