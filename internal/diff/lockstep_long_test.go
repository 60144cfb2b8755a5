package diff

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/nix-drift/drift/internal/fsys/fsystest"
	"github.com/nix-drift/drift/internal/testutil"
	"golang.org/x/sys/unix"
)

// longChain makes, in the directory dir, 40 nested directories of 200
// bytes (by mkdirat: 8,000 bytes, twice PATH_MAX) with siblings at every
// level (so that descriptors run out and directories are reopened from
// the root by their whole path) and a file leaf holding data at the
// bottom.
func longChain(t *testing.T, dir, data string) {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	testutil.Must(t, err)
	name := strings.Repeat("d", 200)
	for range 40 {
		for _, n := range []string{name, "s1", "s2"} {
			testutil.Must(t, unix.Mkdirat(fd, n, 0o755))
		}
		next, err := unix.Openat(fd, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		testutil.Must(t, err)
		unix.Close(fd)
		fd = next
	}
	defer unix.Close(fd)
	f, err := unix.Openat(fd, "leaf", unix.O_WRONLY|unix.O_CREAT|unix.O_CLOEXEC, 0o644)
	testutil.Must(t, err)
	defer unix.Close(f)
	_, err = unix.Write(f, []byte(data))
	testutil.Must(t, err)
}

// TestCompareDeeperThanPathMax: two trees 40 directories of 200 bytes
// deep compare whole with one descriptor kept (the deep directories
// reopened from the roots by names longer than PATH_MAX, which fsys opens
// in chunks) and with the usual number: the one file that differs is
// the one difference, nothing fails, nothing is left open.
func TestCompareDeeperThanPathMax(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	longChain(t, a, "old\n")
	longChain(t, b, "new\n")
	for _, pinned := range []int{1, 0} {
		var long atomic.Int64
		fs := &fsystest.FS{OnOpen: func(_ int, name string, _ int) error {
			if len(name) > unix.PathMax {
				long.Add(1)
			}
			return nil
		}}
		c, err := Compare(context.Background(), a, b, CompareOptions{Workers: 4, fs: fs, maxPinned: pinned})
		testutil.Must(t, err)
		fs.Check(t)
		if len(c.Diffs) != 1 || c.Counts[Changed] != 1 || c.Counts[Failed] != 0 || !strings.HasSuffix(c.Diffs[0].Path, "/leaf") {
			t.Errorf("maxPinned %d: %d diffs %v, want the deep leaf changed and nothing failed", pinned, len(c.Diffs), c.Counts)
		}
		t.Logf("maxPinned %d: %d opens by a name longer than PATH_MAX", pinned, long.Load())
		if pinned == 1 && long.Load() == 0 {
			t.Errorf("maxPinned 1: no directory was reopened by its whole name; the test does not reach the long opens")
		}
	}
}
