package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/testutil"
)

// drift restore from an old root whose /etc/drift/declarations.json is
// truncated (a tester's case: restore went on silently) says so, once,
// naming the file and what was expected, and restores by the content rule
// (the old root's newer configuration.nix lay on the root: restored).
func TestRestoreWarnsOfGarbageDeclarationsThen(t *testing.T) {
	dir := t.TempDir()
	root, old := filepath.Join(dir, "root"), filepath.Join(dir, "old_roots", "2026-12-07_10:00:00")
	testutil.Tree(t, root, "f /nix/persist/etc/nixos/configuration.nix older")
	past := time.Now().Add(-time.Hour)
	testutil.Must(t, os.Chtimes(filepath.Join(root, "nix/persist/etc/nixos/configuration.nix"), past, past))
	testutil.Tree(t, old, "f /etc/nixos/configuration.nix newer, on the root\nf /etc/drift/declarations.json { \"persistentStoragePath\": \"/nix/persist\", \"direc")
	decl := filepath.Join(dir, "persist.json")
	testutil.Must(t, os.WriteFile(decl, []byte(`{ "persistentStoragePath": "/nix/persist", "directories": [ "/etc/nixos" ] }`), 0o644))
	code, out, errOut := runDrift(t, "restore", "/etc/nixos/configuration.nix", "--from", old, "--root", root, "--persist", decl, "--force")
	file := filepath.Join(old, "etc/drift/declarations.json")
	if code != 0 || strings.Count(errOut, file) != 1 || !strings.Contains(errOut, "a JSON object of persistent storage paths") {
		t.Errorf("exit %d, want 0 and one warning naming %s\n%s\n%s", code, file, out, errOut)
	}
	// Restored: the persistent copy holds the old root's file. Had the
	// declarations been read, the old root's file would count as hidden
	// beneath the mount and the restore be refused (exit 2, nothing copied).
	dest := filepath.Join(root, "nix/persist/etc/nixos/configuration.nix")
	want, err := os.ReadFile(filepath.Join(old, "etc/nixos/configuration.nix"))
	testutil.Must(t, err)
	if got, err := os.ReadFile(dest); err != nil || string(got) != string(want) {
		t.Errorf("%s holds %q (%v), want the old root's %q\n%s\n%s", dest, got, err, want, out, errOut)
	}
	if !strings.Contains(out, "replaced "+dest) {
		t.Errorf("restore does not say it replaced %s:\n%s", dest, out)
	}
}

// drift check with that old root as the previous one says it once too.
func TestCheckWarnsOfGarbageDeclarationsThen(t *testing.T) {
	dir := t.TempDir()
	root, old := filepath.Join(dir, "root"), filepath.Join(dir, "old_roots", "2026-12-07_10:00:00")
	testutil.Tree(t, root, "f /nix/persist/etc/nixos/configuration.nix older")
	testutil.Tree(t, old, "f /etc/nixos/configuration.nix newer, on the root\nf /etc/drift/declarations.json \x00garbage")
	decl := filepath.Join(dir, "persist.json")
	testutil.Must(t, os.WriteFile(decl, []byte(`{ "persistentStoragePath": "/nix/persist", "directories": [ "/etc/nixos" ] }`), 0o644))
	code, out, errOut := runDrift(t, "check", "--root", root, "--persist", decl, "--old-roots", filepath.Join(dir, "old_roots"))
	file := filepath.Join(old, "etc/drift/declarations.json")
	if code > 1 || strings.Count(errOut+out, file) != 1 || !strings.Contains(errOut, "a JSON object of persistent storage paths") {
		t.Errorf("exit %d, want one warning naming %s\n%s\n%s", code, file, out, errOut)
	}
}
