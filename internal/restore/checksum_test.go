package restore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestVerifyReadsBackTheCopy: with Verify, a copy that is not a clone
// whose bytes differ from the source's once flushed (a byte flipped after
// the copy, same length) is an ErrCopyDiffers naming the file, and nothing
// appears at the destination; untouched, the same copy is verified and
// renamed into place. Clones are refused here, as on a filesystem without
// them, wherever the test's temporary directory is.
func TestVerifyReadsBackTheCopy(t *testing.T) {
	tryClone = func(int, int) (bool, error) { return false, nil }
	defer func() { tryClone = clone }()
	for _, corrupt := range []bool{false, true} {
		from, live := t.TempDir(), t.TempDir()
		testutil.Must(t, os.MkdirAll(filepath.Join(from, "srv/app/sub"), 0o755))
		testutil.Must(t, os.WriteFile(filepath.Join(from, "srv/app/a"), []byte("alpha"), 0o644))
		testutil.Must(t, os.WriteFile(filepath.Join(from, "srv/app/sub/b"), make([]byte, 3<<20), 0o644))
		beforeReadBack = func(dir int, tmp string) {
			if !corrupt {
				return
			}
			fd, err := unix.Openat(dir, tmp+"/sub/b", unix.O_WRONLY, 0)
			testutil.Must(t, err)
			_, err = unix.Pwrite(fd, []byte{1}, 2<<20)
			testutil.Must(t, err)
			unix.Close(fd)
		}
		_, err := Run(context.Background(), Request{From: from, Path: "/srv/app", Root: live, Dest: "/p/srv/app", SyncOnce: true, Verify: true})
		beforeReadBack = nil
		_, statErr := os.Lstat(filepath.Join(live, "p/srv/app"))
		if corrupt {
			if !errors.Is(err, ErrCopyDiffers) || statErr == nil {
				t.Errorf("corrupted copy: %v, destination %v; want ErrCopyDiffers and no destination", err, statErr)
			}
			if ents, _ := os.ReadDir(filepath.Join(live, "p/srv")); len(ents) != 0 {
				t.Errorf("a partial copy is left: %v", ents)
			}
		} else if err != nil || statErr != nil {
			t.Errorf("verified copy: %v, destination %v", err, statErr)
		}
	}
}
