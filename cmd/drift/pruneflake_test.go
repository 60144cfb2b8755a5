package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestPruneReadsTheFlakesModulesAndReadFiles: a field report ran drift
// prune on a machine whose /etc/nixos holds flake.nix, which lists
// ./machine-extra.nix in nixosSystem's modules beside ./configuration.nix
// (configuration.nix does not import it), and a module that loads a
// script with builtins.readFile ./backup.sh. nixos-rebuild evaluates the
// flake: /nix/persist/flakedata, named in machine-extra.nix, and
// /nix/persist/backupdata, named in the script, are in use; prune moved
// both. It now reads the flake's modules and the files the configuration
// reads. A flake input's module (a library) does not stop it; a module it
// cannot read statically does, saying which.
func TestPruneReadsTheFlakesModulesAndReadFiles(t *testing.T) {
	root := testerMachine(t)
	for p, s := range map[string]string{
		"etc/nixos/flake.nix": `{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
  inputs.impermanence.url = "github:nix-community/impermanence";
  outputs = { self, nixpkgs, impermanence, ... }: {
    nixosConfigurations.box = nixpkgs.lib.nixosSystem {
      system = "x86_64-linux";
      modules = [ ./configuration.nix ./machine-extra.nix impermanence.nixosModules.impermanence ];
    };
  };
}
`,
		"etc/nixos/machine-extra.nix":          "{ ... }: {\n  imports = [ ./backup.nix ];\n  services.minio.dataDir = [ \"/nix/persist/flakedata\" ];\n}\n",
		"etc/nixos/backup.nix":                 "{ pkgs, ... }: { systemd.services.backup.script = builtins.readFile ./backup.sh; }\n",
		"etc/nixos/backup.sh":                  "#!/bin/sh\nrsync -a /nix/persist/backupdata/ remote:\n",
		"nix/persist/flakedata/db":             "db",
		"nix/persist/backupdata/b":             "b",
		"etc/nixos/hardware-configuration.nix": "{ }\n",
	} {
		testutil.WriteFile(t, filepath.Join(root, p), s)
	}
	code, out, errs := runDrift(t, "prune", "--dry-run", "--root", root, "--ephemeral", "/")
	if code != 0 {
		t.Fatalf("drift prune: exit %d\n%s\n%s", code, out, errs)
	}
	for _, used := range []string{"/nix/persist/flakedata", "/nix/persist/backupdata"} {
		if strings.Contains(out, used) {
			t.Errorf("prune would move %s, which the flake's configuration uses:\n%s", used, out)
		}
	}
	if !strings.Contains(out, "/nix/persist/var/lib/oldapp") {
		t.Errorf("the real stray is not moved:\n%s\n%s", out, errs)
	}

	// A module the static reader cannot follow: nothing is moved, and
	// the refusal names it.
	testutil.WriteFile(t, filepath.Join(root, "etc/nixos/flake.nix"), `{
  outputs = { self, nixpkgs, ... }: {
    nixosConfigurations.box = nixpkgs.lib.nixosSystem {
      modules = [ ./configuration.nix ./machine-extra.nix (import ./generated.nix { inherit nixpkgs; }) ];
    };
  };
}
`)
	code, out, errs = runDrift(t, "prune", "--dry-run", "--root", root, "--ephemeral", "/")
	if code == 0 || strings.Contains(out, "/nix/persist/var/lib/oldapp") || !strings.Contains(errs, "flake.nix:4:") || !strings.Contains(errs, "not moving anything") {
		t.Errorf("with a module not followed: exit %d, want a refusal naming flake.nix:4\n%s\n%s", code, out, errs)
	}
}
