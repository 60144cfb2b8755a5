package report

import (
	"bytes"
	"encoding/json"
	"github.com/nix-drift/drift/internal/btrfs"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/persist"
)

// Alerts come before the table (host keys as ALERT, ownership drift as
// WARNING) and in JSON as "alerts"; names are escaped everywhere.
func TestAlerts(t *testing.T) {
	a := &diff.Audit{Root: "/", Decls: &persist.Set{}, Totals: map[diff.Category]diff.Total{},
		PreviousRoot: &btrfs.OldRoot{Name: "2026-11-10_09:00:00"},
		Alerts: []diff.Alert{
			{Kind: diff.HostKeyChanged, Path: "/etc/ssh/ssh_host_ed25519_key", Message: "SSH host key /etc/ssh/ssh_host_ed25519_key changed", Previous: "2026-11-10_09:00:00", Lost: diff.DeclaredUnbacked},
			{Kind: diff.OwnershipDrift, Path: "/var/lib/a\x1b[31m", Message: "ownership drift: /var/lib/a\x1b[31m is owned by uid 0, which is unassigned now but was r\x1b in …", Previous: "2026-11-10_09:00:00", IDKind: "uid", ID: 0, NameBefore: "r\x1b", Entries: 1},
		}}
	var out bytes.Buffer
	if err := Write(&out, a, Options{Format: "table"}); err != nil {
		t.Fatal(err)
	}
	want := "ALERT: SSH host key /etc/ssh/ssh_host_ed25519_key changed\nWARNING: ownership drift: /var/lib/a\\x1b[31m is owned by uid 0, which is unassigned now but was r\\x1b in …\n\nnothing would be lost"
	if !strings.HasPrefix(out.String(), want) {
		t.Errorf("table:\n%s\nwant it to start with\n%s", out.String(), want)
	}
	out.Reset()
	if err := Write(&out, a, Options{Format: "json"}); err != nil {
		t.Fatal(err)
	}
	var r struct {
		Alerts []map[string]any `json:"alerts"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Alerts) != 2 {
		t.Fatalf("alerts %v", r.Alerts)
	}
	k, o := r.Alerts[0], r.Alerts[1]
	if k["kind"] != "host-key-changed" || k["lost"] != "declared-unbacked" || k["previousRoot"] != "2026-11-10_09:00:00" || k["id"] != nil || k["nameNow"] != nil {
		t.Errorf("host key alert %v", k)
	}
	if o["kind"] != "ownership-drift" || o["path"] != `/var/lib/a\x1b[31m` || o["pathBase64"] == nil || o["idKind"] != "uid" || o["id"] != 0.0 ||
		o["nameNow"] != "" || o["namePrevious"] != `r\x1b` || o["entries"] != 1.0 || o["lost"] != nil {
		t.Errorf("ownership alert %v", o)
	}
	// No previous root: an empty array, never null.
	a.Alerts = nil
	out.Reset()
	if err := Write(&out, a, Options{Format: "json"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"alerts": []`) {
		t.Errorf("no empty alerts array:\n%s", out.String())
	}
}
