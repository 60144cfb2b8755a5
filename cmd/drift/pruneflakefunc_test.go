package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestPruneMovesNothingWhenTheFlakeBuildsHostsByAFunction: a flake.nix
// whose hosts are built by a function (mylib.mkHost "desk", or
// nixosSystem (import ./hosts/desk.nix)) lists no module by a path, or
// lists one host's (base) but builds another by a function, so what its
// hosts evaluate cannot be read statically. Data a host module
// declares or uses, reached only through that function, must not be
// moved: prune moves nothing and names the flake as what it could not
// follow.
func TestPruneMovesNothingWhenTheFlakeBuildsHostsByAFunction(t *testing.T) {
	for name, flake := range map[string]string{
		"mkHost": `{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
  outputs = { self, nixpkgs, ... }:
    let mylib = import ./lib { inherit nixpkgs; };
    in { nixosConfigurations.desk = mylib.mkHost "desk"; };
}
`,
		"path argument": `{
  outputs = { self, nixpkgs, ... }: {
    nixosConfigurations.base = nixpkgs.lib.nixosSystem { modules = [ ./base.nix ]; };
    nixosConfigurations.desk = (import ./lib { inherit nixpkgs; }).mkHost ./hosts/desk;
  };
}
`,
		"one host built by an input's function": `{
  inputs.mylib.url = "github:someone/mylib";
  outputs = { self, nixpkgs, mylib, ... }: {
      nixosConfigurations.base = nixpkgs.lib.nixosSystem { modules = [ ./base.nix ]; };
      nixosConfigurations.desk = mylib.lib.mkHost "desk";
  };
}
`,
		"import": `{
  outputs = { self, nixpkgs, ... }: {
    nixosConfigurations.desk = nixpkgs.lib.nixosSystem (import ./hosts/desk.nix);
  };
}
`,
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			for p, s := range map[string]string{
				"etc/nixos/flake.nix":                 flake,
				"etc/nixos/lib/default.nix":           "{ nixpkgs }: { mkHost = host: nixpkgs.lib.nixosSystem { modules = [ (../hosts + \"/${host}/app.nix\") (../hosts + \"/${host}/svc.nix\") ]; }; }\n",
				"etc/nixos/base.nix":                  "{ ... }: { }\n",
				"etc/nixos/hosts/desk.nix":            "{ system = \"x86_64-linux\"; modules = [ ./desk/app.nix ./desk/svc.nix ]; }\n",
				"etc/nixos/hosts/desk/app.nix":        "{ ... }: {\n  environment.persistence.\"/nix/persist\".directories = [ \"/var/lib/app\" ];\n}\n",
				"etc/nixos/hosts/desk/svc.nix":        "{ ... }: {\n  services.minio.dataDir = [ \"/nix/persist/appdata\" ];\n}\n",
				"nix/persist/var/lib/app/db":          "db",
				"nix/persist/appdata/x":               "x",
				"nix/persist/var/lib/oldapp/leftover": "stray",
			} {
				testutil.WriteFileMode(t, filepath.Join(root, p), s, 0o600)
			}
			code, out, errs := runDrift(t, "prune", "--dry-run", "--root", root, "--ephemeral", "/")
			for _, used := range []string{"/nix/persist/var/lib/app", "/nix/persist/appdata", "/nix/persist/var/lib/oldapp"} {
				if strings.Contains(out, used) {
					t.Errorf("prune would move %s though the flake's hosts were not read:\n%s\n%s", used, out, errs)
				}
			}
			if code == 0 || !strings.Contains(errs, "not moving anything") || !strings.Contains(errs, "flake.nix") {
				t.Errorf("exit %d, want a refusal naming flake.nix\n%s\n%s", code, out, errs)
			}
		})
	}
}
