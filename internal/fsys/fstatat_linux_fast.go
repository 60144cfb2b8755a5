//go:build linux && (amd64 || arm64 || riscv64)

package fsys

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawFstatat is fstatat(2) on a NUL-terminated name, without the
// allocation unix.Fstatat makes to terminate a Go string; with raw, through
// RawSyscall6 (see Getdents).
func rawFstatat(dirfd int, name *byte, st *unix.Stat_t, flags int, raw bool) unix.Errno {
	if raw {
		_, _, e := rawSyscall6(unix.SYS_NEWFSTATAT, uintptr(dirfd), uintptr(unsafe.Pointer(name)), uintptr(unsafe.Pointer(st)), uintptr(flags), 0, 0)
		return e
	}
	_, _, e := unix.Syscall6(unix.SYS_NEWFSTATAT, uintptr(dirfd), uintptr(unsafe.Pointer(name)), uintptr(unsafe.Pointer(st)), uintptr(flags), 0, 0)
	return e
}
