package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLintFollowsAFlakesModules: drift lint FLAKE.nix reads the modules
// the flake's hosts list, as check and prune read the machine's flake:
// the findings are those of linting the configuration it lists. A tester
// got "no persistence declarations found" and exit 0 from drift lint
// /etc/nixos/flake.nix while its ./configuration.nix imported a
// persist.nix with 3 errors: the flake was read as a module, whose
// declarations lie inside its outputs function. A flake of two hosts in
// hosts/NAME is linted host by host, as the directory is: their common
// paths are no duplicate.
func TestLintFollowsAFlakesModules(t *testing.T) {
	dir := t.TempDir()
	write := func(files map[string]string) {
		for p, s := range files {
			p = filepath.Join(dir, p)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(map[string]string{
		"one/flake.nix": `{
  inputs.impermanence.url = "github:nix-community/impermanence";
  outputs = { nixpkgs, impermanence, ... }: {
    nixosConfigurations.desk = nixpkgs.lib.nixosSystem {
      modules = [ ./configuration.nix impermanence.nixosModules.impermanence ];
    };
  };
}`,
		"one/configuration.nix": `{ imports = [ ./persist.nix ]; }`,
		"one/persist.nix":       `{ environment.persistence."/nix/persist".directories = [ "/var/log" "/var/log" "/srv//x" ]; }`,
	})
	lint := func(args ...string) (int, string) {
		t.Helper()
		code, out, errs := runDrift(t, append([]string{"lint", "--format", "json"}, args...)...)
		if code > 1 {
			t.Fatalf("drift lint %q: exit %d: %s", args, code, errs)
		}
		return code, out
	}
	rules := func(out string) map[string]int {
		n := map[string]int{}
		for _, line := range strings.Split(out, "\n") {
			if r, ok := strings.CutPrefix(strings.TrimSpace(line), `"rule": `); ok {
				n[strings.Trim(r, `",`)]++
			}
		}
		return n
	}
	codeFlake, outFlake := lint(filepath.Join(dir, "one/flake.nix"))
	codeConf, outConf := lint(filepath.Join(dir, "one/configuration.nix"))
	if strings.Contains(outFlake, "no persistence declarations found") || codeFlake != 1 || codeFlake != codeConf {
		t.Errorf("lint flake.nix: exit %d (configuration.nix: %d):\n%s", codeFlake, codeConf, outFlake)
	}
	fr, cr := rules(outFlake), rules(outConf)
	for r, n := range cr {
		if fr[r] != n {
			t.Errorf("rule %s: %d findings linting flake.nix, %d linting configuration.nix", r, fr[r], n)
		}
	}
	if fr["duplicate"] != 1 || fr["path-slashes"] != 1 {
		t.Errorf("lint flake.nix: rules %v", fr)
	}

	write(map[string]string{
		"two/flake.nix": `{
  outputs = { nixpkgs, ... }: {
    nixosConfigurations.a = nixpkgs.lib.nixosSystem { modules = [ ./hosts/a/configuration.nix ]; };
    nixosConfigurations.b = nixpkgs.lib.nixosSystem { modules = [ ./hosts/b/configuration.nix ]; };
  };
}`,
		"two/hosts/a/configuration.nix": `{ environment.persistence."/p".directories = [ "/var/log" "/var/lib/nixos" ]; }`,
		"two/hosts/b/configuration.nix": `{ environment.persistence."/p".directories = [ "/var/log" "/var/lib/nixos" ]; }`,
	})
	// A flake whose hosts list no module by a path: nothing is linted,
	// and that is an error, not a pass.
	write(map[string]string{"three/flake.nix": `{ outputs = { self, ... }: { nixosConfigurations.d = mkHost "d"; }; }`})
	if code, _, errs := runDrift(t, "lint", filepath.Join(dir, "three/flake.nix")); code != 2 || !strings.Contains(errs, "nothing to lint") || !strings.Contains(errs, "--flake REF#HOST") {
		t.Errorf("lint of a flake listing no module: exit %d, stderr %s", code, errs)
	}
	for _, arg := range []string{"two/flake.nix", "two"} {
		_, out := lint(filepath.Join(dir, arg))
		if strings.Contains(out, `"rule": "duplicate"`) || strings.Contains(out, "no persistence declarations found") {
			t.Errorf("lint %s: the hosts linted as one:\n%s", arg, out)
		}
		if n := strings.Count(out, `"rule": "missing-systemd-timers"`); n != 2 {
			t.Errorf("lint %s: missing-systemd-timers %d times, want once per host:\n%s", arg, n, out)
		}
	}
}
