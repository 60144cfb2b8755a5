package adopt

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/restore"
	"github.com/nix-drift/drift/internal/testutil"
)

// TestPreferPersistentSettlesTheRow: /srv is declared and not mounted,
// its persistent copy holds another index.html. drift check offered
// "keep the live objects: drift adopt --prefer live /srv, or the
// persistent copy's: drift adopt --prefer persistent /srv"; the second
// copied what the copy lacked and left the live file as it was, so check
// listed it again, declared-unbacked with the same two commands: the
// user was asked the question they had just answered. The live file, on
// the wiped root, is what the next boot discards for the copy's: adopt
// --prefer persistent now replaces it with the copy's (a dry run plans it
// and writes nothing), and check, whose one rule compares the live object
// with the copy, finds it copied: no row, no command. A file of the same
// bytes with another mode (metadata only, counted copied) is left alone.
func TestPreferPersistentSettlesTheRow(t *testing.T) {
	root := demo(t).Root
	live := filepath.Join(root, "srv/www/index.html")
	before, err := os.ReadFile(live)
	testutil.Must(t, err)
	testutil.Must(t, os.MkdirAll(filepath.Join(root, "nix/persist/srv/www"), 0o755))
	testutil.Must(t, os.WriteFile(filepath.Join(root, "nix/persist/srv/www/index.html"), []byte("the copy's\n"), 0o640))
	fix, err := filepath.Abs("../../fixtures/demo")
	testutil.Must(t, err)
	build := func() *audit.Model {
		m, err := audit.Build(context.Background(), audit.Options{Root: root, Persist: []string{filepath.Join(fix, "impermanence.nix")},
			Mountinfo: filepath.Join(fix, "mountinfo"), RootSubvol: "none", OldRoots: "none"})
		testutil.Must(t, err)
		t.Cleanup(m.Close)
		return m
	}
	m := build()
	lost := func(m *audit.Model) (keep diff.Keep, listed bool) {
		for _, it := range m.Audit.Lost {
			if it.Path == "/srv/www/index.html" {
				k, _ := m.Audit.Keep(it)
				return k, true
			}
		}
		return 0, false
	}
	if k, listed := lost(m); !listed || k != diff.KeepChoose {
		t.Fatalf("before: /srv/www/index.html listed %v, keep %v; want it listed, KeepChoose", listed, k)
	}

	res, err := Run(context.Background(), m, Options{Paths: []string{"/srv"}, Prefer: PreferPersistent, DryRun: true})
	testutil.Must(t, err)
	p := res.Paths[0]
	if len(p.Matched) != 1 || p.Matched[0].Live != "/srv/www/index.html" || p.Matched[0].Copy != "/nix/persist/srv/www/index.html" ||
		p.Matched[0].Result == nil || !p.Matched[0].Result.Replaced || p.Matched[0].Kept.Action != restore.Keep {
		t.Fatalf("dry run: matched %+v, want the live index.html replaced with the copy's", p.Matched)
	}
	if b, _ := os.ReadFile(live); string(b) != string(before) {
		t.Errorf("the dry run changed the live file: %q", b)
	}

	_, err = Run(context.Background(), m, Options{Paths: []string{"/srv"}, Prefer: PreferPersistent})
	testutil.Must(t, err)
	if b, _ := os.ReadFile(live); string(b) != "the copy's\n" {
		t.Errorf("after --prefer persistent the live file holds %q, want the copy's bytes", b)
	}
	var st os.FileInfo
	if st, err = os.Lstat(live); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("the live file: %v %v, want the copy's mode 0640", st, err)
	}
	if b, _ := os.ReadFile(filepath.Join(m.Root, "nix/persist/srv/www/index.html")); string(b) != "the copy's\n" {
		t.Errorf("the persistent copy changed: %q", b)
	}
	again := build()
	if k, listed := lost(again); listed {
		t.Errorf("after --prefer persistent, check still lists /srv/www/index.html (keep %v)", k)
	}
	for _, it := range again.Audit.Lost {
		if k, _ := again.Audit.Keep(it); k == diff.KeepChoose {
			t.Errorf("after --prefer persistent, check still offers --prefer for %s", it.Path)
		}
	}
}
