package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestSuggestWarnsOfAStoragePathAsCheckDoes: drift suggest's storage
// warning is the model's (audit.Model.Unmounted), not one of its own. On
// an ext4 root given --ephemeral /, the model does not take /persist, a
// directory on the root, to be wiped (no wipe is known for ext4: check
// warns of its assumption instead), and check prints no storage warning:
// suggest printed "not on a persistent mount" there. With /persist a
// symlink there, check warns once that it is one: suggest warned twice,
// that and "not on a persistent mount". Now suggest prints, for each case,
// exactly the storage warnings check prints, in check's words.
func TestSuggestWarnsOfAStoragePathAsCheckDoes(t *testing.T) {
	for _, link := range []bool{false, true} {
		root := t.TempDir()
		files := map[string]string{
			"mountinfo":                      "22 1 8:2 / / rw,relatime shared:1 - ext4 /dev/vda2 rw\n",
			"decl.json":                      `{"persistentStoragePath": "/persist", "directories": ["/var/lib/nixos"]}`,
			"root/var/lib/nixos/uid":         "{}",
			"root/var/lib/app/db":            "rows",
			"root/data/persist/var/lib/x/db": "rows",
		}
		if !link {
			files["root/persist/var/lib/nixos/uid"] = "{}"
		}
		for p, s := range files {
			testutil.WriteFileMode(t, filepath.Join(root, p), s, 0o600)
		}
		if link {
			if err := os.Symlink("/data/persist", filepath.Join(root, "root/persist")); err != nil {
				t.Fatal(err)
			}
		}
		storageWarnings := func(cmd string) []string {
			t.Helper()
			code, out, errs := runDrift(t, cmd, "--root", filepath.Join(root, "root"), "--mountinfo", filepath.Join(root, "mountinfo"),
				"--persist", filepath.Join(root, "decl.json"), "--ephemeral", "/", "--old-roots", "none")
			if code == 2 {
				t.Fatalf("drift %s: exit 2\nstdout:\n%s\nstderr:\n%s", cmd, out, errs)
			}
			var ws []string
			for _, l := range strings.Split(errs, "\n") {
				if strings.HasPrefix(l, "drift: warning: ") && strings.Contains(l, "persistent storage path") {
					ws = append(ws, l)
				}
			}
			return ws
		}
		check, sug := storageWarnings("check"), storageWarnings("suggest")
		if want := map[bool]int{false: 0, true: 1}[link]; len(check) != want {
			t.Fatalf("symlink %v: drift check printed %d storage warnings, want %d: %q", link, len(check), want, check)
		}
		if strings.Join(sug, "\n") != strings.Join(check, "\n") {
			t.Errorf("symlink %v: drift suggest's storage warnings differ from drift check's:\nsuggest: %q\ncheck:   %q", link, sug, check)
		}
	}
}

// TestSuggestWarnsOfAnUndeclaredStoragePathOnce: with no declared storage
// path, suggest's default one (/nix/persist) on a wiped btrfs root is
// warned of by suggest alone (check has no storage path to judge), once,
// in the model's words.
func TestSuggestWarnsOfAnUndeclaredStoragePathOnce(t *testing.T) {
	root := t.TempDir()
	for p, s := range map[string]string{
		"mountinfo":           "22 1 0:31 /root / rw shared:1 - btrfs /dev/vda2 rw,subvol=/root\n",
		"decl.json":           `{"persistentStoragePath": "/persist", "directories": []}`,
		"root/var/lib/app/db": "rows",
	} {
		testutil.WriteFileMode(t, filepath.Join(root, p), s, 0o600)
	}
	code, out, errs := runDrift(t, "suggest", "--root", filepath.Join(root, "root"), "--mountinfo", filepath.Join(root, "mountinfo"),
		"--persist", filepath.Join(root, "decl.json"), "--ephemeral", "/", "--old-roots", "none")
	const want = "drift: warning: the persistent storage path /nix/persist lies on the ephemeral root (/), wiped at every boot: nothing is mounted at /nix/persist"
	if code == 2 || strings.Count(errs, "warning: the persistent storage path") != 1 || !strings.Contains(errs, want) {
		t.Errorf("drift suggest: exit %d, want one storage warning %q…\nstdout:\n%s\nstderr:\n%s", code, want, out, errs)
	}
}
