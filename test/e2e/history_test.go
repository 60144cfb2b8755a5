package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
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
	testutil.Must(t, os.Lchown(s.M("/var/lib/bluetooth"), 995, 0)) // bind-mounted from /nix/persist
	// The previous boot's root.
	old := filepath.Join(s.top, "old_roots", "2026-11-10_09:00:00")
	oldRoot(t, old)
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

// TestFutureDatedOldRootKeepsHostKeyAlert: an empty subvolume
// old_roots/2030-01-1_00:00:00 (dated after the clock) is not the previous
// boot's root on real btrfs with --old-roots auto: check compares with the
// newest root dated before now, keeps the host-key alert, and warns that
// the clock looks wrong, as drift roots does.
func TestFutureDatedOldRootKeepsHostKeyAlert(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	writeFile(t, s.M("/etc/ssh/ssh_host_ed25519_key"), "K2\n", 0o600)
	old := filepath.Join(s.top, "old_roots", "2026-11-10_09:00:00")
	oldRoot(t, old)
	writeFile(t, filepath.Join(old, "etc/ssh/ssh_host_ed25519_key"), "K1\n", 0o600)
	run(t, "btrfs", "subvolume", "create", filepath.Join(s.top, "old_roots", "2999-01-1_00:00:00"))

	_, out, errOut := s.driftAll("check", "--root", s.root, "--persist", s.declPath(), "--format", "json")
	var r struct {
		Alerts   []struct{ Kind, Path string } `json:"alerts"`
		Warnings []string                      `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s\n%s", err, out, errOut)
	}
	if len(r.Alerts) == 0 || r.Alerts[0].Kind != "host-key-changed" {
		t.Errorf("alerts %+v, want the host-key alert against 2026-11-10_09:00:00", r.Alerts)
	}
	warned := false
	for _, w := range r.Warnings {
		warned = warned || strings.Contains(w, "before the old root 2999-01-1_00:00:00") && strings.Contains(w, "the clock looks wrong")
	}
	if !warned {
		t.Errorf("no warning about the future-dated old root: %+v", r.Warnings)
	}
}
