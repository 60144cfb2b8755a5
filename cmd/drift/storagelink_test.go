package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStorageThroughASymlinkIsSaidOnceAndPlainly: the persistent storage
// path /persist is a symlink (to /data/persist) on a filesystem the next
// boot keeps, and holds no stray. drift prune (a dry run too) could not
// look there, and says so with exit 2, never "no stray data" (it said
// "no stray data to move", exit 0, beside a warning); drift adopt refuses
// with the same words; drift check and drift suggest warn of it once, from
// the model (audit.Model.Unmounted), suggest not again from its stray
// search.
func TestStorageThroughASymlinkIsSaidOnceAndPlainly(t *testing.T) {
	root := t.TempDir()
	for p, s := range map[string]string{
		"etc/nixos/configuration.nix":    "{ ... }: {\n  environment.persistence.\"/persist\".directories = [ \"/var/lib/nixos\" ];\n}\n",
		"data/persist/var/lib/nixos/uid": "{}",
		"var/lib/nixos/uid":              "{}",
	} {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/data/persist", filepath.Join(root, "persist")); err != nil {
		t.Fatal(err)
	}
	const want = "the persistent storage path /persist is a symlink (to /data/persist): drift never reads or writes through a symlink"
	for _, args := range [][]string{{"prune", "--dry-run"}, {"prune"}, {"adopt", "--dry-run", "/var/lib/nixos"}} {
		code, out, errs := runDrift(t, append(args, "--root", root, "--ephemeral", "/")...)
		if code != 2 || !strings.Contains(errs, "drift: error: ") || !strings.Contains(errs, want) || strings.Contains(out+errs, "no stray data") {
			t.Errorf("drift %v: exit %d, want 2 and %q\nstdout:\n%s\nstderr:\n%s", args, code, want, out, errs)
		}
	}
	for _, cmd := range []string{"check", "suggest"} {
		_, out, errs := runDrift(t, cmd, "--root", root, "--ephemeral", "/", "--old-roots", "none")
		if n := strings.Count(errs, "/persist is a symlink"); n != 1 || !strings.Contains(errs, "drift: warning: "+want) {
			t.Errorf("drift %s: %d warnings that /persist is a symlink, want one saying %q\nstdout:\n%s\nstderr:\n%s", cmd, n, want, out, errs)
		}
	}
}
