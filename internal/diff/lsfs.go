package diff

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/scan"
)

// fsys is Compare's filesystem seam: the descriptor-relative system calls
// of its lockstep walk. Tests wrap realFS to inject failures (EACCES on one
// directory, an entry that vanishes between listing and lstat, a file
// swapped for a fifo before it is opened) and to track descriptors.
//
// Every name is NUL-terminated (name[len(name)-1] == 0) and holds the bytes
// of one path component exactly as on disk, except for open, whose name may
// be a relative path of several components. Implementations must be safe
// for concurrent use.
type fsys interface {
	// open opens name below dirfd with openat2: flags (O_RDONLY plus
	// O_DIRECTORY for a directory, or O_NOCTTY|O_NONBLOCK and maybe
	// O_NOATIME for a file) with O_CLOEXEC|O_NOFOLLOW added, resolved with
	// RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS: never
	// through a symlink, never outside dirfd. A symlink yields ELOOP, a
	// missing name ENOENT; the caller closes the descriptor returned.
	open(dirfd int, name []byte, flags int) (int, error)
	// getdents reads raw linux_dirent64 records of the directory fd into
	// buf, like getdents64(2); 0 means the end of the directory.
	getdents(fd int, buf []byte) (int, error)
	// fstatat fills st for name in dirfd without following a symlink
	// (AT_SYMLINK_NOFOLLOW).
	fstatat(dirfd int, name []byte, st *unix.Stat_t) error
	// fstat fills st for the open descriptor fd.
	fstat(fd int, st *unix.Stat_t) error
	// readlinkat reads the target of the symlink name in dirfd into buf
	// and returns its length (truncated when buf is too small).
	readlinkat(dirfd int, name []byte, buf []byte) (int, error)
	// pread reads up to len(buf) bytes of fd at off, like pread(2).
	pread(fd int, buf []byte, off int64) (int, error)
	// close closes fd. Compare closes every descriptor open returned,
	// exactly once, before it returns.
	close(fd int) error
	// mountID returns the ID of the mount that name in dirfd is on, not
	// following a symlink: a mount point gives the ID of the mount on it,
	// a nested btrfs subvolume its parent's (mountID).
	mountID(dirfd int, name []byte) (uint64, error)
}

// realFS is the fsys of the running kernel: raw system calls on the
// NUL-terminated names, so the hot path allocates nothing. raw passes
// getdents64 and fstatat through RawSyscall (scan.Getdents says when that
// is right), as scan.RawCalls decides for Compare's two roots.
type realFS struct{ raw bool }

func (realFS) open(dirfd int, name []byte, flags int) (int, error) {
	return openat2(dirfd, name, flags)
}

func (fs realFS) getdents(fd int, buf []byte) (int, error) { return scan.Getdents(fd, buf, fs.raw) }

func (fs realFS) fstatat(dirfd int, name []byte, st *unix.Stat_t) error {
	for raw := fs.raw; ; raw = false {
		e := scan.Fstatat(dirfd, name, st, unix.AT_SYMLINK_NOFOLLOW, raw)
		if e == unix.EINTR {
			continue // not raw again (scan.Getdents says why)
		}
		if e != 0 {
			return e
		}
		return nil
	}
}

func (realFS) fstat(fd int, st *unix.Stat_t) error {
	for {
		err := unix.Fstat(fd, st)
		if err == unix.EINTR {
			continue
		}
		return err
	}
}

func (realFS) readlinkat(dirfd int, name []byte, buf []byte) (int, error) {
	return scan.Readlinkat(dirfd, name, buf)
}

func (realFS) pread(fd int, buf []byte, off int64) (int, error) {
	for {
		n, err := unix.Pread(fd, buf, off)
		if err == unix.EINTR {
			continue
		}
		return n, err
	}
}

func (realFS) close(fd int) error { return unix.Close(fd) }

func (realFS) mountID(dirfd int, name []byte) (uint64, error) {
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
