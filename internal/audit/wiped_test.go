package audit

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// wipedMountinfo is a machine whose root subvolume and nix subvolume are
// mounted, and nothing at /state: a storage path /state lies on the root.
const wipedMountinfo = `22 1 0:31 /root / rw - %s /dev/vda2 rw,subvol=/root
27 22 0:31 /nix /nix rw - btrfs /dev/vda2 rw,subvol=/nix
`

// TestUnmountedStorageOnWipedRoot: a persistent storage path that nothing
// mounts and that lies on the wiped root (/state mistyped, or a rescue
// system with only the root subvolume mounted) holds no copy: the model
// says so once, with or without the walk (drift restore's NeedFacts, drift
// adopt's NeedMounts), naming the storage path and the root, and every
// writer refuses through Model.Unmounted. A storage path on the nix
// subvolume is kept; so is one on an ext4 root no wipe is known for, even
// with --ephemeral / (drift check assumes it wiped, with a warning; a
// refusal rests on what is known).
func TestUnmountedStorageOnWipedRoot(t *testing.T) {
	dir := t.TempDir()
	decl := filepath.Join(dir, "decl.json")
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(decl, `{"/state": {"directories": ["/var/lib/st"]}, "/nix/persist": {"directories": ["/var/lib/kept"]}}`)
	for _, c := range []struct {
		fstype    string
		ephemeral []string
		wiped     bool
	}{
		{"btrfs", nil, true},
		{"tmpfs", nil, true},
		{"ext4", nil, false},
		{"ext4", []string{"/"}, false},
	} {
		mi := filepath.Join(dir, "mountinfo-"+c.fstype)
		write(mi, strings.Replace(wipedMountinfo, "%s", c.fstype, 1))
		for _, o := range []Options{{Need: NeedFacts}, {Need: NeedMounts}} {
			o.Root, o.Persist, o.Mountinfo, o.Ephemeral = t.TempDir(), []string{decl}, mi, c.ephemeral
			m, err := Build(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			e := m.Unmounted("/state")
			what := c.fstype + " root, --ephemeral " + strings.Join(c.ephemeral, " ")
			if o.Need == NeedFacts {
				what += ", no walk"
			}
			switch {
			case !c.wiped && e != nil:
				t.Errorf("%s: /state refused: %v", what, e)
			case c.wiped && (e == nil || e.Ephemeral != "/" || e.StoragePath != "/state"):
				t.Errorf("%s: /state: %+v, want it on the wiped root", what, e)
			case c.wiped && !strings.Contains(e.Error(), "the persistent storage path /state lies on the ephemeral root (/), wiped at every boot") ||
				c.wiped && !strings.Contains(e.Hint(), "mount the persistent filesystem at "+filepath.Join(o.Root, "/state")):
				t.Errorf("%s: %q; hint %q", what, e.Error(), e.Hint())
			}
			if e := m.Unmounted("/nix/persist"); e != nil {
				t.Errorf("%s: /nix/persist, on the nix subvolume, refused: %v", what, e)
			}
			m.Close()
		}
	}
}

// TestUnmountedStorageSymlinkNamedAsSymlink: a storage path that is a
// symlink on the wiped root (environment.persistence."/state2" with
// /state2 -> persist; the second fresh-user tester's case, where adopt
// said "nothing is mounted at /state2") is refused naming the symlink and
// its target, and the hint says to mount the storage path itself.
func TestUnmountedStorageSymlinkNamedAsSymlink(t *testing.T) {
	dir := t.TempDir()
	decl, mi := filepath.Join(dir, "decl.json"), filepath.Join(dir, "mountinfo")
	if err := os.WriteFile(decl, []byte(`{"/state2": {"directories": ["/var/lib/foo"]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mi, []byte(strings.Replace(wipedMountinfo, "%s", "btrfs", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := os.Symlink("persist", filepath.Join(root, "state2")); err != nil {
		t.Fatal(err)
	}
	m, err := Build(context.Background(), Options{Need: NeedMounts, Root: root, Persist: []string{decl}, Mountinfo: mi})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	e := m.Unmounted("/state2")
	if e == nil || e.Link != "persist" ||
		!strings.Contains(e.Error(), "the persistent storage path /state2 is a symlink (to persist) on the ephemeral root (/), wiped at every boot") ||
		strings.Contains(e.Error(), "nothing is mounted") ||
		!strings.Contains(e.Hint(), "mount the persistent filesystem at "+filepath.Join(root, "/state2")+" itself (not a symlink)") {
		t.Fatalf("%+v", e)
	}
}
