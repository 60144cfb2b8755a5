//go:build linux

package scan

import (
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/fsys"
)

// How both walks keep directory descriptors: a directory read stays open
// while subdirectories it listed wait to be opened from it (openat on its
// descriptor, one component), and is closed when the last has been
// opened. Beyond a cap (pinCap) a directory is closed at once and its
// subdirectories are reopened from the root by path.

// dirHandle is an open directory kept for the subdirectories it listed,
// closed when the last of them has been opened.
type dirHandle struct {
	fd     int
	refs   atomic.Int32
	pinned bool // counted in dirs.pinned
	root   bool // a root its walk's caller closes: release leaves it open
}

// dirs is a walk's filesystem and the directory descriptors it keeps.
type dirs struct {
	fs        fsys.FS
	maxPinned int32
	pinned    atomic.Int32
}

// release drops one reference to h, closing it with the last.
func (d *dirs) release(h *dirHandle) {
	if h.root {
		return
	}
	if h.refs.Add(-1) == 0 {
		d.fs.Close(h.fd)
		if h.pinned {
			d.pinned.Add(-1)
		}
	}
}

// keep returns a handle of the directory open as fd for n subdirectories
// to open from, or closes fd and returns nil: n is 0, or maxPinned
// descriptors are kept already.
func (d *dirs) keep(fd int, n int32) *dirHandle {
	if n == 0 || d.pinned.Add(1) > d.maxPinned {
		if n > 0 {
			d.pinned.Add(-1)
		}
		d.fs.Close(fd)
		return nil
	}
	h := &dirHandle{fd: fd, pinned: true}
	h.refs.Store(n)
	return h
}

// pinCap bounds the directory descriptors kept open for pending
// subdirectories: a quarter of the soft RLIMIT_NOFILE less reserve (the
// descriptors the workers open besides), at least 8, at most 4096.
func pinCap(reserve int) int {
	n := 1024
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) == nil && rl.Cur < 1<<30 {
		n = int(rl.Cur)/4 - reserve
	}
	return min(max(n, 8), 4096)
}
