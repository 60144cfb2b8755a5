//go:build linux

package scan

import (
	"os"

	"golang.org/x/sys/unix"

	ifsys "github.com/nix-drift/drift/internal/fsys"
)

// PairFS is WalkPair's filesystem seam: the descriptor-relative system
// calls of the lockstep walk and of its visitor. Tests wrap PairReal to
// inject failures (EACCES on one directory, an entry that vanishes between
// listing and lstat, a file swapped for a fifo before it is opened) and to
// track descriptors.
//
// Every name is NUL-terminated (name[len(name)-1] == 0) and holds the bytes
// of one path component exactly as on disk, except for Open, whose name may
// be a relative path of several components. Implementations must be safe
// for concurrent use.
type PairFS interface {
	// Open opens name below dirfd with openat2: flags (O_RDONLY plus
	// O_DIRECTORY for a directory, or O_NOCTTY|O_NONBLOCK and maybe
	// O_NOATIME for a file) with O_CLOEXEC|O_NOFOLLOW added, resolved with
	// RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS: never
	// through a symlink, never outside dirfd. A symlink yields ELOOP, a
	// missing name ENOENT; the caller closes the descriptor returned.
	Open(dirfd int, name []byte, flags int) (int, error)
	// Getdents reads raw linux_dirent64 records of the directory fd into
	// buf, like getdents64(2); 0 means the end of the directory.
	Getdents(fd int, buf []byte) (int, error)
	// Fstatat fills st for name in dirfd without following a symlink
	// (AT_SYMLINK_NOFOLLOW).
	Fstatat(dirfd int, name []byte, st *unix.Stat_t) error
	// Fstat fills st for the open descriptor fd.
	Fstat(fd int, st *unix.Stat_t) error
	// Readlinkat reads the target of the symlink name in dirfd into buf
	// and returns its length (truncated when buf is too small).
	Readlinkat(dirfd int, name []byte, buf []byte) (int, error)
	// Pread reads up to len(buf) bytes of fd at off, like pread(2).
	Pread(fd int, buf []byte, off int64) (int, error)
	// Close closes fd. WalkPair and its visitor close every descriptor
	// Open returned, exactly once, before WalkPair returns.
	Close(fd int) error
	// MountID returns the ID of the mount that name in dirfd is on, not
	// following a symlink: a mount point gives the ID of the mount on it,
	// a nested btrfs subvolume its parent's (mountID).
	MountID(dirfd int, name []byte) (uint64, error)
}

// PairReal is the PairFS of the running kernel: raw system calls on the
// NUL-terminated names, so the hot path allocates nothing. Raw passes
// getdents64 and fstatat through RawSyscall (Getdents says when that is
// right), as RawCalls decides for the two roots.
type PairReal struct{ Raw bool }

// Open is ifsys.OpenZ (internal/fsys).
func (PairReal) Open(dirfd int, name []byte, flags int) (int, error) {
	return ifsys.OpenZ(dirfd, name, flags)
}

// Getdents is Getdents, raw as fs.Raw says.
func (fs PairReal) Getdents(fd int, buf []byte) (int, error) { return Getdents(fd, buf, fs.Raw) }

// Fstatat is Fstatat with AT_SYMLINK_NOFOLLOW, retried (not raw) on EINTR.
func (fs PairReal) Fstatat(dirfd int, name []byte, st *unix.Stat_t) error {
	for raw := fs.Raw; ; raw = false {
		e := Fstatat(dirfd, name, st, unix.AT_SYMLINK_NOFOLLOW, raw)
		if e == unix.EINTR {
			continue // not raw again (Getdents says why)
		}
		if e != 0 {
			return e
		}
		return nil
	}
}

// Fstat is fstat(2), retried on EINTR.
func (PairReal) Fstat(fd int, st *unix.Stat_t) error {
	for {
		err := unix.Fstat(fd, st)
		if err == unix.EINTR {
			continue
		}
		return err
	}
}

// Readlinkat is Readlinkat.
func (PairReal) Readlinkat(dirfd int, name []byte, buf []byte) (int, error) {
	return Readlinkat(dirfd, name, buf)
}

// Pread is pread(2), retried on EINTR.
func (PairReal) Pread(fd int, buf []byte, off int64) (int, error) {
	for {
		n, err := unix.Pread(fd, buf, off)
		if err == unix.EINTR {
			continue
		}
		return n, err
	}
}

// Close is close(2).
func (PairReal) Close(fd int) error { return unix.Close(fd) }

// MountID is mountID of name, not followed.
func (PairReal) MountID(dirfd int, name []byte) (uint64, error) {
	return mountID(dirfd, string(name[:len(name)-1]), unix.AT_SYMLINK_NOFOLLOW)
}

// mountID returns the mount ID (as in mountinfo) of name in dirfd (""
// with AT_EMPTY_PATH in flags: dirfd itself): statx(2) STATX_MNT_ID (Linux
// 5.8), else the mount ID name_to_handle_at(2) returns (Linux 2.6.39; not
// on every filesystem). Errors are name_to_handle_at's.
func mountID(dirfd int, name string, flags int) (uint64, error) {
	var stx unix.Statx_t
	for {
		err := unix.Statx(dirfd, name, flags|unix.AT_NO_AUTOMOUNT|unix.AT_STATX_DONT_SYNC, unix.STATX_MNT_ID, &stx)
		if err == unix.EINTR {
			continue
		}
		if err == nil && stx.Mask&unix.STATX_MNT_ID != 0 {
			return stx.Mnt_id, nil
		}
		break
	}
	_, id, err := unix.NameToHandleAt(dirfd, name, flags&unix.AT_EMPTY_PATH)
	if err != nil {
		return 0, os.NewSyscallError("name_to_handle_at", err)
	}
	return uint64(id), nil
}
