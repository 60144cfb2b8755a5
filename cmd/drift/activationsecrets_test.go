package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestActivationSecretsRankedFirstAndNotDeclared: sops-nix's key file
// (sops.age.keyFile), read by its install-secrets in activation before
// impermanence's bind mounts exist, is kept like a password file: drift
// suggest never declares its directory (the note says to move it to the
// storage path and point the option there), and every boot secret is a
// high-confidence suggestion ranked before any other, the level drift
// lint's lost-secret error says. A re-test found /var/lib/sops-nix in
// suggest's directories (keyFile treated as read late), and the password
// file and age key ranked "low" while a host key the knowledge base knows
// was "high".
func TestActivationSecretsRankedFirstAndNotDeclared(t *testing.T) {
	sys := newSystem(t, "decl.nix", `{ ... }: {
  users.mutableUsers = false;
  users.users.alice.hashedPasswordFile = "/etc/secrets/alice";
  sops.age.keyFile = "/var/lib/sops-nix/key.txt";
  environment.persistence."/nix/persist".directories = [ "/var/log" ];
}
`, `22 1 0:31 /root / rw shared:1 - btrfs /dev/vda2 rw,subvol=/root
27 22 0:31 /nix /nix rw shared:14 - btrfs /dev/vda2 rw,subvol=/nix
28 27 0:31 /persist /nix/persist rw shared:15 - btrfs /dev/vda2 rw,subvol=/persist
40 22 0:31 /persist/var/log /var/log rw - btrfs /dev/vda2 rw
`)
	testutil.Build(t, sys.root, map[string]testutil.Node{
		"etc/secrets/alice":         file("$y$hash"),
		"var/lib/sops-nix/key.txt":  file("AGE-SECRET-KEY-1"),
		"etc/ssh/ssh_host_rsa_key":  file("key"),
		"nix/persist/var/log/.keep": file(""),
	}, fixtureTime)
	args := sys.flags("--now", suggestNow.Format("2006-01-02T15:04:05Z"))

	_, out, errs := runDrift(t, append([]string{"suggest", "--format", "json"}, args...)...)
	var sug struct {
		Suggestions []struct {
			Action, Path, Confidence, Note string
		} `json:"suggestions"`
	}
	if err := json.Unmarshal([]byte(out), &sug); err != nil {
		t.Fatalf("suggest: %v:\n%s\n%s", err, out, errs)
	}
	secrets := 0
	for i, s := range sug.Suggestions {
		secret := strings.HasPrefix(s.Path, "/etc/secrets") || strings.HasPrefix(s.Path, "/var/lib/sops-nix")
		if secret {
			secrets++
			if s.Confidence != "high" || i >= 2 {
				t.Errorf("suggestion %d %s: confidence %q, want high and among the first two", i+1, s.Path, s.Confidence)
			}
		}
	}
	if secrets != 2 {
		t.Errorf("suggest: %d boot secret suggestions, want 2:\n%s", secrets, out)
	}

	_, out, errs = runDrift(t, append([]string{"suggest", "--format", "nix"}, args...)...)
	if strings.Contains(out, `"/var/lib/sops-nix"`) || !strings.Contains(out, "move it to /nix/persist/var/lib/sops-nix/key.txt and point sops.age.keyFile there") {
		t.Errorf("suggest --format nix declares the sops-nix key's directory, or does not say how to keep it:\n%s\n%s", out, errs)
	}
	nixFile := filepath.Join(sys.dir, "suggested.nix")
	if err := os.WriteFile(nixFile, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, lo, le := runDrift(t, "lint", sys.config, nixFile); strings.Contains(lo+le, "early-reader") || strings.Contains(lo+le, "or declare it") {
		t.Errorf("lint of the configuration and suggest's output:\n%s\n%s", lo, le)
	}
}
