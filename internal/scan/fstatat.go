//go:build linux

package scan

import "golang.org/x/sys/unix"

// Fstatat is fstatat(2) of the NUL-terminated name (name[len(name)-1] ==
// 0) relative to dirfd, with flags (AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH),
// filling st; it returns the errno, 0 on success. It allocates nothing on
// amd64, arm64 and riscv64: the walkers' stat of every entry (Walk, and
// WalkPair, the lockstep walk of two trees). raw is Getdents's.
func Fstatat(dirfd int, name []byte, st *unix.Stat_t, flags int, raw bool) unix.Errno {
	return rawFstatat(dirfd, &name[0], st, flags, raw)
}
