package adopt

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/testutil"
)

// preferModel builds the demo machine's model with /srv declared and not
// mounted, its persistent copy holding another index.html and a file
// named sub where the live /srv/www/sub is a directory holding precious.
func preferModel(t *testing.T) (m *audit.Model, build func() *audit.Model) {
	t.Helper()
	root := demo(t).Root
	testutil.Must(t, os.MkdirAll(filepath.Join(root, "srv/www/sub"), 0o755))
	testutil.Must(t, os.WriteFile(filepath.Join(root, "srv/www/sub/precious"), []byte("only here\n"), 0o600))
	testutil.Must(t, os.MkdirAll(filepath.Join(root, "nix/persist/srv/www"), 0o755))
	testutil.Must(t, os.WriteFile(filepath.Join(root, "nix/persist/srv/www/index.html"), []byte("the copy's\n"), 0o640))
	testutil.Must(t, os.WriteFile(filepath.Join(root, "nix/persist/srv/www/sub"), []byte("a file\n"), 0o644))
	fix, err := filepath.Abs("../../fixtures/demo")
	testutil.Must(t, err)
	build = func() *audit.Model {
		m, err := audit.Build(context.Background(), audit.Options{Root: root, Persist: []string{filepath.Join(fix, "impermanence.nix")},
			Mountinfo: filepath.Join(fix, "mountinfo"), RootSubvol: "none", OldRoots: "none"})
		testutil.Must(t, err)
		t.Cleanup(m.Close)
		return m
	}
	return build(), build
}

// TestPreferPersistentNeverTouchesTheLiveData: drift adopt --prefer
// persistent keeps the persistent copy's objects and never deletes or
// replaces live data, dry run or not: the live index.html keeps its
// bytes and the live directory sub (where the copy holds a file) keeps
// precious, which the next wipe moves to an old root, restorable from
// there. (A version of adopt replaced both with the copy's at once,
// precious unrecoverable.)
func TestPreferPersistentNeverTouchesTheLiveData(t *testing.T) {
	m, _ := preferModel(t)
	index := filepath.Join(m.Root, "srv/www/index.html")
	before, err := os.ReadFile(index)
	testutil.Must(t, err)
	for _, dry := range []bool{true, false} {
		if _, err := Run(context.Background(), m, Options{Paths: []string{"/srv"}, Prefer: PreferPersistent, DryRun: dry}); err != nil {
			t.Fatalf("dry run %v: %v", dry, err)
		}
		if b, err := os.ReadFile(index); err != nil || string(b) != string(before) {
			t.Errorf("dry run %v: the live index.html holds %q (%v), want %q", dry, b, err, before)
		}
		if b, err := os.ReadFile(filepath.Join(m.Root, "srv/www/sub/precious")); err != nil || string(b) != "only here\n" {
			t.Errorf("dry run %v: the live sub/precious holds %q (%v), want it kept", dry, b, err)
		}
		if b, _ := os.ReadFile(filepath.Join(m.Root, "nix/persist/srv/www/index.html")); string(b) != "the copy's\n" {
			t.Errorf("dry run %v: the persistent copy changed: %q", dry, b)
		}
	}
}
