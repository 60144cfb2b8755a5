package audit

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestResolveInStaysInsideTheRoot: a referenced path is followed through
// links inside the root (absolute ones from the root, relative ones from
// their directory), never out of it, and a missing end resolves as far as
// it exists.
func TestResolveInStaysInsideTheRoot(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"p/real", "other"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{"p/abs": "/p/real", "p/rel": "real", "p/out": "../../../../../other", "p/chain": "abs"}
	for name, to := range links {
		if err := os.Symlink(to, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	real, _ := filepath.EvalSymlinks(root)
	for p, want := range map[string]string{
		"/p/abs/key":     "/p/real/key",
		"/p/rel/key":     "/p/real/key",
		"/p/chain/a/b":   "/p/real/a/b",
		"/p/out/key":     "/other/key",
		"/p/real/key":    "/p/real/key",
		"/nowhere/x/key": "/nowhere/x/key",
	} {
		if got, ok := resolveIn(fd, real, p); !ok || got != want {
			t.Errorf("resolveIn(%s) = %q %v, want %q", p, got, ok, want)
		}
	}
}
