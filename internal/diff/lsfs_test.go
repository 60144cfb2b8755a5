package diff

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/scan"
)

// hookFS is the kernel's scan.PairFS with hooks: each non-nil hook runs before
// the system call and, returning an error, replaces it. It also tracks
// descriptors and reads: check fails the test if one descriptor open
// returned is left open, one is closed that it did not return, or anything
// but a regular file is read.
type hookFS struct {
	scan.PairReal
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

func (h *hookFS) Open(dirfd int, name []byte, flags int) (int, error) {
	if h.onOpen != nil {
		if err := h.onOpen(dirfd, cstr(name), flags); err != nil {
			return -1, err
		}
	}
	fd, err := h.PairReal.Open(dirfd, name, flags)
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

func (h *hookFS) Getdents(fd int, buf []byte) (int, error) {
	if h.onGetdent != nil {
		if err := h.onGetdent(fd); err != nil {
			return 0, err
		}
	}
	return h.PairReal.Getdents(fd, buf)
}

func (h *hookFS) Fstatat(dirfd int, name []byte, st *unix.Stat_t) error {
	if h.onFstatat != nil {
		if err := h.onFstatat(dirfd, cstr(name)); err != nil {
			return err
		}
	}
	err := h.PairReal.Fstatat(dirfd, name, st)
	if err == nil && h.onStat != nil {
		h.onStat(cstr(name), st)
	}
	return err
}

func (h *hookFS) Fstat(fd int, st *unix.Stat_t) error {
	err := h.PairReal.Fstat(fd, st)
	if err == nil && h.onStat != nil {
		h.onStat(filepath.Base(fdPath(fd)), st)
	}
	return err
}

func (h *hookFS) MountID(dirfd int, name []byte) (uint64, error) {
	if h.onMountID != nil {
		return h.onMountID(cstr(name))
	}
	return h.PairReal.MountID(dirfd, name)
}

func (h *hookFS) Close(fd int) error {
	h.mu.Lock()
	_, ok := h.fds[fd]
	delete(h.fds, fd)
	h.mu.Unlock()
	if !ok {
		// A root, or a double close: roots are not opened through PairFS and
		// are never closed through it.
		h.complain(fmt.Sprintf("close(%d): not a descriptor open returned", fd))
	}
	return h.PairReal.Close(fd)
}

// pread reads only what fstat shows to be a regular file.
func (h *hookFS) Pread(fd int, buf []byte, off int64) (int, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		h.complain(fmt.Sprintf("pread(%d) of a mode %o: only regular files may be read", fd, st.Mode))
	}
	return h.PairReal.Pread(fd, buf, off)
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
