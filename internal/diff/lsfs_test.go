package diff

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// hookFS is the kernel's fsys with hooks: each non-nil hook runs before
// the system call and, returning an error, replaces it. It also tracks
// descriptors and reads: check fails the test if one descriptor open
// returned is left open, one is closed that it did not return, or anything
// but a regular file is read.
type hookFS struct {
	realFS
	onOpen    func(dirfd int, name string, flags int) error
	onFstatat func(dirfd int, name string) error
	onGetdent func(fd int) error
	// onStat rewrites what fstatat and fstat return for name (the last
	// component of an fstat'ed descriptor's path); onMountID answers
	// mountID.
	onStat    func(name string, st *unix.Stat_t)
	onMountID func(name string) (uint64, error)

	mu  sync.Mutex
	fds map[int]string
	bad []string // broken rules, reported by check
}

func cstr(name []byte) string { return string(name[:len(name)-1]) }

func (h *hookFS) open(dirfd int, name []byte, flags int) (int, error) {
	if h.onOpen != nil {
		if err := h.onOpen(dirfd, cstr(name), flags); err != nil {
			return -1, err
		}
	}
	fd, err := h.realFS.open(dirfd, name, flags)
	if err == nil {
		h.mu.Lock()
		if h.fds == nil {
			h.fds = map[int]string{}
		}
		h.fds[fd] = cstr(name)
		h.mu.Unlock()
	}
	return fd, err
}

func (h *hookFS) getdents(fd int, buf []byte) (int, error) {
	if h.onGetdent != nil {
		if err := h.onGetdent(fd); err != nil {
			return 0, err
		}
	}
	return h.realFS.getdents(fd, buf)
}

func (h *hookFS) fstatat(dirfd int, name []byte, st *unix.Stat_t) error {
	if h.onFstatat != nil {
		if err := h.onFstatat(dirfd, cstr(name)); err != nil {
			return err
		}
	}
	err := h.realFS.fstatat(dirfd, name, st)
	if err == nil && h.onStat != nil {
		h.onStat(cstr(name), st)
	}
	return err
}

func (h *hookFS) fstat(fd int, st *unix.Stat_t) error {
	err := h.realFS.fstat(fd, st)
	if err == nil && h.onStat != nil {
		h.onStat(filepath.Base(fdPath(fd)), st)
	}
	return err
}

func (h *hookFS) mountID(dirfd int, name []byte) (uint64, error) {
	if h.onMountID != nil {
		return h.onMountID(cstr(name))
	}
	return h.realFS.mountID(dirfd, name)
}

func (h *hookFS) close(fd int) error {
	h.mu.Lock()
	_, ok := h.fds[fd]
	delete(h.fds, fd)
	h.mu.Unlock()
	if !ok {
		// A root, or a double close: roots are not opened through fsys and
		// are never closed through it.
		h.complain(fmt.Sprintf("close(%d): not a descriptor open returned", fd))
	}
	return h.realFS.close(fd)
}

// pread reads only what fstat shows to be a regular file.
func (h *hookFS) pread(fd int, buf []byte, off int64) (int, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		h.complain(fmt.Sprintf("pread(%d) of a mode %o: only regular files may be read", fd, st.Mode))
	}
	return h.realFS.pread(fd, buf, off)
}

func (h *hookFS) complain(s string) {
	h.mu.Lock()
	h.bad = append(h.bad, s)
	h.mu.Unlock()
}

// check fails t if a descriptor is still open.
func (h *hookFS) check(t *testing.T) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for fd, name := range h.fds {
		t.Errorf("descriptor %d (%q) left open", fd, name)
	}
	for _, b := range h.bad {
		t.Error(b)
	}
}
