package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestLintHostFindingsNotInSuggestsModule: what a host lacks (the
// missing-state rules) is said at the host's own files, never in a module
// drift suggest --format nix wrote, whose header says "drift lint does not
// look here for what a host lacks". A tester linting /etc/nixos with
// persist-suggested-2.nix imported got missing-systemd-timers at
// persist-suggested-2.nix:5:27: its storage path came first. At the host's
// own storage path when it declares one; else at its configuration.nix,
// without a line.
func TestLintHostFindingsNotInSuggestsModule(t *testing.T) {
	const suggested = `# drift suggest for /: what to persist, as a NixOS module for impermanence (environment.persistence).
# drift-lint: module (a part of a configuration: drift lint does not look here for what a host lacks)
{
  environment.persistence."/nix/persist" = {
    directories = [ "/var/lib/app" ];
  };
}
`
	for name, c := range map[string]struct{ conf, want string }{
		"host declares":         {`{ imports = [ ./a-suggested.nix ]; environment.persistence."/nix/persist".directories = [ "/var/log" ]; }`, "configuration.nix:1"},
		"host declares nothing": {`{ imports = [ ./a-suggested.nix ]; }`, "configuration.nix:0"},
	} {
		dir := t.TempDir()
		for f, s := range map[string]string{"configuration.nix": c.conf, "a-suggested.nix": suggested} {
			if err := os.WriteFile(filepath.Join(dir, f), []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, arg := range []string{dir, filepath.Join(dir, "configuration.nix")} {
			code, out, errs := runDrift(t, "lint", "--format", "json", arg)
			if code > 1 {
				t.Fatalf("%s: exit %d: %s", name, code, errs)
			}
			var got struct {
				Findings []struct {
					File string
					Line int
					Rule string
				}
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, f := range got.Findings {
				if f.Rule != "missing-systemd-timers" && f.Rule != "missing-machine-id" {
					continue
				}
				n++
				if at := filepath.Base(f.File) + ":" + itoa(f.Line); at != c.want {
					t.Errorf("%s: lint %s: %s at %s, want %s", name, arg, f.Rule, at, c.want)
				}
			}
			if n != 2 {
				t.Errorf("%s: lint %s: %d missing-state findings, want 2:\n%s", name, arg, n, out)
			}
		}
	}
}
