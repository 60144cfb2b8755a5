//go:build linux

package scan

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// fsys is the filesystem seam: the five dirfd-relative system calls Walk
// makes. Tests wrap realFS to inject failures (EACCES on one directory, an
// entry that vanishes between listing and lstat, a directory swapped for a
// symlink before it is opened) and to track file descriptors.
//
// Every name is NUL-terminated: name[len(name)-1] == 0, and the bytes
// before it are one path component exactly as on disk (or, for the walk
// root only, a whole path). Use cstr to turn it into a Go string.
// Implementations must be safe for concurrent use.
type fsys interface {
	// openat opens name relative to dirfd with flags, which are always
	// O_RDONLY|O_DIRECTORY|O_CLOEXEC, plus O_NOFOLLOW for everything but the
	// walk root. It returns a new file descriptor the caller must close.
	// A symlink yields ELOOP, a non-directory ENOTDIR, a missing name ENOENT.
	openat(dirfd int, name []byte, flags int) (int, error)
	// getdents reads raw linux_dirent64 records from the directory fd into
	// buf, like getdents64(2); 0 means end of directory.
	getdents(fd int, buf []byte) (int, error)
	// fstatat fills st for name relative to dirfd without following a
	// symlink (AT_SYMLINK_NOFOLLOW). flags is AT_SYMLINK_NOFOLLOW, or
	// AT_EMPTY_PATH with name "\x00" to stat dirfd itself.
	fstatat(dirfd int, name []byte, st *unix.Stat_t, flags int) error
	// readlinkat reads the target of the symlink name relative to dirfd
	// into buf and returns its length, like readlinkat(2) (no NUL added,
	// truncated when buf is too small).
	readlinkat(dirfd int, name []byte, buf []byte) (int, error)
	// close closes fd. Walk closes every descriptor openat returned,
	// exactly once, before it returns.
	close(fd int) error
}

// cstr returns the Go string of a NUL-terminated name.
func cstr(name []byte) string { return string(name[:len(name)-1]) }

// realFS is the fsys of the running kernel. It passes the NUL-terminated
// names straight to the kernel, so the hot path allocates nothing. raw
// makes the calls made per entry and per listing batch (fstatat,
// getdents64) raw system calls (see Getdents), as RawCalls decides.
type realFS struct{ raw bool }

func (realFS) openat(dirfd int, name []byte, flags int) (int, error) {
	for {
		r, _, e := unix.Syscall6(unix.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(&name[0])), uintptr(flags), 0, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return -1, e
		}
		return int(r), nil
	}
}

func (fs realFS) getdents(fd int, buf []byte) (int, error) { return Getdents(fd, buf, fs.raw) }

func (fs realFS) fstatat(dirfd int, name []byte, st *unix.Stat_t, flags int) error {
	for raw := fs.raw; ; raw = false {
		e := rawFstatat(dirfd, &name[0], st, flags, raw)
		if e == unix.EINTR {
			continue // not raw again: see Getdents
		}
		if e != 0 {
			return e
		}
		return nil
	}
}

func (realFS) readlinkat(dirfd int, name []byte, buf []byte) (int, error) {
	return Readlinkat(dirfd, name, buf)
}

// Getdents reads raw linux_dirent64 records of the directory fd into buf
// (getdents64(2), retried on EINTR); 0 is the end of the directory. Walk
// and WalkPair list directories with it.
//
// With raw, the call goes through RawSyscall: the Go scheduler is not told
// (no entersyscall/exitsyscall), so it never hands the caller's P to
// another thread while the call runs, and the call holds its P however
// long it blocks. A walker whose workers are no more than GOMAXPROCS loses
// nothing by that (no other worker of its could run on the P) and gains the
// hand-offs: warm, on 2 cores and a 1,000,000-entry tree, the runtime's
// sysmon otherwise woke every 20 µs to retake Ps from workers in getdents64
// or fstatat (about 90,000 wake-ups a walk), and drift check took 13%
// longer (scripts/bench.sh). Walkers ask for it only below a root on a
// local filesystem (LocalFS), where these calls return in microseconds, or
// in a disk's time; other goroutines (signals, a progress ticker) run when
// the scheduler preempts a worker between calls. A raw call interrupted
// (EINTR) is retried as a plain one: the scheduler signals a goroutine that
// runs long to preempt it, and a slow call a filesystem lets signals
// interrupt (an interrupt-aware FUSE server) would otherwise be interrupted
// and retried forever.
func Getdents(fd int, buf []byte, raw bool) (int, error) {
	for {
		var n uintptr
		var e unix.Errno
		if raw {
			n, _, e = rawSyscall(unix.SYS_GETDENTS64, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
		} else {
			n, _, e = unix.Syscall(unix.SYS_GETDENTS64, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
		}
		switch e {
		case 0:
			return int(n), nil
		case unix.EINTR:
			raw = false
			continue
		}
		return 0, e
	}
}

// LocalFS reports whether the directory open as fd is on a filesystem the
// local kernel serves from memory or a local disk (btrfs, ext2/3/4, xfs,
// f2fs, bcachefs, zfs, tmpfs, ramfs), where a listing or an lstat takes
// microseconds, or a disk's time: Walk and WalkPair
// make raw system calls (Getdents) only below such a root. A network or
// FUSE filesystem, or one fstatfs cannot name, is not local.
func LocalFS(fd int) bool {
	var fs unix.Statfs_t
	if unix.Fstatfs(fd, &fs) != nil {
		return false
	}
	switch uint32(fs.Type) {
	case unix.BTRFS_SUPER_MAGIC, unix.EXT4_SUPER_MAGIC, unix.XFS_SUPER_MAGIC, unix.F2FS_SUPER_MAGIC,
		unix.BCACHEFS_SUPER_MAGIC, zfsSuperMagic, unix.TMPFS_MAGIC, unix.RAMFS_MAGIC:
		return true
	}
	return false
}

// RawCalls reports whether a walk with workers workers (0: DefaultWorkers)
// below the open directories roots makes raw system calls (Getdents): when
// it has no more workers than GOMAXPROCS, so a call that holds its P keeps
// no worker of the walk from running, and every root is on a local
// filesystem (LocalFS). Walk asks it for its root, internal/diff's Compare
// for both of its.
func RawCalls(workers int, roots ...int) bool {
	if workers <= 0 {
		workers = DefaultWorkers()
	}
	if workers > runtime.GOMAXPROCS(0) {
		return false
	}
	for _, fd := range roots {
		if !LocalFS(fd) {
			return false
		}
	}
	return true
}

// rawSyscall and rawSyscall6 make the raw calls; tests make them fail with
// EINTR.
var (
	rawSyscall  = unix.RawSyscall
	rawSyscall6 = unix.RawSyscall6
)

// zfsSuperMagic is OpenZFS's f_type (ZFS_SUPER_MAGIC, include/sys/fs/zfs.h;
// not in golang.org/x/sys).
const zfsSuperMagic = 0x2fc12fc1

// Readlinkat reads the target of the symlink name (NUL-terminated)
// relative to dirfd into buf and returns its length (readlinkat(2),
// retried on EINTR: no NUL added, truncated to len(buf)). It allocates
// nothing; Walk and WalkPair read symlinks with it.
func Readlinkat(dirfd int, name []byte, buf []byte) (int, error) {
	for {
		r, _, e := unix.Syscall6(unix.SYS_READLINKAT, uintptr(dirfd), uintptr(unsafe.Pointer(&name[0])), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		return int(r), nil
	}
}

func (realFS) close(fd int) error { return unix.Close(fd) }
