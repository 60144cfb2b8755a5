package mounts

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// ids returns the mount IDs of ms, for compact assertions.
func ids(ms []Mount) []int {
	out := []int{}
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func idOf(m *Mount) int {
	if m == nil {
		return -1
	}
	return m.ID
}

func shadowStrings(t *Table) []string {
	out := []string{}
	for _, s := range t.Shadowed() {
		out = append(out, s.String())
	}
	return out
}

// showCase is one question to a table: which mount shows (or sits at) a
// path; -1 means none.
type showCase struct {
	path      string
	shows, at int
}

func TestVisibility(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		visible  []int // IDs of the visible mounts, in mount order
		shows    []showCase
		shadowed []string
	}{{
		// A persisted file hidden by a later mount of its parent (field
		// case C03), in mountinfo syntax: the file bind mount (30) is made
		// before the tmpfs home (35) and disappears under it; Code (36) is
		// mounted on the tmpfs and stays visible.
		name: "over-mount of a bound file by its parent directory",
		text: `1 0 0:30 /root / rw,relatime - btrfs /dev/vda2 rw,subvolid=256,subvol=/root
30 1 0:30 /persist/home/alice/.gitconfig /home/alice/.gitconfig rw,relatime - btrfs /dev/vda2 rw,subvolid=258,subvol=/persist
35 1 0:40 / /home/alice rw,relatime - tmpfs none rw,mode=700
36 35 0:30 /persist/home/alice/Code /home/alice/Code rw,relatime - btrfs /dev/vda2 rw,subvolid=258,subvol=/persist
`,
		visible: []int{1, 35, 36},
		shows: []showCase{
			{"/home/alice/.gitconfig", 35, -1},
			{"/home/alice/Code/x", 36, -1},
			{"/home/alice/Code", 36, 36},
			{"/home/alice", 35, 35},
			{"/home/alice/Codex", 35, -1},
			{"/home", 1, -1},
			{"/", 1, 1},
			{"/home/alice/Code/../.gitconfig", 35, -1},
			{"home/alice", -1, -1},
		},
		shadowed: []string{"mount 30 (/home/alice/.gitconfig) is over-mounted by mount 35 (/home/alice)"},
	}, {
		// The same, as the kernel (6.18) wrote it for a tmpfs test tree,
		// plus a stack of three tmpfs on /tmp/drift-ovr/a (the last moved
		// there with mount --move): each is the parent of the next, and the
		// last one wins.
		name: "over-mount of a bound file and a stack, captured from the kernel",
		text: `63 43 0:39 / /tmp/drift-ovr rw,relatime - tmpfs none rw
64 63 0:39 /persist/.gitconfig /tmp/drift-ovr/home/alice/.gitconfig rw,relatime - tmpfs none rw
65 63 0:40 / /tmp/drift-ovr/home/alice rw,relatime - tmpfs none rw,mode=700
66 65 0:39 /persist/Code /tmp/drift-ovr/home/alice/Code rw,relatime - tmpfs none rw
67 63 0:41 / /tmp/drift-ovr/a rw,relatime - tmpfs s1 rw
68 67 0:42 / /tmp/drift-ovr/a rw,relatime - tmpfs s2 rw
69 68 0:43 / /tmp/drift-ovr/a rw,relatime - tmpfs s3 rw
`,
		visible: []int{63, 65, 66, 69},
		shows: []showCase{
			{"/tmp/drift-ovr/home/alice/.gitconfig", 65, -1},
			{"/tmp/drift-ovr/home/alice/Code/x", 66, -1},
			{"/tmp/drift-ovr/a", 69, 69},
			{"/tmp/drift-ovr/a/f", 69, -1},
			{"/tmp", -1, -1},
		},
		shadowed: []string{
			"mount 64 (/tmp/drift-ovr/home/alice/.gitconfig) is over-mounted by mount 65 (/tmp/drift-ovr/home/alice)",
			"mount 67 (/tmp/drift-ovr/a) is over-mounted by mount 68 (/tmp/drift-ovr/a)",
			"mount 68 (/tmp/drift-ovr/a) is over-mounted by mount 69 (/tmp/drift-ovr/a)",
		},
	}, {
		// This machine's container runtime stacks a second devpts and shm
		// on the first (parent = the mount below).
		name: "stacked at the same point with parent links, real table",
		text: `24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=12334492k,nr_inodes=3083623,mode=755
25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24684092k
26 24 0:24 / /dev/pts rw,relatime - devpts devpts rw,mode=600,ptmxmode=000
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534
29 26 0:26 / /dev/pts rw,relatime - devpts devpts rw,mode=600,ptmxmode=000
30 25 0:27 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24684092k
`,
		visible: []int{24, 27, 29, 30},
		shows: []showCase{
			{"/dev/pts/0", 29, -1},
			{"/dev/shm", 30, 30},
			{"/dev/null", 24, -1},
			{"/etc", 27, -1},
		},
		shadowed: []string{
			"mount 25 (/dev/shm) is over-mounted by mount 30 (/dev/shm)",
			"mount 26 (/dev/pts) is over-mounted by mount 29 (/dev/pts)",
		},
	}, {
		// Simplified fixtures give every mount the same parent: mount order
		// alone decides, and the last mount on a path wins.
		name: "stacked at the same point without parent links",
		text: `1 0 0:1 / / rw - ext4 /dev/sda1 rw
10 1 0:10 / /srv rw - tmpfs first rw
11 1 0:11 / /srv rw - tmpfs second rw
12 1 0:12 / /srv rw - tmpfs third rw
`,
		visible:  []int{1, 12},
		shows:    []showCase{{"/srv/x", 12, -1}, {"/srv", 12, 12}},
		shadowed: []string{"mount 10 (/srv) is over-mounted by mount 11 (/srv)", "mount 11 (/srv) is over-mounted by mount 12 (/srv)"},
	}, {
		// move_mount(MOVE_MOUNT_BENEATH): the new mount 11 is listed last
		// but goes under 10, which becomes its child.
		name: "mount placed beneath the top of a stack",
		text: `1 0 0:1 / / rw - ext4 /dev/sda1 rw
10 11 0:10 / /x rw - tmpfs top rw
11 1 0:11 / /x rw - tmpfs beneath rw
`,
		visible:  []int{1, 10},
		shows:    []showCase{{"/x/y", 10, -1}},
		shadowed: []string{"mount 11 (/x) is over-mounted by mount 10 (/x)"},
	}, {
		// A mount propagated onto a mount that is already covered (22 is a
		// child of 20, listed after 21 covered 20) is unreachable too.
		name: "child of a hidden mount",
		text: `1 0 0:1 / / rw - ext4 /dev/sda1 rw
20 1 0:20 / /a rw - tmpfs lower rw
21 20 0:21 / /a rw - tmpfs upper rw
22 20 0:22 / /a/b rw - tmpfs late rw
`,
		visible: []int{1, 21},
		shows:   []showCase{{"/a/b/c", 21, -1}, {"/a/b", 21, -1}},
		shadowed: []string{
			"mount 20 (/a) is over-mounted by mount 21 (/a)",
			"mount 22 (/a/b) is over-mounted by mount 21 (/a)",
		},
	}, {
		// A later mount deeper down does not hide an earlier one above it,
		// and an earlier mount on an ancestor does not hide a later one.
		name: "order matters only for covering mounts",
		text: `1 0 0:1 / / rw - ext4 /dev/sda1 rw
20 1 0:20 / /a/b rw - tmpfs deep rw
21 1 0:21 / /a rw - tmpfs covers rw
22 1 0:22 / /a/b/c rw - tmpfs deeper rw
23 1 0:23 / /a/bc rw - tmpfs sibling rw
`,
		visible: []int{1, 21, 22, 23},
		shows:   []showCase{{"/a/b/c/d", 22, -1}, {"/a/b/x", 21, -1}, {"/a/bc/x", 23, -1}, {"/a/b", 21, -1}},
		shadowed: []string{
			"mount 20 (/a/b) is over-mounted by mount 21 (/a)",
		},
	}, {
		// Parent IDs that form cycles, or point at the mount itself, must
		// not hang anything; mount order still decides.
		name: "parent cycles",
		text: `5 6 0:1 / /a rw - tmpfs x rw
6 5 0:2 / /a/b rw - tmpfs y rw
7 7 0:3 / / rw - tmpfs z rw
8 9 0:4 / /c rw - tmpfs u rw
9 8 0:5 / /c rw - tmpfs v rw
`,
		visible: []int{7, 9},
		shows:   []showCase{{"/a/b/x", 7, -1}, {"/a/x", 7, -1}, {"/c", 9, 9}},
		shadowed: []string{
			"mount 5 (/a) is over-mounted by mount 7 (/)",
			"mount 6 (/a/b) is over-mounted by mount 7 (/)",
			"mount 8 (/c) is over-mounted by mount 9 (/c)",
		},
	}, {
		// Names with escapes and UTF-8 are looked up byte-exactly (field
		// case C05).
		name: "escaped and UTF-8 mount points",
		text: `1 0 0:1 / / rw - ext4 /dev/sda1 rw
60 1 0:50 / /home/alice/VirtualBox\040VMs rw,nosuid,nodev - fuse.bindfs bindfs rw,user_id=1000,allow_other
61 1 0:30 /persist/home/alice/المستندات /home/alice/المستندات rw - btrfs /dev/vda2 rw
`,
		visible: []int{1, 60, 61},
		shows: []showCase{
			{"/home/alice/VirtualBox VMs/vm1.vdi", 60, -1},
			{"/home/alice/VirtualBox\\040VMs", 1, -1},
			{"/home/alice/المستندات/cv.pdf", 61, -1},
			{"/home/alice/المستندات", 61, 61},
		},
		shadowed: []string{},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tbl := mustParse(t, tt.text)
			vis := []int{}
			for i, m := range tbl.Mounts {
				if tbl.Visible(i) {
					vis = append(vis, m.ID)
				}
			}
			if !reflect.DeepEqual(vis, tt.visible) {
				t.Errorf("visible = %v, want %v", vis, tt.visible)
			}
			for _, c := range tt.shows {
				if got := idOf(tbl.Shows(c.path)); got != c.shows {
					t.Errorf("Shows(%q) = mount %d, want %d", c.path, got, c.shows)
				}
				if got := idOf(tbl.At(c.path)); got != c.at {
					t.Errorf("At(%q) = mount %d, want %d", c.path, got, c.at)
				}
			}
			if got := shadowStrings(tbl); !reflect.DeepEqual(got, tt.shadowed) {
				t.Errorf("Shadowed:\n got %q\nwant %q", got, tt.shadowed)
			}
			// A Table literal (no index) answers the same.
			lit := &Table{Mounts: tbl.Mounts}
			for _, c := range tt.shows {
				if got := idOf(lit.Shows(c.path)); got != c.shows {
					t.Errorf("literal table: Shows(%q) = mount %d, want %d", c.path, got, c.shows)
				}
			}
		})
	}
}

func TestVisibleOutOfRange(t *testing.T) {
	tbl := mustParse(t, "1 0 0:1 / / rw - ext4 /dev/sda1 rw\n")
	if tbl.Visible(-1) || tbl.Visible(1) || !tbl.Visible(0) {
		t.Fatal("Visible out of range must be false, in range true")
	}
	var empty Table
	if empty.Shows("/") != nil || empty.At("/") != nil || empty.Visible(0) || empty.Shadowed() != nil {
		t.Fatal("empty table must answer nil/false")
	}
}

// TestMountPathsMatchComponentWise: paths are matched component by
// component, never as strings (field case C04: a substring match took one
// mount for another): a dataset mounted inside the persistent storage at
// /nix/persist/home/alice/Downloads is not a mount at
// /home/alice/Downloads, which stays on the ephemeral root, and
// /home/alice/Documentsx is not below /home/alice/Documents.
func TestMountPathsMatchComponentWise(t *testing.T) {
	tbl := mustParse(t, `1 0 0:30 /root / rw - btrfs /dev/vda2 rw,subvolid=256,subvol=/root
20 1 0:30 /nix /nix rw - btrfs /dev/vda2 rw,subvolid=257,subvol=/nix
21 20 0:30 /persist /nix/persist rw - btrfs /dev/vda2 rw,subvolid=258,subvol=/persist
50 21 0:45 / /nix/persist/home/alice/Downloads rw - zfs tank/alice/dl rw,xattr,noacl
51 1 0:46 / /home/alice/Documents rw,nosuid,nodev - fuse.bindfs /nix/persist/home/alice/Documents rw,user_id=1000,group_id=100
`)
	if m := tbl.At("/home/alice/Downloads"); m != nil {
		t.Errorf("At(/home/alice/Downloads) = mount %d, want none", m.ID)
	}
	for p, want := range map[string]int{
		"/home/alice/Downloads/iso.img":           1, // ephemeral: LOST
		"/home/alice/Documents/a.txt":             51,
		"/home/alice/Documentsx":                  1,
		"/nix/persist/home/alice/Downloads/a.iso": 50,
		"/nix/persist/home/alice/Down":            21,
		"/nix/persistent":                         20,
	} {
		if got := idOf(tbl.Shows(p)); got != want {
			t.Errorf("Shows(%q) = mount %d, want %d", p, got, want)
		}
	}
	// The dataset is its own filesystem, not the persist subvolume.
	if SameFS(tbl.ByID(50), tbl.ByID(21)) {
		t.Error("SameFS(zfs dataset, persist subvolume) = true")
	}
	if !SameFS(tbl.ByID(20), tbl.ByID(21)) {
		t.Error("SameFS(nix, persist) = false; subvolumes of one btrfs share MAJOR:MINOR")
	}
}

// TestRootFromRetiredSnapshotKeptExactly: the ROOT field is kept exactly
// when the live / comes from a retired snapshot (field case C18: the
// system booted an old root), and /var/lib shows the whole persist
// subvolume.
func TestRootFromRetiredSnapshotKeptExactly(t *testing.T) {
	tbl := mustParse(t, `1 0 0:30 /old_roots/2024-11-4_16:22:50 / rw,relatime - btrfs /dev/sda2 rw,subvolid=294,subvol=/old_roots/2024-11-4_16:22:50
20 1 0:30 /nix /nix rw,relatime - btrfs /dev/sda2 rw,subvolid=258,subvol=/nix
21 1 0:30 /persist /persist rw,relatime - btrfs /dev/sda2 rw,subvolid=259,subvol=/persist
22 1 0:30 /persist /var/lib rw,relatime - btrfs /dev/sda2 rw,subvolid=259,subvol=/persist
`)
	root := tbl.At("/")
	if root == nil || root.Root != "/old_roots/2024-11-4_16:22:50" {
		t.Fatalf("At(/) = %+v, want Root /old_roots/2024-11-4_16:22:50", root)
	}
	if v, _ := root.Option("subvolid"); v != "294" {
		t.Errorf("subvolid = %q, want 294", v)
	}
	if got := root.SourcePath("/etc/machine-id"); got != "/old_roots/2024-11-4_16:22:50/etc/machine-id" {
		t.Errorf("SourcePath = %q", got)
	}
	persist, varlib := tbl.At("/persist"), tbl.At("/var/lib")
	if !SameFS(persist, varlib) || persist.Root != varlib.Root {
		t.Error("/persist and /var/lib must be the same filesystem and root")
	}
	if got := varlib.SourcePath("/var/lib/nixos"); got != "/persist/nixos" {
		t.Errorf("/var/lib/nixos comes from %q, want /persist/nixos", got)
	}
}

// rescueTable is a NixOS system mounted at /mnt from a rescue ISO, with an
// unrelated /mntx that must not be taken for part of it.
const rescueTable = `1 0 0:20 / / rw,relatime - overlay overlay rw,lowerdir=/iso/nix-store.squashfs
40 1 0:39 /@ /mnt rw,relatime - btrfs /dev/sda2 rw,subvolid=256,subvol=/@
41 40 0:39 /nix /mnt/nix rw,relatime - btrfs /dev/sda2 rw,subvolid=257,subvol=/nix
42 41 0:39 /persist /mnt/nix/persist rw,relatime - btrfs /dev/sda2 rw,subvolid=258,subvol=/persist
43 40 0:39 /persist/etc/ssh /mnt/etc/ssh rw,relatime - btrfs /dev/sda2 rw,subvolid=258,subvol=/persist
44 40 0:39 /persist/var/log /mnt/var/log rw,relatime - btrfs /dev/sda2 rw,subvolid=258,subvol=/persist
45 1 0:50 / /mntx rw,relatime - tmpfs none rw
46 40 0:39 /persist/home/alice/VirtualBox\040VMs /mnt/home/alice/VirtualBox\040VMs rw - btrfs /dev/sda2 rw,subvolid=258,subvol=/persist
47 40 0:39 /persist/home/alice/.gitconfig /mnt/home/alice/.gitconfig rw - btrfs /dev/sda2 rw,subvolid=258,subvol=/persist
48 40 0:51 / /mnt/home/alice rw - tmpfs none rw,mode=700
49 40 0:39 / /mnt/sys/nix rw - btrfs /dev/sda2 rw,subvolid=5,subvol=/
`

func TestRelative(t *testing.T) {
	tbl := mustParse(t, rescueTable)
	type row struct {
		ID               int
		Root, MountPoint string
	}
	rows := func(t *Table) []row {
		out := []row{}
		for _, m := range t.Mounts {
			out = append(out, row{m.ID, m.Root, m.MountPoint})
		}
		return out
	}
	tests := []struct {
		root     string
		want     []row
		shows    []showCase
		shadowed []string
	}{{
		root: "/mnt",
		want: []row{
			{40, "/@", "/"},
			{41, "/nix", "/nix"},
			{42, "/persist", "/nix/persist"},
			{43, "/persist/etc/ssh", "/etc/ssh"},
			{44, "/persist/var/log", "/var/log"},
			{46, "/persist/home/alice/VirtualBox VMs", "/home/alice/VirtualBox VMs"},
			{47, "/persist/home/alice/.gitconfig", "/home/alice/.gitconfig"},
			{48, "/", "/home/alice"},
			{49, "/", "/sys/nix"},
		},
		shows: []showCase{
			{"/", 40, 40},
			{"/etc/ssh/ssh_host_ed25519_key", 43, -1},
			{"/nix/persist/etc", 42, -1},
			{"/nix/store", 41, -1},
			{"/home/alice/.gitconfig", 48, -1},
			{"/mntx", 40, -1},
		},
		shadowed: []string{
			"mount 46 (/home/alice/VirtualBox\\040VMs) is over-mounted by mount 48 (/home/alice)",
			"mount 47 (/home/alice/.gitconfig) is over-mounted by mount 48 (/home/alice)",
		},
	}, {
		// Not a mount point: the mount showing it becomes "/", with its Root
		// extended by the rest of the path.
		root: "/mnt/sys/",
		want: []row{{40, "/@/sys", "/"}, {49, "/", "/nix"}},
		shows: []showCase{
			{"/nix/x", 49, -1},
			{"/etc", 40, -1},
		},
		shadowed: []string{},
	}, {
		root:     "/mnt/home/alice",
		want:     []row{{46, "/persist/home/alice/VirtualBox VMs", "/VirtualBox VMs"}, {47, "/persist/home/alice/.gitconfig", "/.gitconfig"}, {48, "/", "/"}},
		shows:    []showCase{{"/.gitconfig", 48, -1}},
		shadowed: []string{"mount 46 (/VirtualBox\\040VMs) is over-mounted by mount 48 (/)", "mount 47 (/.gitconfig) is over-mounted by mount 48 (/)"},
	}, {
		root:     "/srv/data",
		want:     []row{{1, "/srv/data", "/"}},
		shows:    []showCase{{"/x", 1, -1}},
		shadowed: []string{},
	}, {
		root:     "/mntx/",
		want:     []row{{45, "/", "/"}},
		shadowed: []string{},
	}, {
		root:     "mnt",
		want:     []row{},
		shadowed: []string{},
	}}
	for _, tt := range tests {
		t.Run(tt.root, func(t *testing.T) {
			rel := tbl.Relative(tt.root)
			if got := rows(rel); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Relative(%q):\n got %v\nwant %v", tt.root, got, tt.want)
			}
			for _, c := range tt.shows {
				if got := idOf(rel.Shows(c.path)); got != c.shows {
					t.Errorf("Shows(%q) = mount %d, want %d", c.path, got, c.shows)
				}
				if got := idOf(rel.At(c.path)); got != c.at {
					t.Errorf("At(%q) = mount %d, want %d", c.path, got, c.at)
				}
			}
			if got := shadowStrings(rel); !reflect.DeepEqual(got, tt.shadowed) {
				t.Errorf("Shadowed:\n got %q\nwant %q", got, tt.shadowed)
			}
		})
	}
	// The original is untouched.
	if tbl.Mounts[1].MountPoint != "/mnt" || tbl.Mounts[0].Root != "/" {
		t.Error("Relative modified its table")
	}
	if tbl.Relative("/") != tbl || tbl.Relative("//") != tbl {
		t.Error(`Relative("/") must return the table itself`)
	}
	if got := idOf(tbl.Relative("/").Shows("/mnt/nix/x")); got != 41 {
		t.Errorf(`Relative("/").Shows = %d, want 41`, got)
	}
}

// TestRelativeKeepsVisibility: a mount hidden by a mount outside the audited
// root stays hidden, even where mount order alone would not say so (22 is
// a child of 21 but listed before it).
func TestRelativeKeepsVisibility(t *testing.T) {
	tbl := mustParse(t, `1 0 0:1 / / rw - ext4 /dev/sda1 rw
22 21 0:22 / /a/b rw - tmpfs inner rw
20 1 0:20 / /a/b/c rw - tmpfs early rw
21 1 0:21 / /a rw - tmpfs covers rw
`)
	if got := shadowStrings(tbl); !reflect.DeepEqual(got, []string{"mount 20 (/a/b/c) is over-mounted by mount 21 (/a)"}) {
		t.Fatalf("Shadowed = %q", got)
	}
	rel := tbl.Relative("/a/b")
	if got := ids(rel.Mounts); !reflect.DeepEqual(got, []int{22, 20}) {
		t.Fatalf("Relative mounts = %v", got)
	}
	if rel.Visible(1) {
		t.Error("mount 20 became visible in the relative table")
	}
	if got := shadowStrings(rel); !reflect.DeepEqual(got, []string{"mount 20 (/c) is over-mounted by mount 22 (/)"}) {
		t.Errorf("Shadowed = %q", got)
	}
	if got := idOf(rel.Shows("/c/x")); got != 22 {
		t.Errorf("Shows(/c/x) = %d, want 22", got)
	}
}

func TestSourcePath(t *testing.T) {
	tests := []struct {
		root, mountPoint, p, want string
	}{
		{"/persist", "/nix/persist", "/nix/persist/etc", "/persist/etc"},
		{"/persist", "/nix/persist", "/nix/persist", "/persist"},
		{"/persist", "/nix/persist", "/nix/persist/", "/persist"},
		{"/persist", "/nix/persist", "/nix/persistx", ""},
		{"/persist", "/nix/persist", "/nix", ""},
		{"/", "/home", "/home/a/b", "/a/b"},
		{"/", "/", "/x", "/x"},
		{"/@", "/", "/", "/@"},
		{"/persist/home/alice/.gitconfig", "/home/alice/.gitconfig", "/home/alice/.gitconfig", "/persist/home/alice/.gitconfig"},
		{"net:[4026531840]", "/run/netns/x", "/run/netns/x", "net:[4026531840]"},
		{"/a/", "/m", "/m/b", "/a/b"},
	}
	for _, tt := range tests {
		m := &Mount{Root: tt.root, MountPoint: tt.mountPoint}
		if got := m.SourcePath(tt.p); got != tt.want {
			t.Errorf("Mount{Root %q at %q}.SourcePath(%q) = %q, want %q", tt.root, tt.mountPoint, tt.p, got, tt.want)
		}
	}
}

func TestOption(t *testing.T) {
	m := mustParse(t, `80 1 0:39 /my\040vol /home/alice/Music rw,nosuid,nodev,relatime - btrfs /dev/sda2 rw,subvolid=259,subvol=/my\040vol,user_id=1000,space_cache=v2,x=a=b`+"\n").Mounts[0]
	tests := []struct {
		name, value string
		ok          bool
	}{
		{"subvol", "/my vol", true},
		{"subvolid", "259", true},
		{"user_id", "1000", true},
		{"nosuid", "", true},
		{"rw", "", true},
		{"x", "a=b", true},
		{"sub", "", false},
		{"subvol=/my", "", false},
		{"allow_other", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		v, ok := m.Option(tt.name)
		if v != tt.value || ok != tt.ok {
			t.Errorf("Option(%q) = %q, %v; want %q, %v", tt.name, v, ok, tt.value, tt.ok)
		}
	}
}

func TestWriteToRoundTrip(t *testing.T) {
	for _, text := range []string{rescueTable, fuzzSeeds[0], fuzzSeeds[1]} {
		tbl := mustParse(t, text)
		var b strings.Builder
		if _, err := tbl.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		again := mustParse(t, b.String())
		if !equalIgnoringLines(tbl.Mounts, again.Mounts) {
			t.Errorf("round trip differs:\n%s", b.String())
		}
	}
	bad := &Table{Mounts: []Mount{{ID: 1, Root: "/", MountPoint: "/", Options: "rw", FSType: "ext4"}}}
	if _, err := bad.WriteTo(&strings.Builder{}); err == nil {
		t.Error("WriteTo accepted an empty source")
	}
}

// TestVisibilityScales: tables built to be slow (thousands of mounts on one
// path, parents listed after their children) stay fast.
func TestVisibilityScales(t *testing.T) {
	const n = 20000
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%d %d 0:%d / / rw - tmpfs t%d rw\n", i, i+1, i, i)
	}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%d %d 0:1 / /%s rw - tmpfs d rw\n", n+i, n+i-1, strings.Repeat("a/", i%50)+"z")
	}
	start := time.Now()
	tbl := mustParse(t, b.String())
	_ = tbl.Shadowed()
	for i := range tbl.Mounts {
		tbl.Shows(tbl.Mounts[i].MountPoint + "/x")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestShowsDoesNotAllocate(t *testing.T) {
	tbl := mustParse(t, rescueTable)
	n := testing.AllocsPerRun(100, func() {
		tbl.Shows("/mnt/nix/persist/home/alice/.local/share/some/deep/file")
		tbl.At("/mnt/etc/ssh")
	})
	if n != 0 {
		t.Errorf("Shows and At allocate %v times per call", n)
	}
}

func BenchmarkShows(b *testing.B) {
	tbl := mustParse(b, rescueTable)
	p := "/mnt/nix/persist/home/alice/.local/share/some/deep/file"
	for b.Loop() {
		tbl.Shows(p)
	}
}
