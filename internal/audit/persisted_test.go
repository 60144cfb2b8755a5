package audit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/testutil"
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
		testutil.SkipOrFatal(t, testutil.RequireHost, "no birth time on this filesystem: every copy counts as older")
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

// TestRenamedCopyStillMountedRefusesStaleData: a persistent copy replaced
// by a rename while bind-mounted is born after the old root's boot, but
// the mount at the declared path still shows the replaced copy, born
// before that boot ended: the copy existed then, so the old root's
// object there is what lay beneath the mount, stale data even when it is
// not empty. Refused as any other stale data (an empty placeholder was;
// non-empty stale bytes were taken for "declared since" and restore
// --force replaced the renamed copy with them). Not when the mount shows
// the copy itself (no rename since: declared since), nor with no mount.
func TestRenamedCopyStillMountedRefusesStaleData(t *testing.T) {
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
	// The live path shows the inode the boot mounted (in this tree, a
	// file of its own: the mount's inode), born before the old root's
	// boot ended; the copy renamed over after.
	write(filepath.Join(root, "etc/machine-id"), "0123456789abcdef0123456789abcdef\n")
	time.Sleep(20 * time.Millisecond)
	end := time.Now()
	time.Sleep(20 * time.Millisecond)
	write(filepath.Join(root, "persist/etc/machine-id"), "fedcba9876543210fedcba9876543210\n")
	write(filepath.Join(old, "etc/machine-id"), "stale beneath the mount\n")
	decls := &persist.Set{Entries: []persist.Entry{{Kind: persist.File, StoragePath: "/persist", Path: "/etc/machine-id"}}}
	table := mounts.New([]mounts.Mount{{ID: 1, Parent: 1, MountPoint: "/", Root: "/", FSType: "btrfs"}, {ID: 2, Parent: 1, MountPoint: "/etc/machine-id", Root: "/persist/etc/machine-id", FSType: "btrfs"}})
	m := &Model{Root: root, Decls: decls, Mounts: table, From: &btrfs.OldRoot{Dir: old}}
	pe := m.Persisted("/etc/machine-id", end)
	if pe == nil {
		if _, err := os.Stat(filepath.Join(root, "persist/etc/machine-id")); err == nil && m.Persisted("/etc/machine-id", end.Add(time.Hour)) != nil && m.Persisted("/etc/machine-id", end.Add(-time.Hour)) != nil {
			testutil.SkipOrFatal(t, testutil.RequireHost, "no birth time on this filesystem: every copy counts as older")
		}
		t.Fatal("a renamed copy still mounted from its replaced inode, stale data in the old root: not refused")
	}
	if pe.Placeholder != "" || !pe.Renamed || pe.Since.After(end) || !strings.Contains(pe.Error(), "replaced by a rename since") {
		t.Errorf("%+v: %q", pe, pe.Error())
	}
	// The mount shows the copy itself: declared since, restored.
	if err := os.Remove(filepath.Join(root, "etc/machine-id")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(root, "persist/etc/machine-id"), filepath.Join(root, "etc/machine-id")); err != nil {
		t.Fatal(err)
	}
	if pe := m.Persisted("/etc/machine-id", end); pe != nil {
		t.Errorf("the mount shows the copy, born after the boot: %+v", pe)
	}
	m.Mounts = mounts.New(table.Mounts[:1])
	if pe := m.Persisted("/etc/machine-id", end); pe != nil {
		t.Errorf("nothing mounted: %+v", pe)
	}
}

// TestPersistedAsksTheOldRootWhetherTheCopyWasMounted: a persistent copy
// born before the old root's boot ended existed then, but was not
// necessarily mounted over the declared path (the fresh-user case: an
// existing /nix/persist/var/lib/docker never mounted, the live root's
// containers wiped, and restore refused them "mounted over it", false).
// The old root decides: only a mount point at the declared path (an empty
// directory) is what a mount leaves, refused; data there means the copy
// was not in use, and what the copy lacks is restored; what the copy
// holds too is refused when it holds the same bytes or was changed later,
// and restored (--force) when the old root's is the newer.
func TestPersistedAsksTheOldRootWhetherTheCopyWasMounted(t *testing.T) {
	root, old := t.TempDir(), t.TempDir()
	write := func(p, data string, mtime time.Time) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	long := time.Now().Add(-48 * time.Hour)
	then := time.Now().Add(-24 * time.Hour)
	// The copy: made long ago, holding its own things.
	write(filepath.Join(root, "persist/var/lib/docker/engine-id"), "id\n", long)
	write(filepath.Join(root, "persist/var/lib/docker/volumes/v/data"), "stale volume\n", long)
	write(filepath.Join(root, "persist/var/lib/docker/network/db"), "newer in the copy\n", time.Now().Add(time.Hour)) // after the directories made here
	write(filepath.Join(root, "persist/var/lib/docker/same"), "same bytes\n", long)
	// The old root: that boot wrote at /var/lib/docker, on the root.
	write(filepath.Join(old, "var/lib/docker/containers/c1/config.json"), "{}\n", then)
	write(filepath.Join(old, "var/lib/docker/volumes/v/data"), "the boot's volume\n", then)
	write(filepath.Join(old, "var/lib/docker/network/db"), "older on the root\n", then)
	write(filepath.Join(old, "var/lib/docker/same"), "same bytes\n", then)
	// A declaration whose copy was mounted: the old root holds only the
	// mount point.
	write(filepath.Join(root, "persist/var/lib/postgresql/PG_VERSION"), "16\n", long)
	if err := os.MkdirAll(filepath.Join(old, "var/lib/postgresql"), 0o755); err != nil {
		t.Fatal(err)
	}
	decls := &persist.Set{Entries: []persist.Entry{
		{Kind: persist.Dir, StoragePath: "/persist", Path: "/var/lib/docker"},
		{Kind: persist.Dir, StoragePath: "/persist", Path: "/var/lib/postgresql"},
	}}
	m := &Model{Root: root, Decls: decls, From: &btrfs.OldRoot{Dir: old}}
	end := time.Now().Add(time.Hour) // every copy was born before that boot ended

	if pe := m.Persisted("/var/lib/docker/containers", end); pe != nil {
		t.Errorf("data on the old root, missing from the copy: refused: %v", pe)
	}
	if pe := m.Persisted("/var/lib/docker/containers/c1/config.json", end); pe != nil {
		t.Errorf("a file below it: refused: %v", pe)
	}
	if pe := m.Persisted("/var/lib/docker/volumes", end); pe != nil {
		t.Errorf("the old root's is the newer: refused: %v", pe)
	}
	pe := m.Persisted("/var/lib/docker/network", end)
	if pe == nil || !pe.Unmounted || pe.Same || !pe.Newer.After(pe.OldAt) || pe.Dest != "/persist/var/lib/docker/network" ||
		!strings.Contains(pe.Error(), "holds /persist/var/lib/docker/network too, changed ") ||
		!strings.Contains(pe.Error(), "restoring would replace newer data with older") || strings.Contains(pe.Error(), "was mounted over it,") {
		t.Errorf("the copy's is the newer: %+v", pe)
	} else if !strings.Contains(pe.Hint(), "To replace /persist/var/lib/docker/network with the old root's anyway: --beneath-mount") {
		t.Errorf("hint %q", pe.Hint())
	}
	if pe := m.Persisted("/var/lib/docker/same", end); pe == nil || !pe.Same || !strings.Contains(pe.Error(), "already holds the same bytes at /persist/var/lib/docker/same") {
		t.Errorf("the same bytes in the copy: %+v", pe)
	}
	if pe := m.Persisted("/var/lib/docker", end); pe == nil || !pe.Unmounted {
		t.Errorf("the whole directory, the copy holding newer data in it: %+v", pe)
	}
	pe = m.Persisted("/var/lib/postgresql", end)
	if pe == nil || pe.Unmounted || !strings.Contains(pe.Error(), "existed then") || !strings.Contains(pe.Error(), "was mounted over it, so the persistent copy already holds that boot's data") {
		t.Errorf("only the mount point in the old root: %+v", pe)
	}
	// No old root to look at: the birth time alone.
	m.From = nil
	if pe := m.Persisted("/var/lib/docker/containers", end); pe == nil {
		t.Error("without an old root: not refused")
	}
}
