package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckAlertsOldRootsAuto: the alerts against the previous root, read
// through the private top-level mount of --old-roots auto (detached before
// the walk): an SSH host key regenerated at this boot (C07) and a persisted
// directory whose uid named another user in the previous root (C06).
func TestCheckAlertsOldRootsAuto(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	write := func(p, content string) {
		t.Helper()
		writeFile(t, p, content, 0o600)
	}
	// This boot: a fresh key on the ephemeral root; svc-b took uid 995.
	write(s.M("/etc/ssh/ssh_host_ed25519_key"), "K2\n")
	write(s.M("/etc/passwd"), "root:x:0:0::/root:/bin/sh\nsvc-a:x:994:994::/:/bin/false\nsvc-b:x:995:995::/:/bin/false\n")
	must(t, os.Lchown(s.M("/var/lib/bluetooth"), 995, 0)) // bind-mounted from /nix/persist
	// The previous boot's root.
	old := filepath.Join(s.top, "old_roots", "2026-11-10_09:00:00")
	must(t, os.MkdirAll(filepath.Dir(old), 0o755))
	run(t, "btrfs", "subvolume", "create", old)
	write(filepath.Join(old, "etc/ssh/ssh_host_ed25519_key"), "K1\n")
	write(filepath.Join(old, "etc/passwd"), "root:x:0:0::/root:/bin/sh\nsvc-a:x:995:995::/:/bin/false\n")

	type alert struct {
		Kind, Path, Message, Lost, NameNow, NamePrevious string
		ID                                               uint32
	}
	alerts := func(extra ...string) ([]alert, int, string) {
		t.Helper()
		code, out, errOut := s.driftAll(append([]string{"check", "--root", s.root, "--persist", s.declPath(), "--format", "json"}, extra...)...)
		var r struct {
			Alerts []alert `json:"alerts"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil || r.Alerts == nil {
			t.Fatalf("drift check %q: exit %d, %v\n%s\n%s", extra, code, err, out, errOut)
		}
		return r.Alerts, code, errOut
	}
	got, code, errOut := alerts()
	if code != 1 || len(got) != 2 {
		t.Fatalf("alerts %+v, exit %d, want 2 and exit 1\n%s", got, code, errOut)
	}
	if k := got[0]; k.Kind != "host-key-changed" || k.Path != "/etc/ssh/ssh_host_ed25519_key" || k.Lost != "unpersisted" ||
		!strings.Contains(k.Message, "changed between the previous root (old_roots/2026-11-10_09:00:00) and now") {
		t.Errorf("host key alert %+v", k)
	}
	if o := got[1]; o.Kind != "ownership-drift" || o.Path != "/var/lib/bluetooth" || o.ID != 995 || o.NameNow != "svc-b" || o.NamePrevious != "svc-a" {
		t.Errorf("ownership alert %+v", o)
	}
	if strings.Contains(errOut, "K1") || strings.Contains(errOut, "K2") {
		t.Errorf("key material on stderr:\n%s", errOut)
	}
	// The same key as before: no alert for it.
	write(filepath.Join(old, "etc/ssh/ssh_host_ed25519_key"), "K2\n")
	if got, _, _ := alerts(); len(got) != 1 || got[0].Kind != "ownership-drift" {
		t.Errorf("identical key: alerts %+v", got)
	}
	if got, _, _ := alerts("--old-roots", "none"); len(got) != 0 {
		t.Errorf("--old-roots none: alerts %+v", got)
	}
}
