package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
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
		testutil.WriteFileMode(t, filepath.Join(root, p), s, 0o600)
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

// TestPruneQuarantineCommandsSayWhatTheyCouldNotRead: drift prune --list,
// --undo all and prune empty, with the declared storage path /persist a
// symlink, said "the quarantine is empty" (exit 0), or "no batch in the
// quarantine is older", beside a warning that /persist was "not a
// directory": they exit 2 saying which storage path could not be read and
// that it is a symlink. A usual storage path that is a symlink to the
// declared one (/persist -> /nix/persist) is read under that name: no
// warning, exit 0.
func TestPruneQuarantineCommandsSayWhatTheyCouldNotRead(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"etc/nixos", "data/persist", "nix/persist"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(root, "etc/nixos/configuration.nix")
	write := func(sp string) {
		t.Helper()
		if err := os.WriteFile(conf, []byte("{ ... }: {\n  environment.persistence.\""+sp+"\".directories = [ \"/var/lib/nixos\" ];\n}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("/persist")
	if err := os.Symlink("/data/persist", filepath.Join(root, "persist")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"prune", "--list"}, "the list above leaves out what is quarantined there"},
		{[]string{"prune", "--undo", "all"}, "what is quarantined there was not looked at"},
		{[]string{"prune", "empty", "--older-than", "1d"}, "nothing quarantined there was emptied"},
	} {
		code, out, errs := runDrift(t, append(c.args, "--root", root)...)
		if code != 2 || !strings.Contains(errs, "drift: warning: persistent storage path /persist: /persist is a symlink (to /data/persist), not followed") ||
			!strings.Contains(errs, "could not read the persistent storage path /persist (see the warning above): "+c.want) {
			t.Errorf("drift %v: exit %d\nstdout:\n%s\nstderr:\n%s", c.args, code, out, errs)
		}
	}
	write("/nix/persist")
	if err := os.Remove(filepath.Join(root, "persist")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/nix/persist", filepath.Join(root, "persist")); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runDrift(t, "prune", "--list", "--root", root); code != 0 || errs != "" {
		t.Errorf("/persist a link to the declared /nix/persist: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
}
