package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestRestoreForceListsNewerFiles: drift restore --force over a
// persistent copy whose changed.txt is newer than the old root's names it
// "replace NEWER" with both times, in the dry run and in the real run's
// output, and the summary counts it; same.txt, older there, is not named.
// A re-test saw the newer file overwritten with no word of it (only a
// count of objects deleted).
func TestRestoreForceListsNewerFiles(t *testing.T) {
	dir := t.TempDir()
	then := time.Date(2026, 11, 11, 9, 0, 0, 0, time.UTC)
	now := then.Add(24 * time.Hour)
	testutil.Build(t, filepath.Join(dir, "root"), map[string]testutil.Node{
		"nix/persist/srv/half/changed.txt": {Content: "new bytes", Mtime: now},
		"nix/persist/srv/half/same.txt":    {Content: "same", Mtime: then.Add(-time.Hour)},
	}, now)
	old := filepath.Join(dir, "old", "2026-11-11_09:00:00")
	testutil.Build(t, old, map[string]testutil.Node{
		"srv/half/changed.txt": {Content: "old", Mtime: then},
		"srv/half/same.txt":    {Content: "same", Mtime: then},
	}, then)
	testutil.Must(t, os.WriteFile(filepath.Join(dir, "decl.nix"), []byte(`{ environment.persistence."/nix/persist".directories = [ "/srv/half" ]; }`), 0o644))
	args := []string{"restore", "/srv/half", "--from", old, "--root", dir + "/root", "--persist", dir + "/decl.nix", "--force", "--quiet"}
	want := "replace NEWER " + filepath.Join(dir, "root/nix/persist/srv/half/changed.txt") + " (modified 2026-11-12 09:00:00 UTC; the old root's 2026-11-11 09:00:00 UTC)"
	for _, extra := range []string{"--dry-run", ""} {
		a := args
		if extra != "" {
			a = append(append([]string{}, args...), extra)
		}
		code, out, errs := runDrift(t, a...)
		if code != 0 || !strings.Contains(out, want+"\n") || strings.Contains(out, "NEWER "+filepath.Join(dir, "root/nix/persist/srv/half/same.txt")) || !strings.Contains(out, "1 file newer than the old root's") {
			t.Errorf("drift %v: exit %d, want %q, and same.txt not named:\n%s%s", a, code, want, out, errs)
		}
	}
}
