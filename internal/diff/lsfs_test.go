package diff

import (
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// hookFS is the kernel's fsys with hooks: each non-nil hook runs before
// the system call and, returning an error, replaces it. It also tracks
// descriptors: check fails the test if one open returned is left open, or
// one is closed that it did not return.
type hookFS struct {
	realFS
	onOpen    func(dirfd int, name string, flags int) error
	onFstatat func(dirfd int, name string) error
	onGetdent func(fd int) error

	mu  sync.Mutex
	fds map[int]string
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
	return h.realFS.fstatat(dirfd, name, st)
}

func (h *hookFS) close(fd int) error {
	h.mu.Lock()
	_, ok := h.fds[fd]
	delete(h.fds, fd)
	h.mu.Unlock()
	if !ok {
		// A root, or a double close: roots are not opened through fsys and
		// are never closed through it.
		panic("close of a descriptor fsys did not open")
	}
	return h.realFS.close(fd)
}

// check fails t if a descriptor is still open.
func (h *hookFS) check(t *testing.T) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for fd, name := range h.fds {
		t.Errorf("descriptor %d (%q) left open", fd, name)
	}
}
