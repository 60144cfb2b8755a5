package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// splitConfiguration writes the tester's machine of issue 12 under a
// temporary root: /etc/nixos/configuration.nix importing an impermanence
// module, a users module naming each user's hashedPasswordFile under
// /persist/secrets, and a fileSystems module; a stray beside the secrets.
func splitConfiguration(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for p, s := range map[string]string{
		"etc/nixos/configuration.nix": "{ ... }: {\n  imports = [ ./hardware-configuration.nix ./impermanence.nix ./users.nix ./filesystems.nix ];\n}\n",
		"etc/nixos/impermanence.nix":  "{ ... }: {\n  environment.persistence.\"/persist\".directories = [ \"/var/lib/nixos\" ];\n}\n",
		"etc/nixos/users.nix":         "{ ... }: {\n  users.mutableUsers = false;\n  users.users.root.hashedPasswordFile = \"/persist/secrets/root\";\n  users.users.alice.hashedPasswordFile = \"/persist/secrets/alice\";\n}\n",
		"etc/nixos/filesystems.nix":   "{ ... }: {\n  fileSystems.\"/srv/www\" = { device = \"/persist/srv/www\"; options = [ \"bind\" ]; };\n}\n",
		"persist/secrets/root":        "$y$root",
		"persist/secrets/alice":       "$y$alice",
		"persist/srv/www/index.html":  "hi",
		"persist/old-stray/f":         "stray",
		"var/lib/nixos/uid-map":       "{}",
	} {
		testutil.WriteFileMode(t, filepath.Join(root, p), s, 0o600)
	}
	return root
}

// TestPruneNeverMovesPasswordFilesNamedInAnotherModule: drift prune
// --persist naming the impermanence module alone still reads the
// machine's configuration (/etc/nixos/configuration.nix and its imports):
// the password files users.nix names are in use, never moved; the stray
// beside them is.
func TestPruneNeverMovesPasswordFilesNamedInAnotherModule(t *testing.T) {
	root := splitConfiguration(t)
	code, out, errs := runDrift(t, "prune", "--root", root, "--dry-run", "--ephemeral", "/", "--persist", filepath.Join(root, "etc/nixos/impermanence.nix"))
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if strings.Contains(out, "/persist/secrets") || strings.Contains(out, "/persist/srv") {
		t.Errorf("drift prune would move what users.nix and filesystems.nix name:\n%s", out)
	}
	if !strings.Contains(out, "/persist/old-stray") {
		t.Errorf("the stray is not moved:\n%s", out)
	}
}

// TestPruneRefusesWithoutTheWholeConfiguration: with no configuration.nix
// on the machine (nor named), or with an import of it not followed, drift
// prune moves nothing, even in a dry run, and says what it read and how
// to name the whole configuration (exit 2); naming the module the import
// leads to with --persist too makes the configuration whole.
func TestPruneRefusesWithoutTheWholeConfiguration(t *testing.T) {
	root := splitConfiguration(t)
	entry := filepath.Join(root, "etc/nixos/configuration.nix")
	imperm := filepath.Join(root, "etc/nixos/impermanence.nix")
	if err := os.Rename(entry, filepath.Join(root, "etc/nixos/host.nix")); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runDrift(t, "prune", "--root", root, "--ephemeral", "/", "--persist", imperm)
	if code != 2 || !strings.Contains(errs, "not moving anything") || !strings.Contains(errs, "no configuration.nix was read") ||
		!strings.Contains(errs, "read: "+imperm) || !strings.Contains(errs, "--persist "+entry) {
		t.Errorf("without configuration.nix: exit %d\n%s\n%s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(root, "persist/old-stray/f")); err != nil {
		t.Errorf("something moved: %v", err)
	}

	// configuration.nix back, importing a module outside /etc/nixos.
	other := filepath.Join(root, "etc/secrets.nix")
	if err := os.WriteFile(other, []byte("{ ... }: { services.openssh.hostKeys = [ { path = \"/persist/old-stray/f\"; } ]; }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(entry, []byte("{ ... }: { imports = [ ./impermanence.nix ./users.nix ../secrets.nix ]; }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs = runDrift(t, "prune", "--root", root, "--dry-run", "--ephemeral", "/")
	if code != 2 || !strings.Contains(errs, "the import ../secrets.nix ("+entry+":1:") {
		t.Errorf("an import not followed: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = runDrift(t, "prune", "--root", root, "--dry-run", "--ephemeral", "/", "--persist", imperm, "--persist", other)
	if code != 0 || strings.Contains(out, "old-stray") || strings.Contains(errs, "not followed") {
		t.Errorf("the module named too: exit %d\n%s\n%s", code, out, errs)
	}
}

// TestPersistConfigurationFollowsImports: --persist configuration.nix
// reads the modules it imports, as drift lint does, for check as for
// suggest: the declarations of impermanence.nix are found (not exit 2,
// "hold no persisted path"), and no module is warned about for declaring
// nothing itself.
func TestPersistConfigurationFollowsImports(t *testing.T) {
	root := splitConfiguration(t)
	entry := filepath.Join(root, "etc/nixos/configuration.nix")
	for _, cmd := range []string{"check", "suggest"} {
		code, out, errs := runDrift(t, cmd, "--root", root, "--ephemeral", "/", "--persist", entry, "-v")
		if code > 1 || !strings.Contains(errs, "declarations from "+filepath.Join(root, "etc/nixos/impermanence.nix")) || strings.Contains(errs, "no persistence declarations found") {
			t.Errorf("drift %s: exit %d\n%s\n%s", cmd, code, out, errs)
		}
	}
}

// TestPrintedCommandsCarryAbsolutePaths: the drift adopt command check
// and suggest print (diff.Audit.Args) names --persist and --mountinfo by
// absolute path, as --root, when they were given relative: it runs from
// any directory.
func TestPrintedCommandsCarryAbsolutePaths(t *testing.T) {
	demo := filepath.Join(repoRoot, "fixtures", "demo")
	abs, err := filepath.Abs(demo)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"--root", filepath.Join(demo, "root"), "--mountinfo", filepath.Join(demo, "mountinfo"), "--persist", filepath.Join(demo, "impermanence.nix")}
	want := "drift adopt --root " + abs + "/root --persist " + abs + "/impermanence.nix --mountinfo " + abs + "/mountinfo /"
	for _, cmd := range [][]string{{"check"}, {"suggest", "--format", "json"}} {
		_, out, errs := runDrift(t, append(cmd, args...)...)
		if !strings.Contains(out, want) || strings.Contains(out, "--persist "+demo) || strings.Contains(out, "--mountinfo "+demo) {
			t.Errorf("drift %s: no %q in\n%s\n%s", cmd[0], want, out, errs)
		}
	}
}

// TestSuggestInUseOnceEach: drift suggest's in-use rows name each
// reference once, its option as Nix writes it (fileSystems."/srv/www".device,
// not also fileSystems./srv/www.device), and with /etc/nixos a link to
// /persist/etc/nixos the configuration is one row, its directory (the
// highest directory in use), not one more per file.
func TestSuggestInUseOnceEach(t *testing.T) {
	root := splitConfiguration(t)
	if err := os.Mkdir(filepath.Join(root, "persist/etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(root, "etc/nixos"), filepath.Join(root, "persist/etc/nixos")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/persist/etc/nixos", filepath.Join(root, "etc/nixos")); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runDrift(t, "suggest", "--root", root, "--ephemeral", "/", "--format", "json")
	if code > 1 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	var doc struct {
		Suggestions []struct {
			Path, Action string
			UsedBy       []string
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	var nixos, www []string
	for _, s := range doc.Suggestions {
		if s.Action != "in-use" {
			continue
		}
		switch {
		case strings.HasPrefix(s.Path, "/persist/etc/nixos"):
			nixos = append(nixos, s.Path)
		case s.Path == "/persist/srv/www":
			www = s.UsedBy
		}
	}
	if len(nixos) != 1 || nixos[0] != "/persist/etc/nixos" {
		t.Errorf("in-use rows of the configuration: %q, want the directory alone\n%s", nixos, out)
	}
	if len(www) != 1 || !strings.HasPrefix(www[0], `fileSystems."/srv/www".device (`) {
		t.Errorf("/persist/srv/www used by %q, want fileSystems.\"/srv/www\".device once", www)
	}
}

// TestNamedDeclarationsStillReadTheDiscoveredModules: on a machine whose
// configuration is a flake's host directory (/etc/nixos/hosts/box, no
// configuration.nix), --persist naming a JSON file still reads what
// discovery finds there for what is in use: the password file users.nix
// names is in use, never declare-or-remove.
func TestNamedDeclarationsStillReadTheDiscoveredModules(t *testing.T) {
	root := splitConfiguration(t)
	if err := os.RemoveAll(filepath.Join(root, "etc/nixos")); err != nil {
		t.Fatal(err)
	}
	host := filepath.Join(root, "etc/nixos/hosts/box")
	if err := os.MkdirAll(host, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{
		"default.nix": "{ ... }: {\n  imports = [ ./users.nix ];\n  environment.persistence.\"/persist\".directories = [ \"/var/lib/nixos\" ];\n}\n",
		"users.nix":   "{ ... }: { users.users.alice.hashedPasswordFile = \"/persist/secrets/alice\"; }\n",
	} {
		if err := os.WriteFile(filepath.Join(host, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	decl := filepath.Join(t.TempDir(), "decl.json")
	if err := os.WriteFile(decl, []byte(`{"persistentStoragePath": "/persist", "directories": ["/var/lib/nixos"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runDrift(t, "suggest", "--root", root, "--ephemeral", "/", "--persist", decl, "--format", "json")
	if code > 1 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	var doc struct {
		Suggestions []struct{ Path, Action string }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	action := map[string]string{}
	for _, s := range doc.Suggestions {
		action[s.Path] = s.Action
	}
	if action["/persist/secrets/alice"] != "in-use" || action["/persist/secrets"] == "declare-or-remove" {
		t.Errorf("alice's password file: %q (its directory %q), want in-use\n%s", action["/persist/secrets/alice"], action["/persist/secrets"], out)
	}
	// No configuration.nix: drift prune moves nothing, and says to use --flake.
	if code, _, errs := runDrift(t, "prune", "--root", root, "--ephemeral", "/", "--persist", decl, "--dry-run"); code != 2 || !strings.Contains(errs, "--flake REF#HOST") {
		t.Errorf("drift prune without configuration.nix: exit %d\n%s", code, errs)
	}
}
