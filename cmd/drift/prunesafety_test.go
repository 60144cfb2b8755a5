package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// testerMachine writes the fresh-user tester's machine of issue 12 under a
// temporary root: /etc/nixos/configuration.nix importing persist.nix
// (the system's declarations), users.nix, home.nix (alice's declarations)
// and secrets.nix, which uses paths under /nix/persist in strings that are
// not a plain path: a systemd credential, a tmpfiles rule, an `or`
// default. Each declared or used path has its persistent copy; beside them
// lies one real stray, /nix/persist/var/lib/oldapp.
func testerMachine(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for p, s := range map[string]string{
		"etc/nixos/configuration.nix": "{ ... }: {\n  imports = [ ./hardware-configuration.nix ./persist.nix ./users.nix ./home.nix ./secrets.nix ];\n}\n",
		"etc/nixos/persist.nix":       "{ ... }: {\n  environment.persistence.\"/nix/persist\".directories = [ \"/var/lib/nixos\" \"/var/lib/bluetooth\" \"/srv/app\" ];\n}\n",
		"etc/nixos/users.nix":         "{ ... }: {\n  users.mutableUsers = false;\n  users.users.alice.hashedPasswordFile = \"/nix/persist/passwords/alice\";\n}\n",
		"etc/nixos/home.nix":          "{ ... }: {\n  environment.persistence.\"/nix/persist\".users.alice.directories = [ \".mozilla\" \".config/gh\" ];\n}\n",
		"etc/nixos/secrets.nix": "{ config, lib, ... }: {\n" +
			"  systemd.services.app.serviceConfig.LoadCredential = [ \"token:/nix/persist/secrets/token\" ];\n" +
			"  systemd.tmpfiles.rules = [ \"L+ /var/lib/linked - - - - /nix/persist/var/lib/linked\" ];\n" +
			"  services.restic.backups.home.passwordFile = config.sops.secrets.restic.path or \"/nix/persist/secrets/restic\";\n" +
			"  environment.etc.\"app.conf\".text = ''\n    data_dir = ${config.x}/unused:/nix/persist/var/lib/app-data/current\n  '';\n" +
			"}\n",
		"nix/persist/var/lib/nixos/uid-map":             "{}",
		"nix/persist/var/lib/bluetooth/adapter":         "bt",
		"nix/persist/srv/app/db":                        "db",
		"nix/persist/home/alice/.mozilla/profile":       "moz",
		"nix/persist/home/alice/.config/gh/hosts.yml":   "gh",
		"nix/persist/passwords/alice":                   "$y$alice",
		"nix/persist/secrets/token":                     "tok",
		"nix/persist/secrets/restic":                    "pw",
		"nix/persist/var/lib/linked/state":              "linked",
		"nix/persist/var/lib/app-data/current/data":     "data",
		"nix/persist/var/lib/oldapp/leftover":           "stray",
		"var/lib/nixos/uid-map":                         "{}",
		"etc/nixos/hardware-configuration.nix.disabled": "",
	} {
		testutil.WriteFileMode(t, filepath.Join(root, p), s, 0o600)
	}
	return root
}

// declaredOrUsed are the persistent copies of testerMachine that its
// configuration declares or uses: never stray.
var declaredOrUsed = []string{
	"/nix/persist/var/lib/bluetooth", "/nix/persist/srv/app", "/nix/persist/home/alice/.mozilla",
	"/nix/persist/home/alice/.config/gh", "/nix/persist/passwords/alice", "/nix/persist/secrets/token",
	"/nix/persist/secrets/restic", "/nix/persist/var/lib/linked", "/nix/persist/var/lib/app-data",
}

// strayActions runs drift suggest --format json and returns each
// suggestion's action by path.
func strayActions(t *testing.T, args ...string) map[string]string {
	t.Helper()
	code, out, errs := runDrift(t, append([]string{"suggest", "--format", "json"}, args...)...)
	if code > 1 {
		t.Fatalf("drift suggest: exit %d\n%s\n%s", code, out, errs)
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
	return action
}

// checkNeverStray asserts that drift prune --dry-run and drift suggest,
// run with args on testerMachine's root, propose none of declaredOrUsed
// (nor anything at or below them, nor a directory holding them) for
// removal, and do propose the real stray.
func checkNeverStray(t *testing.T, root string, args ...string) {
	t.Helper()
	all := append([]string{"--root", root, "--ephemeral", "/"}, args...)
	code, out, errs := runDrift(t, append([]string{"prune", "--dry-run"}, all...)...)
	if code != 0 {
		t.Fatalf("drift prune %q: exit %d\n%s\n%s", args, code, out, errs)
	}
	var wrong []string
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], "/nix/persist/") {
			continue
		}
		for _, p := range declaredOrUsed {
			if strings.HasPrefix(p, f[0]) || strings.HasPrefix(f[0], p) {
				wrong = append(wrong, f[0])
				break
			}
		}
	}
	if len(wrong) > 0 {
		t.Errorf("drift prune %q would move %q, which the configuration declares or uses:\n%s", args, wrong, out)
	}
	if !strings.Contains(out, "/nix/persist/var/lib/oldapp") {
		t.Errorf("drift prune %q: the real stray is not moved:\n%s\n%s", args, out, errs)
	}
	action := strayActions(t, all...)
	for p, a := range action {
		for _, u := range declaredOrUsed {
			if a == "declare-or-remove" && (strings.HasPrefix(u, p) || strings.HasPrefix(p, u)) {
				t.Errorf("drift suggest %q: %s declare-or-remove, but the configuration declares or uses %s", args, p, u)
			}
		}
	}
	if action["/nix/persist/var/lib/oldapp"] != "declare-or-remove" {
		t.Errorf("drift suggest %q: the real stray is %q, want declare-or-remove", args, action["/nix/persist/var/lib/oldapp"])
	}
}

// TestPruneCountsEveryDeclarationOfTheConfigurationAsInUse: --persist
// naming one module of the configuration (persist.nix), or a file outside
// it (suggest's --format nix output), is not the whole of what is
// declared: drift prune and drift suggest still count every declaration
// of the system's configuration (home.nix's alice entries, persist.nix's)
// as in use (issue 12, fresh-user tester: prune moved .config/gh,
// bluetooth, srv/app and .mozilla, exit 0).
func TestPruneCountsEveryDeclarationOfTheConfigurationAsInUse(t *testing.T) {
	root := testerMachine(t)
	t.Run("one module", func(t *testing.T) {
		checkNeverStray(t, root, "--persist", filepath.Join(root, "etc/nixos/persist.nix"))
	})
	t.Run("suggest's output", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "suggested.nix")
		text := "{\n  environment.persistence.\"/nix/persist\".directories = [ \"/var/lib/nixos\" ];\n}\n"
		if err := os.WriteFile(out, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		checkNeverStray(t, root, "--persist", out)
	})
	t.Run("discovered", func(t *testing.T) {
		checkNeverStray(t, root)
	})
}

// TestPruneNeverMovesWhatAStringOfTheConfigurationNames: a path under a
// persistent storage path inside any string literal of the configuration
// (a LoadCredential "name:path", a tmpfiles rule, an `or` default, the
// literal part of an interpolated indented string) is in use for drift
// prune and drift suggest: never moved, never declare-or-remove (issue
// 12, fresh-user tester).
func TestPruneNeverMovesWhatAStringOfTheConfigurationNames(t *testing.T) {
	root := testerMachine(t)
	checkNeverStray(t, root, "--persist", filepath.Join(root, "etc/nixos/configuration.nix"))
	action := strayActions(t, "--root", root, "--ephemeral", "/")
	for _, p := range []string{"/nix/persist/secrets/token", "/nix/persist/secrets/restic", "/nix/persist/var/lib/linked"} {
		if action[p] != "in-use" {
			t.Errorf("%s is %q, want in-use (its row says what uses it)", p, action[p])
		}
	}
}
