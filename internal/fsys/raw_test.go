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
	defer func(f func(uintptr, uintptr, uintptr, uintptr) (uintptr, uintptr, unix.Errno)) {
		rawSyscall = f
	}(rawSyscall)
	defer func(f func(uintptr, uintptr, uintptr, uintptr, uintptr, uintptr, uintptr) (uintptr, uintptr, unix.Errno)) {
		rawSyscall6 = f
	}(rawSyscall6)
	var calls atomic.Int64
	rawSyscall = func(uintptr, uintptr, uintptr, uintptr) (uintptr, uintptr, unix.Errno) {
		calls.Add(1)
		return 0, 0, unix.EINTR
	}
	rawSyscall6 = func(uintptr, uintptr, uintptr, uintptr, uintptr, uintptr, uintptr) (uintptr, uintptr, unix.Errno) {
		calls.Add(1)
		return 0, 0, unix.EINTR
	}
	root := t.TempDir()
	testutil.Must(t, os.WriteFile(filepath.Join(root, "f"), []byte("12345"), 0o644))
	fs := Real{Raw: true}
	fd, err := fs.Openat(unix.AT_FDCWD, append([]byte(root), 0), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC)
	testutil.Must(t, err)
	defer fs.Close(fd)
	buf := make([]byte, 4096)
	n, err := fs.Getdents(fd, buf)
	if err != nil || n <= 0 {
		t.Errorf("Getdents with the raw call interrupted: %d, %v", n, err)
	}
	var st unix.Stat_t
	if err := fs.Fstatat(fd, []byte("f\x00"), &st, unix.AT_SYMLINK_NOFOLLOW); err != nil || st.Size != 5 {
		t.Errorf("Fstatat with the raw call interrupted: size %d, %v", st.Size, err)
	}
	if calls.Load() == 0 {
		t.Error("no raw call made: the test tests nothing")
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
