package prune

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestNeverPrunesANixStore: a storage path that holds a Nix store (its
// hard-link directory, its database, or store paths in store/, at the
// top or under nix/), lies in one, or is /nix/store or /nix/var is
// refused, naming what was found; /nix/persist beside a store is not
// (fresh-user finding: --storage-path /nix planned to move store paths).
func TestNeverPrunesANixStore(t *testing.T) {
	root := t.TempDir()
	mk := func(p string) { testutil.Must(t, os.MkdirAll(filepath.Join(root, p), 0o755)) }
	mk("/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-etc")
	mk("/nix/persist/var/lib")
	mk("/a/store/.links")
	mk("/b/var/nix/db")
	mk("/c/nix/store/.links")
	mk("/d/store/cccccccccccccccccccccccccccccccc-bash-5.2")
	mk("/e/store")
	mk("/e/old")
	for sp, want := range map[string]string{
		"/nix":          "holds a Nix store (/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-etc)",
		"/nix/store":    "lies in /nix/store",
		"/nix/var/nix":  "lies in /nix/var",
		"/a":            "holds a Nix store (/a/store/.links)",
		"/a/store/x":    "lies in the Nix store of /a (/a/store/.links)",
		"/b":            "holds a Nix store (/b/var/nix/db)",
		"/b/var/nix/gc": "lies in the Nix store of /b (/b/var/nix/db)",
		"/c":            "holds a Nix store (/c/nix/store/.links)",
		"/d":            "holds a Nix store (/d/store/cccccccccccccccccccccccccccccccc-bash-5.2)",
		"/nix/persist":  "",
		"/a/persist":    "",
		"/e":            "",
		"/":             "holds a Nix store (/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-etc)",
	} {
		err := nixStoreRefusal(root, sp)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: refused: %v", sp, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: %v, want %q", sp, err, want)
		}
	}
}
