package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/testutil"
)

// lockOut is what persist.Ref.Loss says of a password file with
// users.mutableUsers = false: the words every command says it in.
const lockOut = "losing it locks users out at the next boot"

// TestBootSecretOneRuleThreeReaders: a password file the configuration
// names (users.users.alice.hashedPasswordFile, users.mutableUsers =
// false) lying on the wiped root is, for drift check, a lost path whose
// WHY says that losing it locks users out; for drift suggest, the first
// suggestion, with the same reason, ahead of application state that
// scores higher; for drift lint, a lost-secret finding in the same
// words. A password file already in persistent storage is in use, and
// suggest says the same of it. Before, only lint knew: check's WHY said
// "not declared" and suggest ranked the file by its size and history
// (a tester saw it ranked low), and in use only as "named by an option".
func TestBootSecretOneRuleThreeReaders(t *testing.T) {
	sys := newSystem(t, "decl.nix", `{ ... }: {
  users.mutableUsers = false;
  users.users.alice.hashedPasswordFile = "/etc/secrets/alice";
  users.users.bob.hashedPasswordFile = "/nix/persist/passwords/bob";
  environment.persistence."/nix/persist" = {
    directories = [ "/var/log" ];
  };
}
`, `22 1 0:31 /root / rw shared:1 - btrfs /dev/vda2 rw,subvol=/root
27 22 0:31 /nix /nix rw shared:14 - btrfs /dev/vda2 rw,subvol=/nix
28 27 0:31 /persist /nix/persist rw shared:15 - btrfs /dev/vda2 rw,subvol=/persist
40 22 0:31 /persist/var/log /var/log rw - btrfs /dev/vda2 rw
`)
	dir := sys.dir
	testutil.Build(t, sys.root, map[string]testutil.Node{
		"etc/secrets/alice":               file("$y$hash"),
		"var/lib/postgresql/16/base/data": {Size: 8 << 20, Mtime: suggestNow.Add(-time.Hour)},
		"nix/persist/passwords/bob":       file("$y$hash"),
		"nix/persist/var/log/.keep":       file(""),
	}, fixtureTime)
	args := sys.flags()

	// drift check: the WHY of the lost password file.
	_, out, errs := runDrift(t, append([]string{"check", "--format", "json"}, args...)...)
	var check struct {
		Items []struct{ Path, Why string } `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &check); err != nil {
		t.Fatalf("check: %v:\n%s\n%s", err, out, errs)
	}
	whys := map[string]string{}
	for _, it := range check.Items {
		whys[it.Path] = it.Why
	}
	why, ok := whys["/etc/secrets"]
	if !ok {
		why = whys["/etc/secrets/alice"]
	}
	if !strings.Contains(why, "users.users.alice.hashedPasswordFile") || !strings.Contains(why, lockOut) || !strings.Contains(why, "users.mutableUsers = false") {
		t.Errorf("check's WHY of the password file: %q, want it to say that losing it locks users out (rows %v)", why, whys)
	}
	if w := whys["/var/lib/postgresql"]; strings.Contains(w, "locks users out") {
		t.Errorf("check's WHY of /var/lib/postgresql names a secret: %q", w)
	}

	// drift suggest: first, with the same reason; bob's file in use, said so.
	_, out, errs = runDrift(t, append([]string{"suggest", "--format", "json", "--now", suggestNow.Format("2006-01-02T15:04:05Z")}, args...)...)
	var sug struct {
		Suggestions []struct {
			Rank               int
			Action, Path, Note string
			UsedBy             []string `json:"usedBy"`
		} `json:"suggestions"`
	}
	if err := json.Unmarshal([]byte(out), &sug); err != nil {
		t.Fatalf("suggest: %v:\n%s\n%s", err, out, errs)
	}
	if len(sug.Suggestions) < 2 {
		t.Fatalf("suggest: %d suggestions, want the password file and /var/lib/postgresql:\n%s", len(sug.Suggestions), out)
	}
	first := sug.Suggestions[0]
	if first.Action != "persist" || !strings.HasPrefix(first.Path, "/etc/secrets") || !strings.Contains(first.Note, lockOut) || !strings.Contains(first.Note, "users.users.alice.hashedPasswordFile") {
		t.Errorf("suggest's first suggestion: %+v, want to persist the password file, saying that losing it locks users out", first)
	}
	inUse := false
	for _, s := range sug.Suggestions {
		if s.Path == "/nix/persist/passwords/bob" {
			inUse = s.Action == "in-use" && strings.Contains(strings.Join(s.UsedBy, "; "), lockOut)
		}
	}
	if !inUse {
		t.Errorf("suggest: /nix/persist/passwords/bob not in use as a boot secret:\n%s", out)
	}

	// The password file is read before the persistence mounts exist:
	// suggest --format nix does not declare it (lint would call the
	// declaration an early reader) but says how to keep it.
	_, out, errs = runDrift(t, append([]string{"suggest", "--format", "nix", "--now", suggestNow.Format("2006-01-02T15:04:05Z")}, args...)...)
	if strings.Contains(out, `"/etc/secrets`) || !strings.Contains(out, "move it to /nix/persist/etc/secrets/alice and point users.users.alice.hashedPasswordFile there") {
		t.Errorf("suggest --format nix declares the password file, or does not say how to keep it:\n%s\n%s", out, errs)
	}
	nixFile := filepath.Join(dir, "suggested.nix")
	if err := os.WriteFile(nixFile, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, lo, le := runDrift(t, "lint", sys.config, nixFile); strings.Contains(lo+le, "early-reader") {
		t.Errorf("lint of the configuration and suggest's output finds an early reader:\n%s\n%s", lo, le)
	}

	// drift lint: the same words.
	_, out, errs = runDrift(t, "lint", sys.config)
	if !strings.Contains(out+errs, "lost-secret") || !strings.Contains(out+errs, lockOut) {
		t.Errorf("lint: no lost-secret finding saying %q:\n%s\n%s", lockOut, out, errs)
	}
}
