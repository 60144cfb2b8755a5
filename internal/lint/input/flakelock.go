package input

import (
	"context"
	"os"
	"path/filepath"

	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/safefile"
)

// maxLockSize bounds the flake.lock read.
const maxLockSize = 16 << 20

// findPin looks for the flake.lock of the flake dir belongs to — in dir,
// then each parent, stopping after a directory holding .git (the
// repository's top) or eight levels up — and returns the nixpkgs it pins
// for the root flake. nil when there is none, or it cannot be read: it only
// tells which defaults apply, and the rules then say they do not know.
func findPin(ctx context.Context, dir string) *persist.Pin {
	if dir == "" {
		return nil
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil
	}
	for i := 0; i < 8; i++ {
		name := filepath.Join(dir, "flake.lock")
		if st, err := os.Lstat(name); err == nil && st.Mode().IsRegular() {
			data, err := safefile.ReadFile(ctx, name, maxLockSize)
			if err != nil {
				return nil
			}
			pin, ok, err := persist.ReadPin(name, data)
			if err != nil || !ok {
				return nil
			}
			return &pin
		}
		if _, err := os.Lstat(filepath.Join(dir, ".git")); err == nil {
			return nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
		}
		dir = parent
	}
	return nil
}
