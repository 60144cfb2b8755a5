package audit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/persist"
)

// TestPersistedBeforeTheOldRootEnded: a declared path whose persistent copy
// existed before an old root's boot ended showed that copy at that boot
// (the fresh-user case: drift restore /etc/machine-id --force replaced the
// 33-byte persistent machine-id with the old root's empty mount point).
// Not so when the copy was made after (declared since), is missing, or the
// path is not declared; an old root of unknown time counts as after the
// copy was made.
func TestPersistedBeforeTheOldRootEnded(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "persist/etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "persist/etc/machine-id"), []byte("0123456789abcdef0123456789abcdef\n"), 0o444); err != nil {
		t.Fatal(err)
	}
	decls := &persist.Set{Entries: []persist.Entry{
		{Kind: persist.File, StoragePath: "/persist", Path: "/etc/machine-id"},
		{Kind: persist.Dir, StoragePath: "/persist", Path: "/var/lib/postgresql"},
	}}
	m := &Model{Root: root, Decls: decls}
	now := time.Now()
	pe := m.Persisted("/etc/machine-id", now.Add(time.Hour))
	if pe == nil || pe.Copy != "/persist/etc/machine-id" || pe.Decl.Path != "/etc/machine-id" {
		t.Fatalf("an old root retired after the copy was made: %+v", pe)
	}
	if pe.Since.IsZero() {
		t.Log("no birth time on this filesystem: every copy counts as older")
	} else if pe := m.Persisted("/etc/machine-id", now.Add(-time.Hour)); pe != nil {
		t.Errorf("an old root retired before the copy was made (declared since): %+v", pe)
	}
	if pe := m.Persisted("/etc/machine-id", time.Time{}); pe == nil {
		t.Error("an old root of unknown time: not refused")
	}
	if pe := m.Persisted("/var/lib/postgresql/16", now.Add(time.Hour)); pe != nil {
		t.Errorf("a declared directory without a persistent copy: %+v", pe)
	}
	if pe := m.Persisted("/srv/undeclared", now.Add(time.Hour)); pe != nil {
		t.Errorf("an undeclared path: %+v", pe)
	}
	if err := os.MkdirAll(filepath.Join(root, "persist/var/lib/postgresql"), 0o700); err != nil {
		t.Fatal(err)
	}
	pe = m.Persisted("/var/lib/postgresql/16/main", now.Add(time.Hour))
	if pe == nil || pe.Decl.Path != "/var/lib/postgresql" {
		t.Fatalf("below a declared directory with a copy: %+v", pe)
	}
	if got, want := pe.Error()[:len("/var/lib/postgresql/16/main is inside the declared directory /var/lib/postgresql: its persistent copy /persist/var/lib/postgresql existed then")], "/var/lib/postgresql/16/main is inside the declared directory /var/lib/postgresql: its persistent copy /persist/var/lib/postgresql existed then"; got != want {
		t.Errorf("message %q", pe.Error())
	}
}

// TestPlaceholderNeverReplacesAPersistentCopy: a persistent copy replaced
// by a rename (cp + mv, as editors and sops write) is born after the old
// root's boot although it was bind-mounted then, so its birth time says
// "declared since" (the second fresh-user case: drift restore
// /etc/machine-id --dry-run planned to replace 33 B with 0 B, exit 0). An
// old root holding only an empty file or empty directory there, the
// placeholder a mount point leaves, is still refused over a non-empty
// copy; not over an empty or missing copy, and not when the old root holds
// data.
func TestPlaceholderNeverReplacesAPersistentCopy(t *testing.T) {
	root, old := t.TempDir(), t.TempDir()
	write := func(p, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "persist/etc/machine-id"), "0123456789abcdef0123456789abcdef\n")
	write(filepath.Join(old, "etc/machine-id"), "")
	write(filepath.Join(root, "persist/etc/hostid"), "")
	write(filepath.Join(old, "etc/hostid"), "")
	write(filepath.Join(root, "persist/etc/adjtime"), "0.0 0 0.0\n")
	write(filepath.Join(old, "etc/adjtime"), "0.1 0 0.0\n")
	write(filepath.Join(root, "persist/var/lib/bt/adapter"), "paired\n")
	if err := os.MkdirAll(filepath.Join(old, "var/lib/bt"), 0o755); err != nil {
		t.Fatal(err)
	}
	decls := &persist.Set{Entries: []persist.Entry{
		{Kind: persist.File, StoragePath: "/persist", Path: "/etc/machine-id"},
		{Kind: persist.File, StoragePath: "/persist", Path: "/etc/hostid"},
		{Kind: persist.File, StoragePath: "/persist", Path: "/etc/adjtime"},
		{Kind: persist.Dir, StoragePath: "/persist", Path: "/var/lib/bt"},
	}}
	m := &Model{Root: root, Decls: decls, From: &btrfs.OldRoot{Dir: old}}
	before := time.Now().Add(-time.Hour) // the old root's boot ended before every copy was born
	pe := m.Persisted("/etc/machine-id", before)
	if pe == nil {
		t.Skip("no birth time on this filesystem: every copy counts as older")
	}
	if pe.Placeholder != "an empty file" || !strings.Contains(pe.Error(), "the old root holds there only an empty file, the placeholder a mount point leaves") {
		t.Errorf("an empty file over a 33-byte copy: %+v %q", pe, pe.Error())
	}
	if pe := m.Persisted("/var/lib/bt", before); pe == nil || pe.Placeholder != "an empty directory" {
		t.Errorf("an empty directory over a copy with data: %+v", pe)
	}
	if pe := m.Persisted("/etc/hostid", before); pe != nil {
		t.Errorf("an empty file over an empty copy: %+v", pe)
	}
	if pe := m.Persisted("/etc/adjtime", before); pe != nil {
		t.Errorf("data in the old root (declared since): %+v", pe)
	}
}
