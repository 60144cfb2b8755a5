package e2e

import (
	"os"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestPruneNeverMovesTheNixStore: declarations whose persistentStoragePath
// is /nix (the store's filesystem) make drift prune refuse, exit 2, dry
// run too, naming the Nix store it found; the store paths stay (fresh-user
// finding: prune --storage-path /nix --dry-run planned to move
// /nix/store/bbbb-etc and the system's other store paths).
func TestPruneNeverMovesTheNixStore(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	s.configuration()
	etc := "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-etc"
	testutil.Must(t, os.MkdirAll(s.M(etc), 0o755))
	writeFile(t, s.M(etc+"/hosts"), "127.0.0.1 localhost\n", 0o444)
	nix := s.dir + "/nix.json"
	testutil.Must(t, os.WriteFile(nix, []byte(`{"persistentStoragePath": "/nix", "directories": [ "/var/lib/nixos" ]}`), 0o644))
	for _, dry := range []bool{true, false} {
		args := []string{"prune", "--root", s.root, "--persist", s.declPath(), "--persist", nix, "--storage-path", "/nix"}
		if dry {
			args = append(args, "--dry-run")
		}
		code, out, errOut := s.driftAll(args...)
		if code != 2 || !strings.Contains(errOut, "holds a Nix store") || !strings.Contains(errOut, "/nix/store") || strings.Contains(out, etc) {
			t.Errorf("dry run %v: exit %d, want 2 naming the Nix store\n%s\n%s", dry, code, out, errOut)
		}
	}
	if _, err := os.Stat(s.M(etc + "/hosts")); err != nil {
		t.Errorf("the store path: %v", err)
	}
}
