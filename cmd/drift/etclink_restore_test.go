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

// TestEtcStaticLinkOneRuleForRestoreAndSuggest: a link NixOS activation
// makes into /etc/static (/etc/drift/declarations.json) is no data, for
// every command: drift check lists no VANISHED row for the directory that
// held only it, drift suggest proposes no declaration of it, drift restore
// refuses the link itself (exit 2, as drift adopt does) and copies a
// directory without it (skipped, said why), drift adopt of a directory
// holding it copies the rest and leaves it out, saying why. A re-test saw restore copy the link into
// persistent storage while adopt refused the same kind, and suggest
// propose declaring /etc/drift.
func TestEtcStaticLinkOneRuleForRestoreAndSuggest(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 11, 11, 9, 0, 0, 0, time.UTC)
	testutil.Build(t, filepath.Join(dir, "root"), map[string]testutil.Node{"nix/persist/.keep": file("")}, at)
	old := filepath.Join(dir, "old", "2026-11-11_09:00:00")
	testutil.Build(t, old, map[string]testutil.Node{"var/lib/foo/x": file("data")}, at)
	for _, r := range []string{old, filepath.Join(dir, "root")} {
		testutil.Must(t, os.MkdirAll(filepath.Join(r, "etc/drift"), 0o755))
		testutil.Must(t, os.Symlink("/etc/static/drift/declarations.json", filepath.Join(r, "etc/drift/declarations.json")))
	}
	testutil.Must(t, os.RemoveAll(filepath.Join(dir, "root/etc/drift"))) // vanished at the wipe: activation makes it again
	for name, data := range map[string]string{
		"decl.nix":  `{ environment.persistence."/nix/persist".directories = [ "/var/log" ]; }`,
		"decl2.nix": `{ environment.persistence."/nix/persist".directories = [ "/var/log" "/etc/drift" ]; }`,
		"mountinfo": "22 1 0:20 / / rw - tmpfs none rw\n23 22 0:21 / /nix rw - btrfs /dev/sda2 rw,subvol=/nix\n",
	} {
		testutil.Must(t, os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644))
	}
	args := []string{"--root", dir + "/root", "--mountinfo", dir + "/mountinfo", "--persist", dir + "/decl.nix", "--old-roots", dir + "/old", "--quiet"}
	_, out, errs := runDrift(t, append([]string{"check", "--format", "json"}, args...)...)
	var r struct{ Vanished []struct{ Path string } }
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("check: %v\n%s%s", err, out, errs)
	}
	for _, v := range r.Vanished {
		if strings.HasPrefix(v.Path, "/etc/drift") {
			t.Errorf("check: %s vanished, want no row for activation's link", v.Path)
		}
	}
	if len(r.Vanished) == 0 {
		t.Errorf("check: nothing vanished, want /var/lib/foo:\n%s", out)
	}
	_, nix, _ := runDrift(t, append([]string{"suggest", "--format", "nix"}, args...)...)
	if strings.Contains(nix, "/etc/drift") || !strings.Contains(nix, "/var/lib/foo") {
		t.Errorf("suggest proposes /etc/drift, or not /var/lib/foo:\n%s", nix)
	}

	rargs := []string{"--from", old, "--root", dir + "/root", "--persist", dir + "/decl2.nix"}
	if code, out, errs := runDrift(t, append([]string{"restore", "/etc/drift/declarations.json"}, rargs...)...); code != 2 || !strings.Contains(errs, "NixOS activation makes") {
		t.Errorf("restore of the link: exit %d, want 2 and why:\n%s%s", code, out, errs)
	}
	if code, out, errs := runDrift(t, append([]string{"restore", "/etc/drift"}, rargs...)...); code != 0 || !strings.Contains(errs, "not copied") {
		t.Errorf("restore of /etc/drift: exit %d, want 0 and the link not copied:\n%s%s", code, out, errs)
	}
	if _, err := os.Lstat(filepath.Join(dir, "root/nix/persist/etc/drift/declarations.json")); err == nil {
		t.Errorf("restore copied activation's link into persistent storage")
	}

	// drift adopt, one rule: a live directory holding the link beside a
	// file of data. The adoption happens (exit 0, the data copied), the
	// link is left out and adopt says why.
	testutil.Must(t, os.RemoveAll(filepath.Join(dir, "root/nix/persist/etc/drift")))
	testutil.Must(t, os.MkdirAll(filepath.Join(dir, "root/etc/drift"), 0o755))
	testutil.Must(t, os.Symlink("/etc/static/drift/declarations.json", filepath.Join(dir, "root/etc/drift/declarations.json")))
	testutil.WriteFile(t, filepath.Join(dir, "root/etc/drift/local.conf"), "kept\n")
	code, out, errs := runDrift(t, "adopt", "/etc/drift", "--root", dir+"/root", "--persist", dir+"/decl2.nix", "--mountinfo", dir+"/mountinfo")
	if code != 0 || !strings.Contains(errs, "/etc/drift/declarations.json not copied") || !strings.Contains(errs, "NixOS activation makes") {
		t.Errorf("adopt of /etc/drift: exit %d, want 0 and the link not copied, said why:\n%s%s", code, out, errs)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "root/nix/persist/etc/drift/local.conf")); err != nil || string(b) != "kept\n" {
		t.Errorf("adopt did not copy /etc/drift/local.conf into persistent storage: %q, %v\n%s%s", b, err, out, errs)
	}
	if _, err := os.Lstat(filepath.Join(dir, "root/nix/persist/etc/drift/declarations.json")); err == nil {
		t.Errorf("adopt copied activation's link into persistent storage")
	}
}
