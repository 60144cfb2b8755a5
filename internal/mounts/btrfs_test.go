package mounts

import (
	"reflect"
	"testing"
)

// btrfsMountinfo is what Linux 6.18 wrote for a btrfs loop image
// (testdata/btrfs-mountinfo.sh reproduces it) holding the subvolumes root,
// nix, persist, "my vol", old_roots/2024-11-4_16:22:50 and root/nested:
// the top level (subvolid=5) at top/, the impermanent layout under sys/
// (root at /, nix, nix/persist, binds of persist/etc/ssh and of a file),
// a retired root, the top level again, a subvolume with a space, and a bind
// taken through the top-level mount. What it shows:
//
//   - ROOT of a subvolume mount is the subvolume's path from the top level
//     ("/root", "/nix", "/old_roots/2024-11-4_16:22:50"); the top level is
//     "/". It matches the subvol= super option, escapes included
//     ("/my\040vol").
//   - ROOT of a bind mount is the bound path from the top level, through
//     whichever subvolume it lies in ("/persist/etc/ssh",
//     "/persist/home/alice/.gitconfig"), while subvol= and subvolid= name
//     only the containing subvolume (/persist, 258). So the source of a bind
//     is Root, never subvol=. A bind taken through a top-level mount (69)
//     looks exactly like one taken through the subvolume mount.
//   - MAJOR:MINOR is the same (0:39) for every mount of the filesystem,
//     whatever the subvolume; stat(2) st_dev is not: it is one anonymous
//     device per subvolume (top level 0:40, root 0:41, nix 0:42, persist
//     0:43, old root 0:45, nested subvolume root/nested 0:46, which has no
//     mount), and none equals 0:39.
//   - Mount IDs are not in mount order (63 was reused and listed after 67;
//     69 was mounted last): order comes from the lines, not the IDs.
const btrfsMountinfo = `64 43 0:39 / /tmp/drift-exp-mnt/top rw,relatime - btrfs /dev/loop0 rw,discard=async,space_cache=v2,subvolid=5,subvol=/
65 43 0:39 /root /tmp/drift-exp-mnt/sys rw,relatime - btrfs /dev/loop0 rw,discard=async,space_cache=v2,subvolid=256,subvol=/root
66 65 0:39 /nix /tmp/drift-exp-mnt/sys/nix rw,relatime - btrfs /dev/loop0 rw,discard=async,space_cache=v2,subvolid=257,subvol=/nix
67 66 0:39 /persist /tmp/drift-exp-mnt/sys/nix/persist rw,relatime - btrfs /dev/loop0 rw,discard=async,space_cache=v2,subvolid=258,subvol=/persist
63 65 0:39 /persist/etc/ssh /tmp/drift-exp-mnt/sys/etc/ssh rw,relatime - btrfs /dev/loop0 rw,discard=async,space_cache=v2,subvolid=258,subvol=/persist
68 65 0:39 /persist/home/alice/.gitconfig /tmp/drift-exp-mnt/sys/home/alice/.gitconfig rw,relatime - btrfs /dev/loop0 rw,discard=async,space_cache=v2,subvolid=258,subvol=/persist
70 65 0:39 /old_roots/2024-11-4_16:22:50 /tmp/drift-exp-mnt/sys/old rw,relatime - btrfs /dev/loop0 rw,discard=async,space_cache=v2,subvolid=260,subvol=/old_roots/2024-11-4_16:22:50
71 65 0:39 / /tmp/drift-exp-mnt/sys/top rw,relatime - btrfs /dev/loop0 rw,discard=async,space_cache=v2,subvolid=5,subvol=/
72 65 0:39 /my\040vol /tmp/drift-exp-mnt/sys/sp rw,relatime - btrfs /dev/loop0 rw,discard=async,space_cache=v2,subvolid=259,subvol=/my\040vol
69 67 0:39 /persist/etc /tmp/drift-exp-mnt/sys/nix/persist/etc rw,relatime - btrfs /dev/loop0 rw,discard=async,space_cache=v2,subvolid=258,subvol=/persist
`

func TestBtrfsMountinfo(t *testing.T) {
	tbl := mustParse(t, btrfsMountinfo)
	for i := range tbl.Mounts {
		if !SameFS(&tbl.Mounts[0], &tbl.Mounts[i]) {
			t.Errorf("mount %d: not SameFS as the top level", tbl.Mounts[i].ID)
		}
		if !tbl.Visible(i) {
			t.Errorf("mount %d hidden", tbl.Mounts[i].ID)
		}
	}

	sys := tbl.Relative("/tmp/drift-exp-mnt/sys")
	type row struct {
		ID                                 int
		MountPoint, Root, Subvol, SubvolID string
	}
	got := []row{}
	for _, m := range sys.Mounts {
		subvol, _ := m.Option("subvol")
		id, _ := m.Option("subvolid")
		got = append(got, row{m.ID, m.MountPoint, m.Root, subvol, id})
	}
	want := []row{
		{65, "/", "/root", "/root", "256"},
		{66, "/nix", "/nix", "/nix", "257"},
		{67, "/nix/persist", "/persist", "/persist", "258"},
		{63, "/etc/ssh", "/persist/etc/ssh", "/persist", "258"},
		{68, "/home/alice/.gitconfig", "/persist/home/alice/.gitconfig", "/persist", "258"},
		{70, "/old", "/old_roots/2024-11-4_16:22:50", "/old_roots/2024-11-4_16:22:50", "260"},
		{71, "/top", "/", "/", "5"},
		{72, "/sp", "/my vol", "/my vol", "259"},
		{69, "/nix/persist/etc", "/persist/etc", "/persist", "258"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("relative table:\n got %v\nwant %v", got, want)
	}

	// Paths map to the same place in the filesystem whichever way they are
	// reached: through the persist subvolume, a bind, or the top level.
	for p, want := range map[string]string{
		"/etc/ssh/ssh_host_ed25519_key":  "/persist/etc/ssh/ssh_host_ed25519_key",
		"/nix/persist/etc/ssh/x":         "/persist/etc/ssh/x",
		"/top/persist/etc/ssh/x":         "/persist/etc/ssh/x",
		"/home/alice/.gitconfig":         "/persist/home/alice/.gitconfig",
		"/home/alice/.bashrc":            "/root/home/alice/.bashrc",
		"/nested/file":                   "/root/nested/file",
		"/old/etc/machine-id":            "/old_roots/2024-11-4_16:22:50/etc/machine-id",
		"/nix/store/abc-hello/bin/hello": "/nix/store/abc-hello/bin/hello",
	} {
		m := sys.Shows(p)
		if m == nil {
			t.Errorf("Shows(%q) = nil", p)
			continue
		}
		if got := m.SourcePath(p); got != want {
			t.Errorf("%s: mount %d SourcePath = %q, want %q", p, m.ID, got, want)
		}
	}
}
