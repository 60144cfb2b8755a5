package audit

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/testutil"
)

// Without --persist in a rescue system, the hint names where a
// configuration is. A tester's case: it pointed at the newest old root's
// etc/nixos, an empty mount point (the bind mount of the persisted copy
// left it on the root), while the configuration was in
// /nix/persist/etc/nixos, on the persist subvolume. Each candidate is
// checked for a configuration.nix (or flake.nix) with data: the old
// root's first, then a storage path's on the top level.
func TestOldNixosHintNamesAConfiguration(t *testing.T) {
	for _, tc := range []struct {
		name, tree, want string
	}{
		{"empty mount point in the old root, the copy in persist", "d /old_roots/2026-12-07_19:02:15/etc/nixos\nf /persist/etc/nixos/configuration.nix { }\nd /root/etc/nixos",
			"the configuration is in persistent storage, not on the root (/dev/vda2:/persist/etc/nixos): mkdir -p /mnt/top && mount -o subvolid=5 /dev/vda2 /mnt/top, then drift check --persist /mnt/top/persist/etc/nixos/configuration.nix"},
		{"persist a directory of the nix subvolume", "d /old_roots/2026-12-07_19:02:15/etc/nixos\nf /nix/persist/etc/nixos/flake.nix { }",
			"(/dev/vda2:/nix/persist/etc/nixos): mkdir -p /mnt/top && mount -o subvolid=5 /dev/vda2 /mnt/top, then drift check --persist /mnt/top/nix/persist/etc/nixos/FILE.nix"},
		{"the configuration on the old root", "f /old_roots/2026-12-07_19:02:15/etc/nixos/configuration.nix { }\nf /persist/etc/nixos/configuration.nix { }",
			"/etc/nixos lived on the wiped root; the newest old root holds it (/dev/vda2:/old_roots/2026-12-07_19:02:15/etc/nixos): mkdir -p /mnt/top && mount -o subvolid=5 /dev/vda2 /mnt/top, then drift check --persist /mnt/top/old_roots/2026-12-07_19:02:15/etc/nixos/configuration.nix"},
		{"an empty configuration.nix is no configuration", "f /old_roots/2026-12-07_19:02:15/etc/nixos/configuration.nix\nd /persist/etc/nixos", ""},
	} {
		top := t.TempDir()
		testutil.Tree(t, top, tc.tree)
		rel := "old_roots/2026-12-07_19:02:15"
		m := &Model{discovered: true, Decls: &persist.Set{}, OldRoots: btrfs.Recent{InTop: true, Source: "/dev/vda2",
			Roots: []btrfs.OldRoot{{Name: "2026-12-07_19:02:15", Path: rel, Dir: filepath.Join(top, rel)}}}}
		got := m.oldNixosHint(nil)
		if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("%s: hint %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestOldNixosHintCarriesTheRoot: audited at --root, with a mount table
// and a home named, the hint's drift check audits the same system: its
// --root and those flags, then the --persist of the configuration found
// (it printed "drift check --persist …" alone, which audits the host's /).
// It says to unmount the top level only after the commands that check
// prints, which carry the same --persist /mnt/top/… (it said "umount
// /mnt/top after" the check: the restores it printed then failed).
func TestOldNixosHintCarriesTheRoot(t *testing.T) {
	top := t.TempDir()
	testutil.Tree(t, top, "d /old_roots/2026-12-07_19:02:15/etc/nixos\nf /persist/etc/nixos/configuration.nix { }")
	rel := "old_roots/2026-12-07_19:02:15"
	m := &Model{Root: "/mnt/sys", discovered: true, Decls: &persist.Set{}, OldRoots: btrfs.Recent{InTop: true, Source: "/dev/vda2",
		Roots: []btrfs.OldRoot{{Name: "2026-12-07_19:02:15", Path: rel, Dir: filepath.Join(top, rel)}}}}
	o := Options{Mountinfo: "/tmp/rescue mountinfo", Homes: map[string]string{"alice": "/home/alice"}}
	want := "then drift check --root /mnt/sys --mountinfo '/tmp/rescue mountinfo' --home alice=/home/alice --persist /mnt/top/persist/etc/nixos/configuration.nix (the commands it prints read the configuration there too: umount /mnt/top only after running them)"
	if got := m.oldNixosHint(o.args()); !strings.HasSuffix(got, want) {
		t.Errorf("hint %q, want it to end %q", got, want)
	}
}

// TestOldNixosHintNeedsItsPremise: the hint "the configuration is in
// persistent storage, not on the root" was given for a root whose
// etc/nixos shows the configuration (bind-mounted from that storage),
// where what drift read there declared nothing or was malformed (field
// case: a declarations.json with "directory": 7). No hint about where a
// configuration lies is given when the root shows one.
func TestOldNixosHintNeedsItsPremise(t *testing.T) {
	top, root := t.TempDir(), t.TempDir()
	testutil.Tree(t, top, "d /old_roots/2026-12-07_19:02:15/etc/nixos\nf /persist/etc/nixos/configuration.nix { }")
	testutil.Tree(t, root, "f /etc/nixos/configuration.nix { }")
	rel := "old_roots/2026-12-07_19:02:15"
	m := &Model{Root: root, discovered: true, Decls: &persist.Set{}, OldRoots: btrfs.Recent{InTop: true, Source: "/dev/vda2",
		Roots: []btrfs.OldRoot{{Name: "2026-12-07_19:02:15", Path: rel, Dir: filepath.Join(top, rel)}}}}
	if got := m.oldNixosHint(nil); got != "" {
		t.Errorf("the root shows its configuration, hint %q", got)
	}
	m.Root = t.TempDir() // etc/nixos not there: the hint stands
	if got := m.oldNixosHint(nil); !strings.Contains(got, "the configuration is in persistent storage, not on the root") {
		t.Errorf("no configuration on the root, hint %q", got)
	}
}
