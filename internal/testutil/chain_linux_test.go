package testutil

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestMkdirChain: 40 levels of a 200-byte name (twice PATH_MAX) are made,
// the descriptor returned is the deepest's, and WriteFileAt's file is
// there with its bytes.
func TestMkdirChain(t *testing.T) {
	dir := t.TempDir() + "/a/b"
	name := strings.Repeat("d", 200)
	fd := MkdirChain(t, dir, name, 40)
	WriteFileAt(t, fd, "leaf", "deep\n")
	at, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	Must(t, err)
	for range 40 {
		next, err := unix.Openat(at, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		unix.Close(at)
		Must(t, err)
		at = next
	}
	defer unix.Close(at)
	var a, b unix.Stat_t
	Must(t, unix.Fstat(fd, &a))
	Must(t, unix.Fstat(at, &b))
	if a.Ino != b.Ino || a.Dev != b.Dev {
		t.Errorf("MkdirChain's descriptor is not the 40th level")
	}
	var leaf unix.Stat_t
	if err := unix.Fstatat(at, "leaf", &leaf, unix.AT_SYMLINK_NOFOLLOW); err != nil || leaf.Size != 5 || leaf.Mode&unix.S_IFMT != unix.S_IFREG {
		t.Errorf("leaf: %v, %+v", err, leaf)
	}
}
