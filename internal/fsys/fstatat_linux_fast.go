//go:build linux && (amd64 || arm64 || riscv64)

package fsys

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawFstatat is fstatat(2) on a NUL-terminated name, without the
// allocation unix.Fstatat makes to terminate a Go string; with raw, through
// syscall.RawSyscall6 (see Getdents), called here rather than through
// rawSyscall6 to keep the walks' call per entry few frames deep. EINTR is
// retried as a plain call.
func rawFstatat(dirfd int, name *byte, st *unix.Stat_t, flags int, raw bool) unix.Errno {
	if raw {
		var e unix.Errno
		if rawHook == nil {
			_, _, e = syscall.RawSyscall6(unix.SYS_NEWFSTATAT, uintptr(dirfd), uintptr(unsafe.Pointer(name)), uintptr(unsafe.Pointer(st)), uintptr(flags), 0, 0)
		} else {
			_, _, e = rawHook(unix.SYS_NEWFSTATAT, uintptr(dirfd), uintptr(unsafe.Pointer(name)), uintptr(unsafe.Pointer(st)), uintptr(flags), 0, 0)
		}
		if e != unix.EINTR {
			return e
		}
	}
	for {
		_, _, e := unix.Syscall6(unix.SYS_NEWFSTATAT, uintptr(dirfd), uintptr(unsafe.Pointer(name)), uintptr(unsafe.Pointer(st)), uintptr(flags), 0, 0)
		if e != unix.EINTR {
			return e
		}
	}
}
