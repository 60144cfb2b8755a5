package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestSuggestFlakeSavedModuleNotImported: a tester's /etc/nixos held
// flake.nix (its host listing ./configuration.nix) and
// persist-suggested-2.nix, the second module drift suggest had told them
// to save, whose import they had removed from configuration.nix (the
// first, persist-suggested.nix, still imported). drift suggest
// --format nix counted it all the same ("not mounted: /srv/r2 is declared
// … nothing is lost at the next boot, which mounts the copy"): nothing
// imports it, the next boot does not mount /srv/r2 and its data there is
// lost. Only the modules the flake's hosts reach count: the module is not
// read, a warning names it, and its path is left to the user as without
// the flake. Imported again, it is read: /srv/r2 is declared.
func TestSuggestFlakeSavedModuleNotImported(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	testutil.Tree(t, root, `f /etc/nixos/flake.nix { outputs = { nixpkgs, impermanence, ... }: { nixosConfigurations.desk = nixpkgs.lib.nixosSystem { modules = [ ./configuration.nix impermanence.nixosModules.impermanence ]; }; }; }
f /etc/nixos/configuration.nix { imports = [ ./persist.nix ./persist-suggested.nix ]; }
f /etc/nixos/persist-suggested.nix { environment.persistence."/nix/persist".directories = [ "/var/lib/r1" ]; }
f /etc/nixos/persist.nix { environment.persistence."/nix/persist".directories = [ "/var/log" ]; }
f /etc/nixos/persist-suggested-2.nix { environment.persistence."/nix/persist".directories = [ "/srv/r2" ]; }
f /nix/persist/var/log/.keep
f /nix/persist/var/lib/r1/data r1
f /nix/persist/srv/r2/data r2
f /srv/r2/data r2`)
	mi := filepath.Join(dir, "mountinfo")
	testutil.Must(t, os.WriteFile(mi, []byte(`22 1 0:20 / / rw - tmpfs none rw
27 22 0:31 /nix /nix rw - btrfs /dev/vda2 rw,subvol=/nix
28 27 0:31 /persist /nix/persist rw - btrfs /dev/vda2 rw,subvol=/persist
40 22 0:31 /persist/var/log /var/log rw - btrfs /dev/vda2 rw
`), 0o644))
	args := []string{"suggest", "--format", "nix", "--root", root, "--mountinfo", mi, "--ignore", "/etc/nixos"}
	saved := filepath.Join(root, "etc/nixos/persist-suggested-2.nix")
	_, out, errs := runDrift(t, args...)
	if strings.Contains(errs, "/srv/r2 is declared") {
		t.Errorf("/srv/r2, declared only by a module nothing imports, is said to be declared:\n%s", errs)
	}
	if want := saved + " not imported by " + filepath.Join(root, "etc/nixos/flake.nix") + "'s hosts' modules (nor by a module it imports): not read"; !strings.Contains(errs, want) {
		t.Errorf("no warning %q:\n%s", want, errs)
	}
	if !strings.Contains(out, "# left to you: 2 paths (/srv/r2, …): declared by an earlier module of drift suggest") || !strings.Contains(out, saved) {
		t.Errorf("/srv/r2 not left to the user, naming %s:\n%s", saved, out)
	}

	testutil.Must(t, os.WriteFile(filepath.Join(root, "etc/nixos/configuration.nix"), []byte(`{ imports = [ ./persist.nix ./persist-suggested.nix ./persist-suggested-2.nix ]; }`), 0o644))
	_, out, errs = runDrift(t, args...)
	if !strings.Contains(errs, "not mounted: /srv/r2 is declared ("+saved+":1:") || strings.Contains(errs, "not imported by") {
		t.Errorf("imported: /srv/r2 not declared by %s:\n%s", saved, errs)
	}
	if strings.Contains(out, "left to you") {
		t.Errorf("imported: a path left to the user:\n%s", out)
	}
}
