//go:build linux

package fsys

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// FS is drift's filesystem seam: the descriptor-relative system calls of
// its walks (internal/scan's Walk of one tree, WalkPair of two in
// lockstep, and the comparison of their files). Real makes them; tests
// wrap it (internal/fsys/fsystest) to inject failures (EACCES on one
// directory, an entry that vanishes between listing and lstat, a directory
// swapped for a symlink, a file for a fifo) and to track descriptors.
//
// Every name is NUL-terminated (name[len(name)-1] == 0) and holds the bytes
// of one path component exactly as on disk, except for the walk root
// given to Openat and for OpenBeneath, whose name may be a relative path
// of several components. Implementations must be safe for concurrent use.
type FS interface {
	// Openat opens name relative to dirfd with openat(2) and flags, which
	// are O_RDONLY|O_DIRECTORY|O_CLOEXEC, plus O_NOFOLLOW for everything
	// but a walk root (which, with AT_FDCWD, may be a whole path). A
	// symlink yields ELOOP, a non-directory ENOTDIR, a missing name
	// ENOENT; the caller closes the descriptor returned.
	Openat(dirfd int, name []byte, flags int) (int, error)
	// OpenBeneath opens name below dirfd with openat2: flags (O_RDONLY
	// plus O_DIRECTORY for a directory, or O_NOCTTY|O_NONBLOCK and maybe
	// O_NOATIME for a file) with O_CLOEXEC|O_NOFOLLOW added, resolved with
	// RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS (OpenZ):
	// never through a symlink, never outside dirfd, a name of any length
	// (longer than PATH_MAX in chunks, as OpenZ). A symlink yields ELOOP,
	// a missing name ENOENT; the caller closes the descriptor returned.
	OpenBeneath(dirfd int, name []byte, flags int) (int, error)
	// Getdents reads raw linux_dirent64 records of the directory fd into
	// buf, like getdents64(2); 0 means the end of the directory.
	Getdents(fd int, buf []byte) (int, error)
	// Fstatat fills st for name relative to dirfd without following a
	// symlink: flags is AT_SYMLINK_NOFOLLOW, or AT_EMPTY_PATH with name
	// "\x00" to stat dirfd itself.
	Fstatat(dirfd int, name []byte, st *unix.Stat_t, flags int) error
	// Fstat fills st for the open descriptor fd.
	Fstat(fd int, st *unix.Stat_t) error
	// Readlinkat reads the target of the symlink name relative to dirfd
	// into buf and returns its length, like readlinkat(2) (no NUL added,
	// truncated when buf is too small).
	Readlinkat(dirfd int, name []byte, buf []byte) (int, error)
	// Pread reads up to len(buf) bytes of fd at off, like pread(2).
	Pread(fd int, buf []byte, off int64) (int, error)
	// Close closes fd. A walk closes every descriptor Openat and
	// OpenBeneath returned, exactly once, before it returns.
	Close(fd int) error
	// MountID returns the ID of the mount that name in dirfd is on, not
	// following a symlink: a mount point gives the ID of the mount on it,
	// a nested btrfs subvolume its parent's (MountID).
	MountID(dirfd int, name []byte) (uint64, error)
}

// Real is the FS of the running kernel: raw system calls on the
// NUL-terminated names, so the hot path allocates nothing. Raw makes the
// calls made per entry, per directory and per listing batch (fstatat,
// openat, close, getdents64) through RawSyscall (Getdents says when that
// is right).
type Real struct{ Raw bool }

// Openat is Openat, raw as fs.Raw says.
func (fs Real) Openat(dirfd int, name []byte, flags int) (int, error) {
	return Openat(dirfd, name, flags, fs.Raw)
}

// OpenBeneath is OpenZ.
func (Real) OpenBeneath(dirfd int, name []byte, flags int) (int, error) {
	return OpenZ(dirfd, name, flags)
}

// Getdents is Getdents, raw as fs.Raw says.
func (fs Real) Getdents(fd int, buf []byte) (int, error) { return Getdents(fd, buf, fs.Raw) }

// Fstatat is Fstatat, raw as fs.Raw says (EINTR retried, not raw). It is
// small enough to inline into the method the walks call through FS.
func (fs Real) Fstatat(dirfd int, name []byte, st *unix.Stat_t, flags int) error {
	// name is NUL-terminated, never empty: its first byte, unchecked.
	if e := rawFstatat(dirfd, unsafe.SliceData(name), st, flags, fs.Raw); e != 0 {
		return e
	}
	return nil
}

// Fstat is fstat(2), retried on EINTR.
func (Real) Fstat(fd int, st *unix.Stat_t) error {
	for {
		err := unix.Fstat(fd, st)
		if err == unix.EINTR {
			continue
		}
		return err
	}
}

// Readlinkat is Readlinkat.
func (Real) Readlinkat(dirfd int, name []byte, buf []byte) (int, error) {
	return Readlinkat(dirfd, name, buf)
}

// Pread is pread(2), retried on EINTR.
func (Real) Pread(fd int, buf []byte, off int64) (int, error) {
	for {
		n, err := unix.Pread(fd, buf, off)
		if err == unix.EINTR {
			continue
		}
		return n, err
	}
}

// Close is Close, raw as fs.Raw says.
func (fs Real) Close(fd int) error { return Close(fd, fs.Raw) }

// MountID is MountID of name, not followed.
func (Real) MountID(dirfd int, name []byte) (uint64, error) {
	return MountID(dirfd, string(name[:len(name)-1]), unix.AT_SYMLINK_NOFOLLOW)
}

// MountID returns the mount ID (as in mountinfo) of name in dirfd (""
// with AT_EMPTY_PATH in flags: dirfd itself): statx(2) STATX_MNT_ID (Linux
// 5.8), else the mount ID name_to_handle_at(2) returns (Linux 2.6.39; not
// on every filesystem). Errors are name_to_handle_at's.
func MountID(dirfd int, name string, flags int) (uint64, error) {
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
