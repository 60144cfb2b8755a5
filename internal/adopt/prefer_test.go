package adopt

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/testutil"
	"golang.org/x/sys/unix"
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

// TestPreferPersistentThenTheRowSaysTheCopyComesBack: once drift adopt
// --prefer persistent /srv has copied what the persistent copy lacked,
// the live index.html (other bytes in the copy) and the live directory
// sub (a file in the copy) are still lost, and drift check offered
// --prefer live and --prefer persistent for them again: the second would
// change nothing, a row that could not clear. The model now says
// KeepCopyBack for every path left below /srv (the copy's comes back at
// the next boot; only --prefer live is offered) and CopyLacks(/srv) is
// false; the live data is untouched.
func TestPreferPersistentThenTheRowSaysTheCopyComesBack(t *testing.T) {
	m, build := preferModel(t)
	if !m.Audit.CopyLacks("/srv") {
		t.Fatal("before: CopyLacks(/srv) false; the fixture's copy should lack some of /srv")
	}
	if _, err := Run(context.Background(), m, Options{Paths: []string{"/srv"}, Prefer: PreferPersistent}); err != nil {
		t.Fatal(err)
	}
	again := build()
	if again.Audit.CopyLacks("/srv") {
		t.Error("after: CopyLacks(/srv) true, want false: --prefer persistent would change nothing")
	}
	seen := map[string]bool{}
	for _, it := range again.Audit.Lost {
		if !strings.HasPrefix(it.Path, "/srv/") {
			continue
		}
		seen[it.Path] = true
		// Check read the copy's type: a file where the live sub is a
		// directory, neither newer nor older (diff.Item.CopyKind).
		if it.Path == "/srv/www/sub" && (it.CopyKind() != unix.S_IFREG || it.CopyNewer()) {
			t.Errorf("sub: copy kind %o, newer %v; want a file (%o), not newer", it.CopyKind(), it.CopyNewer(), unix.S_IFREG)
		}
		if k, what := again.Audit.Keep(it); k != diff.KeepCopyBack || what != "/srv" {
			t.Errorf("after: %s: keep %v %q, want copy-back /srv", it.Path, k, what)
		}
		// The one command offered, --prefer live of CopyBackAt, runs
		// (a dry run: precious alone would be refused, the copy holding
		// a file at sub).
		if _, err := Run(context.Background(), again, Options{Paths: []string{again.Audit.CopyBackAt(it)}, Prefer: PreferLive, DryRun: true}); err != nil {
			t.Errorf("after: %s: drift adopt --prefer live %s: %v", it.Path, again.Audit.CopyBackAt(it), err)
		}
	}
	if !seen["/srv/www/index.html"] || !seen["/srv/www/sub"] {
		t.Errorf("after: lost below /srv %v, want index.html and sub still listed (the live data is kept)", seen)
	}
	if b, err := os.ReadFile(filepath.Join(m.Root, "srv/www/sub/precious")); err != nil || string(b) != "only here\n" {
		t.Errorf("the live sub/precious: %q %v", b, err)
	}
}
