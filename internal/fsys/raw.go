//go:build linux

package fsys

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The system calls of the walks on NUL-terminated names and raw directory
// listings, allocating nothing: what Real makes.

// Openat is openat(2) of the NUL-terminated name relative to dirfd with
// flags, retried on EINTR; errors are the unix.Errno. It allocates
// nothing: scan.Walk's opens of the directories it reads. raw is
// Getdents's: a walk that lists and stats raw opens and closes (Close) its
// directories raw too, or the hand-offs come back for the opens and closes
// sysmon finds under way. With them plain, a warm drift check of the
// 1,000,000-entry tree on 2 cores saw 4,000 to 9,700 sysmon wake-ups
// (nanosleep) and 250 to 1,500 futex calls; raw, 360 to 1,200 and 55 to
// 120, and 5% less CPU time (median of 8 interleaved runs, 3.39 s to 3.20 s).
func Openat(dirfd int, name []byte, flags int, raw bool) (int, error) {
	for {
		var r uintptr
		var e unix.Errno
		if raw {
			r, _, e = rawSyscall6(unix.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(&name[0])), uintptr(flags), 0, 0, 0)
		} else {
			r, _, e = unix.Syscall6(unix.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(&name[0])), uintptr(flags), 0, 0, 0)
		}
		switch e {
		case 0:
			return int(r), nil
		case unix.EINTR:
			raw = false // not raw again (Getdents says why)
			continue
		}
		return -1, e
	}
}

// Close is close(2) of fd, through RawSyscall with raw (Openat says why).
// It is not retried: Linux releases fd even when close says EINTR.
func Close(fd int, raw bool) error {
	var e unix.Errno
	if raw {
		_, _, e = rawSyscall6(unix.SYS_CLOSE, uintptr(fd), 0, 0, 0, 0, 0)
	} else {
		_, _, e = unix.Syscall(unix.SYS_CLOSE, uintptr(fd), 0, 0)
	}
	if e != 0 {
		return e
	}
	return nil
}

// Getdents reads raw linux_dirent64 records of the directory fd into buf
// (getdents64(2), retried on EINTR); 0 is the end of the directory.
// internal/scan's walks list directories with it (Real.Getdents).
//
// With raw, the call goes through RawSyscall: the Go scheduler is not told
// (no entersyscall/exitsyscall), so it never hands the caller's P to
// another thread while the call runs, and the call holds its P however
// long it blocks. A walker whose workers are no more than GOMAXPROCS loses
// nothing by that (no other worker of its could run on the P) and gains the
// hand-offs: warm, on 2 cores and a 1,000,000-entry tree, the runtime's
// sysmon otherwise woke every 20 µs to retake Ps from workers in getdents64
// or fstatat (about 90,000 wake-ups a walk; Openat has the rest), and drift check took 13%
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
			n, _, e = rawSyscall6(unix.SYS_GETDENTS64, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0, 0)
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

// Fstatat is fstatat(2) of the NUL-terminated name (name[len(name)-1] ==
// 0) relative to dirfd, with flags (AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH),
// filling st; it returns the errno, 0 on success, and retries EINTR (not
// raw again). It allocates nothing on amd64, arm64 and riscv64: the walks'
// stat of every entry. raw is Getdents's.
func Fstatat(dirfd int, name []byte, st *unix.Stat_t, flags int, raw bool) unix.Errno {
	return rawFstatat(dirfd, &name[0], st, flags, raw)
}

// Readlinkat reads the target of the symlink name (NUL-terminated)
// relative to dirfd into buf and returns its length (readlinkat(2),
// retried on EINTR: no NUL added, truncated to len(buf)). It allocates
// nothing; internal/scan's walks read symlinks with it.
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

// LocalFS reports whether the directory open as fd is on a filesystem the
// local kernel serves from memory or a local disk (btrfs, ext2/3/4, xfs,
// f2fs, bcachefs, zfs, tmpfs, ramfs), where a listing or an lstat takes
// microseconds, or a disk's time: internal/scan's walks
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

// zfsSuperMagic is OpenZFS's f_type (ZFS_SUPER_MAGIC, include/sys/fs/zfs.h;
// not in golang.org/x/sys).
const zfsSuperMagic = 0x2fc12fc1

// rawHook, set by tests (to make every raw call fail with EINTR), makes
// the raw calls instead of syscall.RawSyscall6.
var rawHook func(trap, a1, a2, a3, a4, a5, a6 uintptr) (uintptr, uintptr, unix.Errno)

// rawSyscall6 is syscall.RawSyscall6 (or rawHook), called directly rather
// than through a function value and x/sys/unix's trampoline: small enough
// to inline, so that a raw fstatat is one frame above the system call
// (1.5% of drift check's CPU time on the bench tree, by perf).
func rawSyscall6(trap, a1, a2, a3, a4, a5, a6 uintptr) (uintptr, uintptr, unix.Errno) {
	if rawHook != nil {
		return rawHook(trap, a1, a2, a3, a4, a5, a6)
	}
	return syscall.RawSyscall6(trap, a1, a2, a3, a4, a5, a6)
}
