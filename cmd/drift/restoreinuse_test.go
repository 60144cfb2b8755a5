package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestRestoreForceKeepsAFileInUse: drift restore --force of a directory
// whose persistent copy holds the file sops.age.keyFile names refuses,
// naming the option, in a dry run and a real run alike, and leaves the key
// as it was; naming that exact file replaces it. A re-test replaced the
// in-use key with the old root's older one with no word of the option.
func TestRestoreForceKeepsAFileInUse(t *testing.T) {
	at := time.Date(2026, 11, 11, 9, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	decl := `{
  sops.age.keyFile = "/nix/persist/var/lib/sops-nix/key.txt";
  environment.persistence."/nix/persist".directories = [ "/var/lib/sops-nix" ];
}
`
	testutil.Must(t, os.WriteFile(filepath.Join(dir, "decl.nix"), []byte(decl), 0o644))
	testutil.Build(t, filepath.Join(dir, "root"), map[string]testutil.Node{
		"nix/persist/var/lib/sops-nix/key.txt": {Content: "AGE-SECRET-KEY-NEW", Mtime: at},
	}, at)
	old := filepath.Join(dir, "old", "2026-11-11_09:00:00")
	testutil.Build(t, old, map[string]testutil.Node{
		"var/lib/sops-nix/key.txt": {Content: "AGE-OLD", Mtime: at.Add(-time.Hour)},
	}, at)
	key := filepath.Join(dir, "root/nix/persist/var/lib/sops-nix/key.txt")
	base := []string{"--root", dir + "/root", "--persist", dir + "/decl.nix", "--from", old, "--force"}
	for _, extra := range [][]string{{"--dry-run"}, nil} {
		args := append(append([]string{"restore", "/var/lib/sops-nix"}, base...), extra...)
		code, out, errs := runDrift(t, args...)
		if code != 2 || !strings.Contains(errs, "sops.age.keyFile") || !strings.Contains(errs, "key.txt") {
			t.Errorf("drift %v: exit %d, want 2 and a refusal naming sops.age.keyFile:\n%s%s", args, code, out, errs)
		}
		if b, _ := os.ReadFile(key); string(b) != "AGE-SECRET-KEY-NEW" {
			t.Fatalf("drift %v: the key in use is now %q", args, b)
		}
	}
	args := append([]string{"restore", "/var/lib/sops-nix/key.txt"}, base...)
	if code, out, errs := runDrift(t, args...); code != 0 {
		t.Fatalf("drift %v: exit %d, want the named file replaced:\n%s%s", args, code, out, errs)
	}
	if b, _ := os.ReadFile(key); string(b) != "AGE-OLD" {
		t.Errorf("the key named exactly: %q, want the old root's", b)
	}
}
