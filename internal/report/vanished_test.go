package report

import (
	"bytes"
	"encoding/json"
	"github.com/nix-drift/drift/internal/btrfs"
	"os/exec"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/testutil"
	"golang.org/x/sys/unix"
)

// The restore command of a vanished path: --from the old root's name (or
// directory), --to live, words quoted for a shell where needed.
// ShellQuote's word, given to a real shell, is exactly the original bytes;
// and it never holds a raw control character.
func TestShellQuoteRoundTrip(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		testutil.SkipOrFatal(t, testutil.RequireHost, "no bash to check the quoting against")
	}
	for _, s := range []string{"/plain", "/my notes", "/it's", "/back\\slash", "/new\nline", "/esc\x1b[31m", "/bad\xff\xfe", "/tab\tq'uote\\", "/bidi\u202e.txt"} {
		q := ShellQuote(s)
		if strings.ContainsFunc(q, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Errorf("ShellQuote(%q) = %q holds a control character", s, q)
		}
		out, err := exec.Command(bash, "-c", "printf %s "+q).Output()
		if err != nil {
			t.Fatalf("bash on %q: %v", q, err)
		}
		if string(out) != s {
			t.Errorf("bash reads ShellQuote(%q) = %q as %q", s, q, out)
		}
	}
}

// A system audited elsewhere than at / is restored into, not the host.
func TestRestoreCommandRoot(t *testing.T) {
	got := (&diff.Vanished{Path: "/srv/a", From: "2026-11-5_09:03:07"}).RestoreCommand("/mnt/sys root", nil)
	want := "drift restore /srv/a --from 2026-11-5_09:03:07 --to live --root '/mnt/sys root'"
	if got != want {
		t.Errorf("RestoreCommand = %q, want %q", got, want)
	}
}

func TestRestoreCommand(t *testing.T) {
	for _, tc := range []struct{ path, from, want string }{
		{"/srv/notes.txt", "2026-11-5_09:03:07", "drift restore /srv/notes.txt --from 2026-11-5_09:03:07 --to live"},
		{"/srv/my notes", "2026-11-5_09:03:07", "drift restore '/srv/my notes' --from 2026-11-5_09:03:07 --to live"},
		{"/srv/it's", "/mnt/old roots/x", `drift restore '/srv/it'"'"'s' --from '/mnt/old roots/x' --to live`},
	} {
		if got := (&diff.Vanished{Path: tc.path, From: tc.from}).RestoreCommand("/", nil); got != tc.want {
			t.Errorf("RestoreCommand(%q, %q) = %q, want %q", tc.path, tc.from, got, tc.want)
		}
		// Printed escaped: a printable name's command is printed as is.
		if got := escape.Name(tc.want); got != tc.want {
			t.Errorf("escape.Name(%q) = %q: the printed command is not the command", tc.want, got)
		}
	}
}

// With a previous root: a HISTORY column, history counts in the summary
// and JSON, and the vanished table and array.
func TestHistoryAndVanished(t *testing.T) {
	prev := &btrfs.OldRoot{Name: "2026-11-10_09:00:00"}
	a := &diff.Audit{Root: "/", Decls: &persist.Set{}, PreviousRoot: prev,
		Totals: map[diff.Category]diff.Total{diff.Unpersisted: {Count: 2, Bytes: 5}},
		Lost: []*diff.Item{
			{Path: "/srv/a", Category: diff.Unpersisted, Mode: unix.S_IFREG | 0o644, Size: 2, Decl: -1, History: diff.HistoryNew},
			{Path: "/srv/b", Category: diff.Unpersisted, Mode: unix.S_IFREG | 0o644, Size: 3, Decl: -1, History: diff.HistorySame},
		},
		Vanished: []diff.Vanished{{Path: "/srv/gone", Mode: unix.S_IFDIR | 0o755, Entries: 3, Bytes: 10, Root: prev.Name, AgeDays: 2, DaysLeft: 28, From: prev.Name},
			{Path: "/var/lib/docker/containers", Mode: unix.S_IFDIR | 0o710, Entries: 41, Bytes: 9, Root: prev.Name, AgeDays: 2, DaysLeft: 28, From: prev.Name, Decl: "/var/lib/docker"}},
	}
	var out bytes.Buffer
	if err := Write(&out, a, Options{Format: "table"}); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"HISTORY", "│ new ", "│ same ", "VANISHED at the last reboot, in no persistent copy (still in old_roots/2026-11-10_09:00:00):",
		"/srv/gone/", "drift restore /srv/gone --from 2026-11-10_09:00:00 --to live", "since the previous boot: 1 new, 0 changed, 1 same", "44 paths vanished at the last reboot",
		// Declared, not in its copy: restored into the copy (no --to live), and said why.
		"drift restore /var/lib/docker/containers --from 2026-11-10_09:00:00 │",
		"Declared paths above (no --to live) were not mounted from their persistent copy at that boot"} {
		if !strings.Contains(s, want) {
			t.Errorf("table lacks %q:\n%s", want, s)
		}
	}
	out.Reset()
	if err := Write(&out, a, Options{Format: "json"}); err != nil {
		t.Fatal(err)
	}
	var r struct {
		Summary struct {
			History map[string]struct{ Entries, Bytes int64 } `json:"history"`
		} `json:"summary"`
		Items    []map[string]any `json:"items"`
		Vanished []map[string]any `json:"vanished"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if h := r.Summary.History; h["new"].Entries != 1 || h["new"].Bytes != 2 || h["same"].Entries != 1 || h["changed"].Entries != 0 {
		t.Errorf("summary.history %+v", h)
	}
	if len(r.Items) != 2 || r.Items[0]["history"] != "new" || r.Items[1]["history"] != "same" {
		t.Errorf("items %+v", r.Items)
	}
	if len(r.Vanished) != 2 || r.Vanished[1]["declared"] != "/var/lib/docker" || r.Vanished[1]["restore"] != "drift restore /var/lib/docker/containers --from 2026-11-10_09:00:00" || r.Vanished[0]["declared"] != nil {
		t.Errorf("vanished declared %+v", r.Vanished)
	}
	if r.Vanished[0]["path"] != "/srv/gone" || r.Vanished[0]["type"] != "dir" || r.Vanished[0]["entries"] != 3.0 ||
		r.Vanished[0]["oldRoot"] != prev.Name || r.Vanished[0]["ageDays"] != 2.0 || r.Vanished[0]["daysLeft"] != 28.0 ||
		r.Vanished[0]["restore"] != "drift restore /srv/gone --from 2026-11-10_09:00:00 --to live" {
		t.Errorf("vanished %+v", r.Vanished)
	}

	// Without a previous root: no column, no history, an empty vanished.
	a.PreviousRoot, a.Vanished = nil, nil
	out.Reset()
	if err := Write(&out, a, Options{Format: "table"}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "HISTORY") || strings.Contains(out.String(), "previous boot") {
		t.Errorf("table without a previous root:\n%s", out.String())
	}
	out.Reset()
	if err := Write(&out, a, Options{Format: "json"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"vanished": []`) || strings.Contains(out.String(), `"history": {`) {
		t.Errorf("JSON without a previous root:\n%s", out.String())
	}
}

// TestRestoreCommandStaleCopy: a declared file whose persistent copy holds
// older, other bytes (diff.Vanished.StaleCopy) is restored into the copy
// with --force, which drift restore needs to replace it.
func TestRestoreCommandStaleCopy(t *testing.T) {
	got := (&diff.Vanished{Path: "/srv/www/about.html", From: "2026-11-05_09:03:07", Decl: "/srv", StaleCopy: true}).RestoreCommand("/", nil)
	if want := "drift restore /srv/www/about.html --from 2026-11-05_09:03:07 --force"; got != want {
		t.Errorf("RestoreCommand = %q, want %q", got, want)
	}
}

// TestReplacedByTheCopy: a declared file whose persistent copy holds other
// bytes changed no earlier than the old root's (diff.Vanished.NewerCopy)
// is listed with no restore printed: which to keep is not known (a second
// tester's copy had been written through a mount drift adopt --mount made
// during that boot, and the printed restore --force --beneath-mount put
// the stale bytes beneath it back over it); the table says why under it,
// JSON names the kind (copyDiffers "newer", "older" for a stale copy, whose
// restore --force is printed), and the summary counts both kinds apart from
// what vanished outright.
func TestReplacedByTheCopy(t *testing.T) {
	prev := &btrfs.OldRoot{Name: "2026-12-07_21:23:12"}
	v := func(p string, stale, newer bool) diff.Vanished {
		return diff.Vanished{Path: p, Mode: unix.S_IFREG | 0o644, Entries: 1, Bytes: 5, Root: prev.Name, From: prev.Name, DaysLeft: 30, Decl: "/var/lib/appx", StaleCopy: stale, NewerCopy: newer}
	}
	a := &diff.Audit{Root: "/", Decls: &persist.Set{}, PreviousRoot: prev, Totals: map[diff.Category]diff.Total{},
		Vanished: []diff.Vanished{v("/var/lib/appx/gone", false, false), v("/var/lib/appx/old", true, false), v("/var/lib/appx/sub/conflict.txt", false, true)}}
	if got := a.Vanished[2].RestoreCommand("/", nil); got != "" {
		t.Errorf("RestoreCommand = %q, want none", got)
	}
	var out bytes.Buffer
	testutil.Must(t, Write(&out, a, Options{Format: "table"}))
	for _, want := range []string{"none printed: the persistent copy's bytes are as new or newer", "drift restore /var/lib/appx/old --from 2026-12-07_21:23:12 --force  ",
		"Paths with no restore printed: their persistent copy holds other bytes, changed no earlier than the old root's",
		"3 paths vanished at the last reboot (2 replaced by other bytes of their persistent copy)",
		// A tester's header said "in no persistent copy" above rows whose
		// copy holds the path with other bytes.
		"VANISHED at the last reboot, in no persistent copy or replaced by other bytes of it (still in old_roots/2026-12-07_21:23:12):"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "--beneath-mount --") || strings.Contains(out.String(), "conflict.txt --from") {
		t.Errorf("the table prints a restore that replaces the newer copy:\n%s", out.String())
	}
	out.Reset()
	testutil.Must(t, Write(&out, a, Options{Format: "json"}))
	var r struct{ Vanished []map[string]any }
	testutil.Must(t, json.Unmarshal(out.Bytes(), &r))
	if len(r.Vanished) != 3 || r.Vanished[0]["copyDiffers"] != nil || r.Vanished[1]["copyDiffers"] != "older" || r.Vanished[2]["copyDiffers"] != "newer" || r.Vanished[2]["restore"] != "" {
		t.Errorf("vanished %+v", r.Vanished)
	}
}

// TestRestoreCommandMountedCopy: a declared file whose copy is
// bind-mounted over it now (diff.Vanished.MountedCopy) is restored between
// the unmount and the mount again, which follows whether or not the
// restore succeeds, the line's status the restore's (a tester's failed
// restore exited 0, the mount's status); the paths are the audited root's,
// quoted; the table says so under it.
func TestRestoreCommandMountedCopy(t *testing.T) {
	v := diff.Vanished{Path: "/etc/adj time", Mode: unix.S_IFREG | 0o644, Entries: 1, From: "2026-12-07_21:23:12", Root: "2026-12-07_21:23:12", Decl: "/etc/adj time", StaleCopy: true, MountedCopy: "/nix/persist/etc/adj time"}
	want := "umount '/mnt/sys/etc/adj time' && { drift restore '/etc/adj time' --from 2026-12-07_21:23:12 --force --root /mnt/sys; s=$?; mount --bind '/mnt/sys/nix/persist/etc/adj time' '/mnt/sys/etc/adj time'; test $s -eq 0; }"
	if got := v.RestoreCommand("/mnt/sys", nil); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	a := &diff.Audit{Root: "/", Decls: &persist.Set{}, PreviousRoot: &btrfs.OldRoot{Name: v.Root}, Totals: map[diff.Category]diff.Total{}, Vanished: []diff.Vanished{v}}
	var out bytes.Buffer
	testutil.Must(t, Write(&out, a, Options{Format: "table"}))
	for _, want := range []string{"umount '/etc/adj time' && { drift restore", "Declared files restored between umount and mount --bind"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	// The status is the restore's: a restore that fails makes the line fail.
	line := strings.Replace(want, "drift restore '/etc/adj time' --from 2026-12-07_21:23:12 --force --root /mnt/sys", "false", 1)
	line = strings.NewReplacer("umount ", "true ", "mount --bind", "true").Replace(line)
	if err := exec.Command("sh", "-c", line).Run(); err == nil {
		t.Errorf("%s: exit 0 with a failed restore", line)
	}
}

// TestRestoreCommandReadsTheAuditsDeclarations: the restore check prints
// names the declarations the audit read (a fresh user's printed restore
// into the copy failed 'not declared' without --persist); restore takes no
// --mountinfo or --ephemeral, so they are left out.
func TestRestoreCommandReadsTheAuditsDeclarations(t *testing.T) {
	args := []string{"--persist", "/etc/nixos/my persist.nix", "--mountinfo", "/tmp/mi", "--home", "alice=/home/alice", "--ephemeral", "/"}
	got := (&diff.Vanished{Path: "/var/lib/app/db", From: "2026-12-07_09:00:00", Decl: "/var/lib/app"}).RestoreCommand("/mnt/sys", args)
	want := "drift restore /var/lib/app/db --from 2026-12-07_09:00:00 --root /mnt/sys --persist '/etc/nixos/my persist.nix' --home alice=/home/alice"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
