//go:build linux

package mounts

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Under opens a view of the filesystem mounted at dir without the mounts
// stacked on it or below it, so that what lies under mount points can be
// read: a detached, non-recursive clone of the mount (open_tree(2) with
// OPEN_TREE_CLONE and no AT_RECURSIVE). It returns the view's path
// ("/proc/self/fd/N", valid in this process only) and a function that
// releases it; nothing is mounted anywhere, so nothing is left behind if the
// process dies. Errors: EPERM without CAP_SYS_ADMIN, ENOSYS before Linux
// 5.2, and whatever open_tree reports for dir.
func Under(dir string) (string, func(), error) {
	fd, err := unix.OpenTree(unix.AT_FDCWD, dir, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return "", nil, &os.PathError{Op: "open_tree", Path: dir, Err: err}
	}
	return fmt.Sprintf("/proc/self/fd/%d", fd), func() { unix.Close(fd) }, nil
}
