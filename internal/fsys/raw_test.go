//go:build linux

package fsys

import (
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/testutil"
)

// A raw call interrupted (EINTR: the scheduler's preemption signal, passed
// on by an interrupt-aware FUSE server) is retried as a plain call, not
// raw again, which could loop for ever: Real{Raw: true} lists and stats
// as Real{} does when every raw call says EINTR.
func TestRawEINTR(t *testing.T) {
	defer func() { rawHook = nil }()
	var calls [512]atomic.Int64 // by system call number
	rawHook = func(trap, _, _, _, _, _, _ uintptr) (uintptr, uintptr, unix.Errno) {
		calls[trap].Add(1)
		return 0, 0, unix.EINTR
	}
	root := t.TempDir()
	testutil.Must(t, os.WriteFile(filepath.Join(root, "f"), []byte("12345"), 0o644))
	fs := Real{Raw: true}
	fd, err := fs.Openat(unix.AT_FDCWD, append([]byte(root), 0), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC)
	testutil.Must(t, err)
	defer Real{}.Close(fd) // the raw close is interrupted too, and not retried
	buf := make([]byte, 4096)
	n, err := fs.Getdents(fd, buf)
	if err != nil || n <= 0 {
		t.Errorf("Getdents with the raw call interrupted: %d, %v", n, err)
	}
	var st unix.Stat_t
	if err := fs.Fstatat(fd, []byte("f\x00"), &st, unix.AT_SYMLINK_NOFOLLOW); err != nil || st.Size != 5 {
		t.Errorf("Fstatat with the raw call interrupted: size %d, %v", st.Size, err)
	}
	// (fstatat is raw on amd64, arm64 and riscv64 only, and its number
	// differs elsewhere: the size above says it was retried.)
	for _, trap := range []uintptr{unix.SYS_OPENAT, unix.SYS_GETDENTS64} {
		if calls[trap].Load() == 0 {
			t.Errorf("no raw call of system call %d made: the test tests nothing", trap)
		}
	}
	if err := fs.Close(-1); err != unix.EINTR || calls[unix.SYS_CLOSE].Load() != 1 {
		t.Errorf("raw Close: %v after %d raw calls, want EINTR (Linux releases the descriptor anyway) after 1", err, calls[unix.SYS_CLOSE].Load())
	}
}

// Real{Raw: true} opens and closes a directory for real: the descriptor it
// opened is gone after its Close, and a bad one is EBADF.
func TestRawOpenClose(t *testing.T) {
	fs := Real{Raw: true}
	fd, err := fs.Openat(unix.AT_FDCWD, append([]byte(t.TempDir()), 0), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC)
	testutil.Must(t, err)
	// A high copy of it, which no open elsewhere in the process reuses
	// (they take the lowest free number) between the Close and the check.
	high, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 900)
	testutil.Must(t, err)
	testutil.Must(t, fs.Close(fd))
	testutil.Must(t, fs.Close(high))
	if _, err := unix.FcntlInt(uintptr(high), unix.F_GETFD, 0); err != unix.EBADF {
		t.Errorf("descriptor %d after the raw Close: %v, want EBADF", high, err)
	}
	if err := fs.Close(high); err != unix.EBADF {
		t.Errorf("second raw Close of %d: %v, want EBADF", high, err)
	}
	if _, err := fs.Openat(unix.AT_FDCWD, []byte("/nonexistent-drift-test\x00"), unix.O_RDONLY|unix.O_DIRECTORY); err != unix.ENOENT {
		t.Errorf("raw Openat of a missing name: %v, want ENOENT", err)
	}
}

// Raw calls are made below local filesystems only (LocalFS).
func TestLocalFS(t *testing.T) {
	for dir, want := range map[string]bool{"/proc": false, "/sys": false, t.TempDir(): true} {
		var fs unix.Statfs_t
		testutil.Must(t, unix.Statfs(dir, &fs))
		if want && !slices.Contains([]uint32{unix.BTRFS_SUPER_MAGIC, unix.EXT4_SUPER_MAGIC, unix.XFS_SUPER_MAGIC, unix.TMPFS_MAGIC}, uint32(fs.Type)) {
			t.Logf("%s is on f_type %#x: not checked", dir, fs.Type)
			continue
		}
		fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		testutil.Must(t, err)
		if got := LocalFS(fd); got != want {
			t.Errorf("LocalFS(%s) = %v, want %v", dir, got, want)
		}
		unix.Close(fd)
	}
}
