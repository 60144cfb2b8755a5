package audit

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/persist"
)

const testMountinfo = `22 1 0:31 /root / rw - btrfs /dev/vda2 rw,subvol=/root
27 22 0:31 /nix /nix rw - btrfs /dev/vda2 rw,subvol=/nix
28 27 0:31 /persist /nix/persist rw - btrfs /dev/vda2 rw,subvol=/persist
42 22 0:31 /persist/var/lib/postgresql /var/lib/postgresql rw - btrfs /dev/vda2 rw
43 22 0:44 / /boot rw - vfat /dev/vda1 rw
50 22 0:55 / /home/alice/Music rw - fuse.bindfs /nix/persist/home/alice/Music rw
`

func testTable(t *testing.T) *mounts.Table {
	t.Helper()
	tab, err := mounts.Parse(strings.NewReader(testMountinfo), "mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// TestMountSource: a bind mount shows the directory of another mount of
// its filesystem whose root holds its root; a bindfs mount its source; a
// whole filesystem nothing.
func TestMountSource(t *testing.T) {
	tab := testTable(t)
	sources := mounts.NewSources(tab)
	for mp, want := range map[string]string{
		"/var/lib/postgresql": "/nix/persist/var/lib/postgresql",
		"/home/alice/Music":   "/nix/persist/home/alice/Music",
		"/boot":               "",
		"/nix/persist":        "",
	} {
		if got := sources.Of(tab.At(mp)); got != want {
			t.Errorf("%s: %q, want %q", mp, got, want)
		}
	}
}

// TestUses: what is mounted, what the options name (with the option and
// its position), what /etc/fstab binds, what a lost symlink points at in a
// storage path — each with what uses it, in path order.
func TestUses(t *testing.T) {
	cfg := &persist.Config{
		Users:            []persist.User{{Name: "alice", HashedPasswordFile: persist.Str{Value: "/nix/persist/passwords/alice", Pos: persist.Pos{File: "c.nix", Line: 3, Col: 3}}}},
		AgeKeyFile:       persist.Str{Value: "/nix/persist/var/lib/sops-nix/key.txt"},
		AgeIdentityPaths: []persist.Str{{Value: "/nix/persist/etc/age/identity"}},
		FileSystems:      []persist.Mount{{Mount: mounts.Mount{MountPoint: "/boot", Source: "/dev/disk/by-label/BOOT"}}, {Mount: mounts.Mount{MountPoint: "/srv", Source: "/nix/persist/srv"}}},
	}
	m := &Model{Mounts: testTable(t), Decls: &persist.Set{Config: cfg, Entries: []persist.Entry{{Kind: persist.Dir, StoragePath: "/nix/persist", Path: "/var/log"}}},
		Fstab: []FSEntry{{Point: "/var/www", Device: "/nix/persist/var/www", FSType: "none", Options: "bind", At: "/etc/fstab:2"}}}
	m.inUse = m.uses()
	id, x := &diff.Item{Path: "/etc/machine-id", Mode: 0o120777}, &diff.Item{Path: "/etc/x", Mode: 0o120777}
	id.SetTarget("/nix/persist/etc/machine-id")
	x.SetTarget("/elsewhere")
	m.Audit = &diff.Audit{Lost: []*diff.Item{id, x}}
	var got []string
	for _, u := range m.Uses() {
		got = append(got, u.Path+" "+string(u.Kind)+" "+u.By)
	}
	want := []string{
		"/nix/persist/etc/age/identity referenced age.identityPaths",
		"/nix/persist/etc/machine-id linked linked from /etc/machine-id",
		"/nix/persist/home/alice/Music mounted mounted at /home/alice/Music (mount 50)",
		"/nix/persist/passwords/alice referenced users.users.alice.hashedPasswordFile (c.nix:3:3)",
		"/nix/persist/srv referenced fileSystems.\"/srv\".device",
		"/nix/persist/var/lib/postgresql mounted mounted at /var/lib/postgresql (mount 42)",
		"/nix/persist/var/lib/sops-nix/key.txt referenced sops.age.keyFile",
		"/nix/persist/var/www referenced the bind mount at /var/www (/etc/fstab:2)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Uses:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestUnpersistable: API filesystems and what lies below them; mount
// points of other filesystems (the table's, fileSystems', fstab's), what
// holds one (not a declared path's: /var/lib holding /var/lib/postgresql)
// and what lies below one unless it is ephemeral (a tmpfs home);
// anything else may be declared.
func TestUnpersistable(t *testing.T) {
	m := &Model{Mounts: testTable(t), Decls: &persist.Set{Config: &persist.Config{FileSystems: []persist.Mount{{Mount: mounts.Mount{MountPoint: "/efi"}}, {Mount: mounts.Mount{MountPoint: "/home/bob", FSType: "tmpfs"}}}},
		Entries: []persist.Entry{{Kind: persist.Dir, Path: "/var/lib/postgresql", StoragePath: "/nix/persist"}}},
		Fstab: []FSEntry{{Point: "/data"}}}
	m.mountPoints = m.MountPoints()
	m.Audit = &diff.Audit{Ephemeral: []mounts.Mount{{MountPoint: "/"}, {MountPoint: "/home/bob", FSType: "tmpfs"}}}
	for p, bad := range map[string]bool{
		"/dev": true, "/dev/shm/x": true, "/proc": true, "/sys/fs": true, "/run": true, "/run/user/1000": true,
		"/boot": true, "/boot/EFI": true, "/efi": true, "/data": true, "/var/lib": false, "/var/lib/postgresql": true, "/home": true,
		"/var/lib/bluetooth": false, "/etc/machine-id": false, "/devices": false, "/home/bob": true, "/home/bob/.config/app": false,
	} {
		if got := m.Unpersistable(p) != ""; got != bad {
			t.Errorf("Unpersistable(%s) = %q, want unpersistable %v", p, m.Unpersistable(p), bad)
		}
	}
}

// TestReadFstab: fields, octal escapes, comments; a missing file is none;
// a symlinked /etc/fstab is not followed.
func TestReadFstab(t *testing.T) {
	root := t.TempDir()
	if got, err := readFstab(root); err != nil || got != nil {
		t.Errorf("missing: %v %v", got, err)
	}
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	data := "# fstab\n/dev/disk/by-label/BOOT /boot vfat defaults 0 2\n\n/nix/persist/my\\040dir /srv/my\\040dir none bind 0 0\nbad-line\nx relative\n"
	if err := os.WriteFile(filepath.Join(root, "etc/fstab"), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := readFstab(root)
	if err != nil || len(got) != 2 || got[1].Point != "/srv/my dir" || got[1].Device != "/nix/persist/my dir" || !got[1].Bind() || got[0].Bind() || got[1].At != "/etc/fstab:4" {
		t.Errorf("readFstab = %+v, %v", got, err)
	}
	other := t.TempDir()
	if err := os.MkdirAll(filepath.Join(other, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "etc/fstab"), filepath.Join(other, "etc/fstab")); err != nil {
		t.Fatal(err)
	}
	if got, err := readFstab(other); err == nil {
		t.Errorf("a symlinked /etc/fstab was read: %+v", got)
	}
	// A fifo is refused at once, in the words every input uses.
	fifo := t.TempDir()
	if err := os.MkdirAll(filepath.Join(fifo, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(fifo, "etc/fstab"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readFstab(fifo); err == nil || err.Error() != fifo+"/etc/fstab: a fifo, not a regular file" {
		t.Errorf("a fifo /etc/fstab: %v", err)
	}
}
