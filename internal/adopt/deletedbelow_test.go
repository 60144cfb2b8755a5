package adopt

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/testutil"
)

// TestCheckOffersOnlyAdoptsAdoptRuns: /etc is declared and not mounted
// yet, and /etc/machine-id below it is shown by a mount whose root was
// deleted since (mountinfo's //deleted; field case: a machine-id copy
// replaced by a rename). drift adopt refuses /etc (a path above such a
// mount), yet drift check recommended "drift adopt /etc" for the other
// lost paths under it. Every adopt command the model offers for a lost
// path (Audit.AdoptDecl, which check's rows and suggest's left read) must
// be one adopt accepts: run here with --dry-run, each must succeed; and
// the paths under /etc are kept by adopt's refusal (KeepRefused), not by
// an adopt command.
func TestCheckOffersOnlyAdoptsAdoptRuns(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	write := func(p, s string) {
		testutil.Must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		testutil.Must(t, os.WriteFile(p, []byte(s), 0o644))
	}
	write(filepath.Join(root, "nix/persist/etc/machine-id"), "renamed in place\n")
	write(filepath.Join(root, "etc/machine-id"), "what the mount shows\n")
	write(filepath.Join(root, "etc/hostid"), "live\n")
	write(filepath.Join(root, "etc/ssh/ssh_host_ed25519_key"), "key\n")
	write(filepath.Join(root, "srv/data/x"), "undeclared\n")
	write(filepath.Join(dir, "mountinfo"), `22 1 0:20 / / rw - tmpfs none rw
27 22 0:31 /nix /nix rw - btrfs /dev/vda2 rw,subvol=/nix
28 27 0:31 /persist /nix/persist rw - btrfs /dev/vda2 rw,subvol=/persist
41 22 0:31 /persist/etc/machine-id//deleted /etc/machine-id rw - btrfs /dev/vda2 rw,subvol=/persist
`)
	write(filepath.Join(dir, "p.nix"), `{ environment.persistence."/nix/persist" = { directories = [ "/etc" "/srv" ]; }; }`)
	m, err := audit.Build(context.Background(), audit.Options{Root: root, Persist: []string{filepath.Join(dir, "p.nix")},
		Mountinfo: filepath.Join(dir, "mountinfo"), RootSubvol: "none", OldRoots: "none", Paths: true})
	testutil.Must(t, err)
	defer m.Close()
	offered, refused := 0, 0
	for _, it := range m.Audit.Lost {
		if decl, ok := m.Audit.AdoptDecl(it); ok {
			offered++
			if _, err := Run(context.Background(), m, Options{Paths: []string{decl}, DryRun: true}); err != nil {
				t.Errorf("lost %s: the model offers drift adopt %s, which adopt refuses: %v", it.Path, decl, err)
			}
		}
		if k, _ := m.Audit.Keep(it); k == diff.KeepRefused {
			refused++
		}
	}
	if offered == 0 || refused == 0 {
		t.Errorf("%d lost paths offered an adopt command, %d kept by adopt's refusal; want both (/srv's, and /etc's): %d lost", offered, refused, len(m.Audit.Lost))
	}
}
