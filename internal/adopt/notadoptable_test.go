package adopt

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/testutil"
)

// TestAdoptRefusesExactlyWhatCheckCallsNotAdoptable: drift adopt of a
// declared path is refused as not adoptable (its storage path unusable, or
// the path itself the mount point of a filesystem other than its
// persistent copy) exactly where the model's diff.Audit.NotAdoptable,
// which drift check prints no adopt command for, names it, with the same
// reason. Declared here: /srv (adoptable), /boot (a vfat mount point),
// /var/lib (a btrfs subvolume's mount point) and /run/user/1000 (a tmpfs):
// check printed "drift adopt … /boot" and adopt refused it, the fact
// computed twice (adopt.MountPointError, audit's notAdoptable).
func TestAdoptRefusesExactlyWhatCheckCallsNotAdoptable(t *testing.T) {
	m0 := demo(t)
	for _, d := range []string{"boot/EFI", "var/lib/app", "run/user/1000/x", "nix/persist"} {
		testutil.Must(t, os.MkdirAll(filepath.Join(m0.Root, d), 0o755))
	}
	nix := filepath.Join(t.TempDir(), "p.nix")
	testutil.Must(t, os.WriteFile(nix, []byte(`{ environment.persistence."/nix/persist".directories = [ "/srv" "/boot" "/var/lib" "/run/user/1000" ]; }`), 0o644))
	fix, err := filepath.Abs("../../fixtures/demo")
	testutil.Must(t, err)
	m, err := audit.Build(context.Background(), audit.Options{Root: m0.Root, Persist: []string{nix}, Mountinfo: filepath.Join(fix, "mountinfo"), RootSubvol: "none", OldRoots: "none", Ephemeral: []string{"/"}})
	testutil.Must(t, err)
	t.Cleanup(m.Close)
	for _, p := range []string{"/srv", "/boot", "/var/lib", "/run/user/1000"} {
		e, _ := m.Decls.Covering(p)
		why, refusedByCheck := m.Audit.Refusal(&e)
		_, err := Run(context.Background(), m, Options{Paths: []string{p}, DryRun: true})
		var mpe *audit.MountPointError
		var ue *audit.UnmountedError
		refusedByAdopt := errors.As(err, &mpe) || errors.As(err, &ue)
		if refusedByCheck != refusedByAdopt {
			t.Errorf("%s: NotAdoptable %v (%q), adopt refuses %v (%v)", p, refusedByCheck, why, refusedByAdopt, err)
		}
		if refusedByAdopt && why != err.Error() {
			t.Errorf("%s: check's reason %q, adopt's %q", p, why, err)
		}
	}
	if e, _ := m.Decls.Covering("/srv"); e.Path != "/srv" {
		t.Errorf("/srv is not declared: %+v", e)
	} else if why, ok := m.Audit.Refusal(&e); ok {
		t.Errorf("/srv is not adoptable: %q", why)
	}
}
