package btrfs

import (
	"fmt"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// SubvolumeInfo is what the kernel says of the subvolume that holds a path
// (BTRFS_IOC_GET_SUBVOL_INFO).
type SubvolumeInfo struct {
	// ID is the subvolume id; ParentID the id of the subvolume whose tree
	// holds it (0 for the top level).
	ID       uint64
	ParentID uint64
	// Name is its name in its parent directory ("" for the top level).
	Name string
	// Generation is the root item's generation: the transaction that last
	// wrote its tree.
	Generation uint64
	// CTransID is the transaction of its last change (ctransid): any write
	// to a file or directory in it, an atime update included, raises it.
	// The root item is written at a transaction's commit: syncfs(2) first
	// for a value that counts the latest changes.
	CTransID uint64
	// OTime is when the subvolume was created: the root item's otime. For a
	// snapshot it is when the snapshot was taken, unlike statx(2)'s
	// STATX_BTIME of its root directory, which a snapshot copies from its
	// source (the inode is shared until it is changed).
	OTime time.Time
}

// btrfsIoctlTimespec is struct btrfs_ioctl_timespec (include/uapi/linux/btrfs.h).
type btrfsIoctlTimespec struct {
	Sec  uint64
	Nsec uint32
	_    uint32
}

// getSubvolInfoArgs is struct btrfs_ioctl_get_subvol_info_args, 504 bytes.
type getSubvolInfoArgs struct {
	TreeID                         uint64
	Name                           [256]byte
	ParentID, DirID                uint64
	Generation, Flags              uint64
	UUID, ParentUUID, ReceivedUUID [16]byte
	CTransID, OTransID             uint64
	STransID, RTransID             uint64
	CTime, OTime, STime, RTime     btrfsIoctlTimespec
	Reserved                       [8]uint64
}

// iocGetSubvolInfo is BTRFS_IOC_GET_SUBVOL_INFO, _IOR(0x94, 60, struct
// btrfs_ioctl_get_subvol_info_args).
const iocGetSubvolInfo = 2<<30 | uintptr(unsafe.Sizeof(getSubvolInfoArgs{}))<<16 | 0x94<<8 | 60

// SubvolumeOf returns the subvolume that holds the file or directory at p
// (a symlink is followed), through BTRFS_IOC_GET_SUBVOL_INFO: one ioctl on
// one descriptor, no privilege needed (Linux ≥ 4.18). Errors: p cannot be
// opened; ENOTTY when p is not on btrfs (or the kernel is older).
func SubvolumeOf(p string) (SubvolumeInfo, error) {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	if err != nil {
		return SubvolumeInfo{}, &os.PathError{Op: "open", Path: p, Err: err}
	}
	defer unix.Close(fd)
	var a getSubvolInfoArgs
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), iocGetSubvolInfo, uintptr(unsafe.Pointer(&a))); errno != 0 {
		return SubvolumeInfo{}, &os.PathError{Op: "BTRFS_IOC_GET_SUBVOL_INFO", Path: p, Err: errno}
	}
	n := 0
	for n < len(a.Name) && a.Name[n] != 0 {
		n++
	}
	info := SubvolumeInfo{ID: a.TreeID, ParentID: a.ParentID, Name: string(a.Name[:n]), Generation: a.Generation, CTransID: a.CTransID}
	if a.OTime.Sec != 0 || a.OTime.Nsec != 0 {
		if a.OTime.Nsec >= 1e9 {
			return info, fmt.Errorf("%s: subvolume %d: bad otime nanoseconds %d", p, a.TreeID, a.OTime.Nsec)
		}
		info.OTime = time.Unix(int64(a.OTime.Sec), int64(a.OTime.Nsec))
	}
	return info, nil
}

// RootIno is the inode number of a subvolume's root directory
// (BTRFS_FIRST_FREE_OBJECTID, include/uapi/linux/btrfs_tree.h). A
// directory with it on btrfs is the root of a subvolume; elsewhere it is
// just a number: SubvolumeRoot asks the kernel too.
const RootIno = 256

// SubvolumeRoot returns the subvolume whose root directory dir is (a
// symlink is followed, as the user named it): dir is a directory with
// inode RootIno and BTRFS_IOC_GET_SUBVOL_INFO answers for it (SubvolumeOf).
// ok is false for a plain directory, anything not on btrfs, or what cannot
// be read.
func SubvolumeRoot(dir string) (info SubvolumeInfo, ok bool) {
	var st unix.Stat_t
	if unix.Stat(dir, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR || st.Ino != RootIno {
		return SubvolumeInfo{}, false
	}
	info, err := SubvolumeOf(dir)
	return info, err == nil
}
