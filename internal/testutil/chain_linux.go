package testutil

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// MkdirChain makes n nested 0755 directories named name beneath dir (made
// first, with its parents, when missing), each by mkdirat in the one
// before, so that the whole path may be longer than PATH_MAX, and returns
// an O_PATH descriptor of the deepest (dir itself for n = 0), closed when
// the test ends.
func MkdirChain(t testing.TB, dir, name string, n int) int {
	t.Helper()
	Must(t, os.MkdirAll(dir, 0o755))
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	Must(t, err)
	for range n {
		if err := unix.Mkdirat(fd, name, 0o755); err != nil {
			unix.Close(fd)
			t.Fatal(err)
		}
		next, err := unix.Openat(fd, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		unix.Close(fd)
		Must(t, err)
		fd = next
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// WriteFileAt creates the file name (mode 0644, which must not exist)
// beneath the directory dirFD and writes data into it.
func WriteFileAt(t testing.TB, dirFD int, name, data string) {
	t.Helper()
	fd, err := unix.Openat(dirFD, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	Must(t, err)
	defer unix.Close(fd)
	_, err = unix.Write(fd, []byte(data))
	Must(t, err)
}
