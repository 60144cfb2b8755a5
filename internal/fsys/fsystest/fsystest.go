//go:build linux

// Package fsystest is the test double of drift's filesystem seam
// (fsys.FS) that the walks' tests share: an FS that passes every call to
// another one (the kernel's, by default) after hooks that inject failures
// or rewrite what is seen, and that tracks descriptors and reads. It is
// imported by tests only.
package fsystest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/fsys"
)

// FS is an fsys.FS with hooks: each non-nil hook runs before its system
// call and, returning an error, replaces it. It also tracks descriptors
// and reads: Check fails a test if one descriptor Openat or OpenBeneath
// returned is left open, one is closed that they did not return (a walk's
// roots are its caller's), or anything but a regular file is read. Names
// given to hooks are the Go strings of the NUL-terminated names. The zero
// FS is the kernel's, tracked. Safe for concurrent use.
type FS struct {
	// Inner makes the calls; nil is fsys.Real{}.
	Inner fsys.FS
	// OnOpen runs before Openat and OpenBeneath.
	OnOpen func(dirfd int, name string, flags int) error
	// OnFstatat runs before Fstatat.
	OnFstatat func(dirfd int, name string) error
	// OnReadlinkat runs before Readlinkat.
	OnReadlinkat func(dirfd int, name string) error
	// OnGetdents runs before Getdents; OnListing after it, and may rewrite
	// the records read, records (buf[:n]), in place.
	OnGetdents func(fd int) error
	OnListing  func(fd int, records []byte)
	// OnStat rewrites what Fstatat and Fstat return for name (the last
	// component of an fstat'ed descriptor's path).
	OnStat func(name string, st *unix.Stat_t)
	// OnMountID, unless nil, answers MountID.
	OnMountID func(name string) (uint64, error)

	mu  sync.Mutex
	fds map[int]string
	bad []string // broken rules, reported by Check
}

func cstr(name []byte) string { return string(name[:len(name)-1]) }

func (f *FS) inner() fsys.FS {
	if f.Inner == nil {
		return fsys.Real{}
	}
	return f.Inner
}

// Openat is Inner's, after OnOpen, tracked.
func (f *FS) Openat(dirfd int, name []byte, flags int) (int, error) {
	return f.open(dirfd, name, flags, f.inner().Openat)
}

// OpenBeneath is Inner's, after OnOpen, tracked.
func (f *FS) OpenBeneath(dirfd int, name []byte, flags int) (int, error) {
	return f.open(dirfd, name, flags, f.inner().OpenBeneath)
}

func (f *FS) open(dirfd int, name []byte, flags int, open func(int, []byte, int) (int, error)) (int, error) {
	if f.OnOpen != nil {
		if err := f.OnOpen(dirfd, cstr(name), flags); err != nil {
			return -1, err
		}
	}
	fd, err := open(dirfd, name, flags)
	if err == nil {
		f.mu.Lock()
		if f.fds == nil {
			f.fds = map[int]string{}
		}
		f.fds[fd] = cstr(name)
		f.mu.Unlock()
	}
	return fd, err
}

// Getdents is Inner's, after OnGetdents, rewritten by OnListing.
func (f *FS) Getdents(fd int, buf []byte) (int, error) {
	if f.OnGetdents != nil {
		if err := f.OnGetdents(fd); err != nil {
			return 0, err
		}
	}
	n, err := f.inner().Getdents(fd, buf)
	if err == nil && n > 0 && f.OnListing != nil {
		f.OnListing(fd, buf[:n])
	}
	return n, err
}

// Fstatat is Inner's, after OnFstatat, rewritten by OnStat.
func (f *FS) Fstatat(dirfd int, name []byte, st *unix.Stat_t, flags int) error {
	if f.OnFstatat != nil {
		if err := f.OnFstatat(dirfd, cstr(name)); err != nil {
			return err
		}
	}
	err := f.inner().Fstatat(dirfd, name, st, flags)
	if err == nil && f.OnStat != nil {
		f.OnStat(cstr(name), st)
	}
	return err
}

// Fstat is Inner's, rewritten by OnStat.
func (f *FS) Fstat(fd int, st *unix.Stat_t) error {
	err := f.inner().Fstat(fd, st)
	if err == nil && f.OnStat != nil {
		f.OnStat(filepath.Base(FDPath(fd)), st)
	}
	return err
}

// Readlinkat is Inner's, after OnReadlinkat.
func (f *FS) Readlinkat(dirfd int, name []byte, buf []byte) (int, error) {
	if f.OnReadlinkat != nil {
		if err := f.OnReadlinkat(dirfd, cstr(name)); err != nil {
			return 0, err
		}
	}
	return f.inner().Readlinkat(dirfd, name, buf)
}

// Pread is Inner's; reading anything but what fstat shows to be a regular
// file is a broken rule.
func (f *FS) Pread(fd int, buf []byte, off int64) (int, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		f.complain(fmt.Sprintf("pread(%d) of a mode %o: only regular files may be read", fd, st.Mode))
	}
	return f.inner().Pread(fd, buf, off)
}

// Close is Inner's; closing a descriptor not open through f is a broken
// rule.
func (f *FS) Close(fd int) error {
	f.mu.Lock()
	_, ok := f.fds[fd]
	delete(f.fds, fd)
	f.mu.Unlock()
	if !ok {
		f.complain(fmt.Sprintf("close(%d): not a descriptor Openat or OpenBeneath returned", fd))
	}
	return f.inner().Close(fd)
}

// MountID is OnMountID's answer, else Inner's.
func (f *FS) MountID(dirfd int, name []byte) (uint64, error) {
	if f.OnMountID != nil {
		return f.OnMountID(cstr(name))
	}
	return f.inner().MountID(dirfd, name)
}

func (f *FS) complain(s string) {
	f.mu.Lock()
	f.bad = append(f.bad, s)
	f.mu.Unlock()
}

// Check fails t for each descriptor still open and each broken rule, and
// forgets them (a second Check reports only what happened since).
func (f *FS) Check(t testing.TB) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for fd, name := range f.fds {
		t.Errorf("descriptor %d (%q) left open", fd, name)
	}
	for _, b := range f.bad {
		t.Error(b)
	}
	clear(f.fds)
	f.bad = nil
}

// FDPath is where the descriptor fd points (its /proc/self/fd link).
func FDPath(fd int) string {
	p, _ := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	return p
}
