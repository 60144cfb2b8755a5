package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// computedConfiguration writes a machine whose configuration names three
// state directories under /nix/persist by computing them, as a fresh
// user's did (issue 12's tester: concatStrings, concatStringsSep with a
// let-bound base, lib.path.append), with extra in its services.nix; a
// stray beside them.
func computedConfiguration(t *testing.T, extra string) string {
	t.Helper()
	root := t.TempDir()
	for p, s := range map[string]string{
		"etc/nixos/configuration.nix": "{ ... }: {\n  imports = [ ./services.nix ];\n  environment.persistence.\"/nix/persist\".directories = [ \"/var/lib/nixos\" ];\n}\n",
		"etc/nixos/services.nix": "{ lib, ... }:\nlet base = \"/nix/persist\"; in {\n" +
			"  services.vault.storagePath = lib.concatStrings [ \"/nix/persist\" \"/vault\" ];\n" +
			"  services.gitea.stateDir = builtins.concatStringsSep \"/\" [ base \"gitea\" ];\n" +
			"  services.home-assistant.configDir = lib.path.append /nix/persist \"hass\";\n" + extra + "}\n",
		"nix/persist/vault/data":       "v",
		"nix/persist/gitea/repo":       "g",
		"nix/persist/hass/config.yaml": "h",
		"nix/persist/old-stray/f":      "stray",
		"var/lib/nixos/uid-map":        "{}",
	} {
		testutil.WriteFileMode(t, filepath.Join(root, p), s, 0o600)
	}
	return root
}

// TestPruneKeepsComputedPaths: the paths the configuration computes with
// the string and path functions are in use: drift prune moves the stray
// and none of them, for real, not only in a dry run.
func TestPruneKeepsComputedPaths(t *testing.T) {
	root := computedConfiguration(t, "")
	code, out, errs := runDrift(t, "prune", "--root", root, "--ephemeral", "/")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, p := range []string{"vault/data", "gitea/repo", "hass/config.yaml"} {
		if _, err := os.Stat(filepath.Join(root, "nix/persist", p)); err != nil {
			t.Errorf("/nix/persist/%s was moved: %v\n%s", p, err, out)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "nix/persist/old-stray")); err == nil {
		t.Errorf("the stray was not moved:\n%s\n%s", out, errs)
	}
}

// TestPruneRefusesAPartlyKnownPathUnderStorage: a string that may name a
// path below /nix/persist and cannot be read statically makes the
// configuration not whole: drift prune moves nothing and names the
// option's file:line (exit 2), as for an import it cannot follow; one
// that cannot name a path there does not.
func TestPruneRefusesAPartlyKnownPathUnderStorage(t *testing.T) {
	root := computedConfiguration(t, "  services.x.dataDir = \"/nix/persist/${config.networking.hostName}\";\n")
	code, out, errs := runDrift(t, "prune", "--root", root, "--ephemeral", "/")
	services := filepath.Join(root, "etc/nixos/services.nix")
	if code != 2 || !strings.Contains(errs, "not moving anything") || !strings.Contains(errs, "services.x.dataDir ("+services+":6:") ||
		!strings.Contains(errs, "may name a path below /nix/persist") {
		t.Errorf("exit %d\n%s\n%s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(root, "nix/persist/old-stray/f")); err != nil {
		t.Errorf("something moved: %v", err)
	}

	root = computedConfiguration(t, "  services.x.dataDir = \"${config.x}/bin/x --data /nix/persist/old-stray\";\n  services.y.dir = \"/var/lib/${config.x}\";\n")
	code, out, errs = runDrift(t, "prune", "--root", root, "--ephemeral", "/", "--dry-run")
	if code != 0 || strings.Contains(out, "old-stray") {
		t.Errorf("strings that name no unknown path below /nix/persist: exit %d\n%s\n%s", code, out, errs)
	}
}
