//go:build linux && !(amd64 || arm64 || riscv64)

package fsys

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawFstatat is fstatat(2) on a NUL-terminated name. On these
// architectures the stat syscall number and layout vary, so it goes
// through unix.Fstatat (one small allocation per call), retried on EINTR,
// and raw is ignored.
func rawFstatat(dirfd int, name *byte, st *unix.Stat_t, flags int, raw bool) unix.Errno {
	n := 0
	for *(*byte)(unsafe.Add(unsafe.Pointer(name), n)) != 0 {
		n++
	}
	err := unix.Fstatat(dirfd, unsafe.String(name, n), st, flags)
	for err == unix.EINTR {
		err = unix.Fstatat(dirfd, unsafe.String(name, n), st, flags)
	}
	if err == nil {
		return 0
	}
	if e, ok := err.(unix.Errno); ok {
		return e
	}
	return unix.EINVAL
}
