package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestPruneReadsAFlakesModulesBoundByLet: a flake.nix that binds its
// hosts' modules list with let (let mods = [ ./configuration.nix
// ./machine-extra.nix ]; in … modules = mods;) lists its modules by path
// all the same, as Nix resolves the name. drift prune read the name as a
// module it could not follow and moved nothing; it now reads the list:
// the data machine-extra.nix uses is kept and the real stray is moved.
// A host beside it built by an input's function (mylib.lib.mkHost
// "desk") still stops it, and so does a host whose function argument
// hides the let's name (its modules are not the let's list).
func TestPruneReadsAFlakesModulesBoundByLet(t *testing.T) {
	root := testerMachine(t)
	write := func(p, s string) { testutil.WriteFile(t, filepath.Join(root, p), s) }
	write("etc/nixos/machine-extra.nix", "{ ... }: {\n  services.minio.dataDir = [ \"/nix/persist/flakedata\" ];\n}\n")
	write("nix/persist/flakedata/db", "db")
	const flake = `{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
  outputs = { self, nixpkgs, mylib, ... }:
    let
      common = [ ./configuration.nix ];
      mods = common ++ [ ./machine-extra.nix ];
    in {
      nixosConfigurations.box = nixpkgs.lib.nixosSystem { system = "x86_64-linux"; modules = mods; };
%s    };
}
`
	prune := func() (int, string, string) {
		return runDrift(t, "prune", "--dry-run", "--root", root, "--ephemeral", "/")
	}
	write("etc/nixos/flake.nix", strings.Replace(flake, "%s", "", 1))
	code, out, errs := prune()
	if code != 0 {
		t.Fatalf("drift prune: exit %d\n%s\n%s", code, out, errs)
	}
	for _, used := range append([]string{"/nix/persist/flakedata"}, declaredOrUsed...) {
		if strings.Contains(out, used) {
			t.Errorf("prune would move %s, which the flake's configuration uses:\n%s", used, out)
		}
	}
	if !strings.Contains(out, "/nix/persist/var/lib/oldapp") {
		t.Errorf("the real stray is not moved:\n%s\n%s", out, errs)
	}

	for name, host := range map[string]string{
		"a host built by an input's function":  `      nixosConfigurations.desk = mylib.lib.mkHost "desk";` + "\n",
		"the let's name hidden by an argument": `      nixosConfigurations.desk = (mods: nixpkgs.lib.nixosSystem { modules = mods; }) [ ./desk.nix ];` + "\n",
	} {
		write("etc/nixos/flake.nix", strings.Replace(flake, "%s", host, 1))
		code, out, errs := prune()
		if code == 0 || strings.Contains(out, "/nix/persist/var/lib/oldapp") || !strings.Contains(errs, "not moving anything") || !strings.Contains(errs, "flake.nix:") {
			t.Errorf("%s: exit %d, want a refusal naming flake.nix\n%s\n%s", name, code, out, errs)
		}
	}
}
