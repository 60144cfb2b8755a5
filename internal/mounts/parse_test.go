package mounts

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/testutil"
)

func mustParse(t testing.TB, text string) *Table {
	t.Helper()
	tbl, err := Parse(strings.NewReader(text), "mountinfo")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return tbl
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []Mount
	}{{
		name: "proc(5) example with one optional field",
		text: "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n",
		want: []Mount{{ID: 36, Parent: 35, Major: 98, Minor: 0, Root: "/mnt1", MountPoint: "/mnt2",
			Options: "rw,noatime", Optional: []string{"master:1"}, FSType: "ext3", Source: "/dev/root",
			SuperOptions: "rw,errors=continue", Line: 1}},
	}, {
		name: "no optional fields, several optional fields",
		text: "22 27 0:21 / /proc rw,relatime - proc proc rw\n" +
			"23 27 0:22 / /sys rw shared:7 master:2 propagate_from:3 unbindable - sysfs sysfs rw\n",
		want: []Mount{
			{ID: 22, Parent: 27, Major: 0, Minor: 21, Root: "/", MountPoint: "/proc", Options: "rw,relatime",
				FSType: "proc", Source: "proc", SuperOptions: "rw", Line: 1},
			{ID: 23, Parent: 27, Major: 0, Minor: 22, Root: "/", MountPoint: "/sys", Options: "rw",
				Optional: []string{"shared:7", "master:2", "propagate_from:3", "unbindable"},
				FSType:   "sysfs", Source: "sysfs", SuperOptions: "rw", Line: 2},
		},
	}, {
		// A mount point with an escaped space, and a bindfs mount whose
		// source is shown as just "bindfs" (field case C05).
		name: "escaped space in mount point, bindfs source",
		text: `60 1 0:50 / /home/alice/VirtualBox\040VMs rw,nosuid,nodev,relatime shared:40 - fuse.bindfs bindfs rw,user_id=1000,group_id=100,allow_other` + "\n",
		want: []Mount{{ID: 60, Parent: 1, Major: 0, Minor: 50, Root: "/", MountPoint: "/home/alice/VirtualBox VMs",
			Options: "rw,nosuid,nodev,relatime", Optional: []string{"shared:40"}, FSType: "fuse.bindfs", Source: "bindfs",
			SuperOptions: "rw,user_id=1000,group_id=100,allow_other", Line: 1}},
	}, {
		name: "tab, newline, backslash escapes in root, mount point and source",
		text: `61 1 0:51 /a\011b\012c\134d /mnt/x\040y\134z rw - fuse.bindfs /nix/persist/home/alice/VirtualBox\040VMs rw` + "\n",
		want: []Mount{{ID: 61, Parent: 1, Major: 0, Minor: 51, Root: "/a\tb\nc\\d", MountPoint: `/mnt/x y\z`,
			Options: "rw", FSType: "fuse.bindfs", Source: "/nix/persist/home/alice/VirtualBox VMs", SuperOptions: "rw", Line: 1}},
	}, {
		name: "UTF-8 and invalid UTF-8 kept byte-exact; escapes up to \\377 decoded",
		text: "62 1 0:52 /persist/home/alice/المستندات /home/alice/المستندات rw - btrfs /dev/vda2 rw\n" +
			"63 1 0:52 /\xff\xfe /x/\\134777/\\13412/e\\134 rw - tmpfs a\\0401 rw\n",
		want: []Mount{
			{ID: 62, Parent: 1, Major: 0, Minor: 52, Root: "/persist/home/alice/المستندات", MountPoint: "/home/alice/المستندات",
				Options: "rw", FSType: "btrfs", Source: "/dev/vda2", SuperOptions: "rw", Line: 1},
			{ID: 63, Parent: 1, Major: 0, Minor: 52, Root: "/\xff\xfe", MountPoint: `/x/\777/\12/e\`,
				Options: "rw", FSType: "tmpfs", Source: "a 1", SuperOptions: "rw", Line: 2},
		},
	}, {
		// Unescaped bytes the kernel does not escape stay in their field:
		// "\r", "\v", and U+00A0 NO-BREAK SPACE.
		name: "only space and tab separate fields",
		text: "64 1 0:53 / /a\rb\vc\u00a0d rw - tmpfs none rw\n",
		want: []Mount{{ID: 64, Parent: 1, Major: 0, Minor: 53, Root: "/", MountPoint: "/a\rb\vc\u00a0d",
			Options: "rw", FSType: "tmpfs", Source: "none", SuperOptions: "rw", Line: 1}},
	}, {
		name: "bind mount root from a btrfs subvolume",
		text: "63 65 0:39 /persist/etc/ssh /etc/ssh rw,relatime - btrfs /dev/vda2 rw,discard=async,space_cache=v2,subvolid=258,subvol=/persist\n",
		want: []Mount{{ID: 63, Parent: 65, Major: 0, Minor: 39, Root: "/persist/etc/ssh", MountPoint: "/etc/ssh",
			Options: "rw,relatime", FSType: "btrfs", Source: "/dev/vda2",
			SuperOptions: "rw,discard=async,space_cache=v2,subvolid=258,subvol=/persist", Line: 1}},
	}, {
		// / mounted from a retired snapshot: the ROOT field is
		// authoritative and kept exactly (field case C18).
		name: "root from a retired snapshot, kept exactly",
		text: "1 0 0:30 /old_roots/2024-11-4_16:22:50 / rw,relatime - btrfs /dev/sda2 rw,subvolid=294,subvol=/old_roots/2024-11-4_16:22:50\n",
		want: []Mount{{ID: 1, Parent: 0, Major: 0, Minor: 30, Root: "/old_roots/2024-11-4_16:22:50", MountPoint: "/",
			Options: "rw,relatime", FSType: "btrfs", Source: "/dev/sda2",
			SuperOptions: "rw,subvolid=294,subvol=/old_roots/2024-11-4_16:22:50", Line: 1}},
	}, {
		name: "missing super options, empty lines, CRLF, no final newline",
		text: "\n70 1 0:60 / /a rw - tmpfs none\r\n   \n\n71 1 0:61 net:[4026531840] /run/netns/x rw - nsfs nsfs rw",
		want: []Mount{
			{ID: 70, Parent: 1, Major: 0, Minor: 60, Root: "/", MountPoint: "/a", Options: "rw", FSType: "tmpfs", Source: "none", Line: 2},
			{ID: 71, Parent: 1, Major: 0, Minor: 61, Root: "net:[4026531840]", MountPoint: "/run/netns/x", Options: "rw",
				FSType: "nsfs", Source: "nsfs", SuperOptions: "rw", Line: 5},
		},
	}, {
		name: "mount point is cleaned, root is not",
		text: "72 1 0:62 /a//b/ /mnt//x/./y/ rw - tmpfs none rw\n",
		want: []Mount{{ID: 72, Parent: 1, Major: 0, Minor: 62, Root: "/a//b/", MountPoint: "/mnt/x/y",
			Options: "rw", FSType: "tmpfs", Source: "none", SuperOptions: "rw", Line: 1}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustParse(t, tt.text)
			if !reflect.DeepEqual(got.Mounts, tt.want) {
				t.Errorf("Parse:\n got %#v\nwant %#v", got.Mounts, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	const ok = "1 0 0:1 / / rw - ext4 /dev/sda1 rw\n"
	tests := []struct {
		name, text, want string
	}{
		{"no separator", ok + "2 1 0:2 / /a rw shared:1 ext4 /dev/sda2 rw\n",
			`mountinfo:2:43: expected optional fields terminated by "-", then FSTYPE SOURCE SUPEROPTIONS; found end of line`},
		{"simplified fixture row", "30 1  /home/alice/.gitconfig  btrfs /dev/vda2 /persist/home/alice/.gitconfig rw\n",
			`mountinfo:1:7: expected MAJOR:MINOR (two decimal numbers), found "/home/alice/.gitconfig"`},
		{"bad id", "x 0 0:1 / / rw - ext4 a rw\n", `mountinfo:1:1: expected mount ID (a decimal number), found "x"`},
		{"signed id", "-1 0 0:1 / / rw - ext4 a rw\n", `mountinfo:1:1: expected mount ID (a decimal number), found "-1"`},
		{"bad parent", "1 +0 0:1 / / rw - ext4 a rw\n", `mountinfo:1:3: expected parent mount ID (a decimal number), found "+0"`},
		{"id overflow", "99999999999999999999 0 0:1 / / rw - ext4 a rw\n",
			`mountinfo:1:1: expected mount ID (a decimal number), found "99999999999999999999"`},
		{"bad major:minor", "1 0 8-1 / / rw - ext4 a rw\n", `mountinfo:1:5: expected MAJOR:MINOR (two decimal numbers), found "8-1"`},
		{"empty minor", "1 0 8: / / rw - ext4 a rw\n", `mountinfo:1:5: expected MAJOR:MINOR (two decimal numbers), found "8:"`},
		{"relative mount point", "1 0 8:1 / mnt rw - ext4 a rw\n", `mountinfo:1:11: expected mount point (an absolute path), found "mnt"`},
		{"truncated after id", "1\n", "mountinfo:1:2: expected parent mount ID, found end of line"},
		{"truncated after root", "1 0 8:1 /\n", "mountinfo:1:10: expected mount point, found end of line"},
		{"truncated after mount point", "1 0 8:1 / /\n", "mountinfo:1:12: expected mount options, found end of line"},
		{"no fstype", "1 0 8:1 / / rw -\n", `mountinfo:1:17: expected filesystem type after "-", found end of line`},
		{"no source", "1 0 8:1 / / rw - ext4\n", "mountinfo:1:22: expected mount source after the filesystem type, found end of line"},
		{"extra field", "1 0 8:1 / / rw - ext4 a rw extra\n", `mountinfo:1:28: expected end of line after super options, found "extra"`},
		{"duplicate id", ok + "\n1 0 0:2 / /a rw - ext4 b rw\n", "mountinfo:3:1: expected a unique mount ID, found 1 again (first on line 1)"},
		// The kernel writes every backslash of a name as \134 (and
		// space, tab, newline as \040, \011, \012): a lone one is not
		// mountinfo, in any field that holds escapes (field case C05).
		{"bad escape \\9", "1 0 8:1 / /a\\9b rw - ext4 a rw\n", `mountinfo:1:13: expected an octal escape \NNN from \000 to \377 after "\", found "\\9b"`},
		{"bad escape \\777", "1 0 8:1 /x\\777 / rw - ext4 a rw\n", `mountinfo:1:11: expected an octal escape \NNN from \000 to \377 after "\", found "\\777"`},
		{"trailing backslash", "1 0 8:1 / / rw - ext4 src\\ rw\n", `mountinfo:1:26: expected an octal escape \NNN from \000 to \377 after "\", found "\\"`},
		{"bad escape in super options", "1 0 8:1 / / rw - btrfs a subvol=/a\\04\n", `mountinfo:1:35: expected an octal escape \NNN from \000 to \377 after "\", found "\\04"`},
		{"empty", "", "mountinfo:1:1: expected a mount table (ID PARENT MAJOR:MINOR ROOT MOUNTPOINT …, one mount per line), found no mount"},
		{"blank lines only", "\n\n", "mountinfo:1:1: expected a mount table (ID PARENT MAJOR:MINOR ROOT MOUNTPOINT …, one mount per line), found no mount"},
		{"long field is cut", "1 0 8:1 / / rw - ext4 a rw " + strings.Repeat("x", 100) + "\n",
			`mountinfo:1:28: expected end of line after super options, found "` + strings.Repeat("x", 64) + `"...`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tbl, err := Parse(strings.NewReader(tt.text), "mountinfo")
			if err == nil {
				t.Fatalf("Parse succeeded with %d mounts, want error %q", len(tbl.Mounts), tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got %s\nwant %s", err, tt.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Errorf("error %T is not a *ParseError", err)
			}
		})
	}
}

func TestParseReadError(t *testing.T) {
	r := iotest.TimeoutReader(strings.NewReader("1 0 0:1 / / rw - ext4 a rw\n"))
	_, err := Parse(iotest.OneByteReader(r), "mi")
	if err == nil || !strings.HasPrefix(err.Error(), "mi:") {
		t.Fatalf("err = %v, want a read error naming mi", err)
	}
}

func TestParseLongLines(t *testing.T) {
	// Longer than bufio's buffer, shorter than MaxLineLen: parsed.
	long := "/" + strings.Repeat("d", 300<<10)
	tbl := mustParse(t, "1 0 0:1 / / rw - ext4 a rw\n2 1 0:2 / "+long+" rw - tmpfs none rw\n3 1 0:3 / /b rw - tmpfs none rw\n")
	if len(tbl.Mounts) != 3 || tbl.Mounts[1].MountPoint != long || tbl.Mounts[2].Line != 3 {
		t.Fatalf("long line not parsed whole: %d mounts", len(tbl.Mounts))
	}
	// Longer than MaxLineLen: refused with its line number.
	huge := "1 0 0:1 / / rw - ext4 a rw\n2 1 0:2 / /" + strings.Repeat("d", MaxLineLen) + " rw - tmpfs none rw\n"
	_, err := Parse(strings.NewReader(huge), "mi")
	if err == nil || !strings.HasPrefix(err.Error(), "mi:2:1: expected a line of at most") {
		t.Fatalf("err = %v, want a line-too-long error on line 2", err)
	}
}

// TestReadFileSelf parses this machine's mount table: it must parse, hold
// the mount at "/", and agree with itself on visibility.
func TestReadFileSelf(t *testing.T) {
	if _, err := os.Stat(DefaultPath); err != nil {
		testutil.SkipOrFatal(t, testutil.RequireHost, fmt.Sprintf("no %s: %v", DefaultPath, err))
	}
	tbl, err := ReadFile("")
	if err != nil {
		t.Fatal(err)
	}
	if len(tbl.Mounts) == 0 {
		t.Fatal("no mounts")
	}
	root := tbl.Shows("/")
	if root == nil || root.MountPoint != "/" {
		t.Fatalf("Shows(/) = %+v, want the mount at /", root)
	}
	for i, m := range tbl.Mounts {
		if m.MountPoint[0] != '/' || pathx.Clean(m.MountPoint) != m.MountPoint {
			t.Errorf("line %d: mount point %q not absolute and clean", m.Line, m.MountPoint)
		}
		if tbl.Visible(i) && tbl.At(m.MountPoint) == nil {
			t.Errorf("line %d: visible mount not found by At(%q)", m.Line, m.MountPoint)
		}
	}
	t.Logf("%d mounts, %d shadowed", len(tbl.Mounts), len(tbl.Shadowed()))
}

func TestReadFileMissing(t *testing.T) {
	_, err := ReadFile("/nonexistent/mountinfo")
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want not-exist", err)
	}
}

// TestParseMaxMounts: a table of more than MaxMounts mounts is an error at
// the first line too many, not gigabytes.
func TestParseMaxMounts(t *testing.T) {
	var b strings.Builder
	b.WriteString("1 0 0:1 / / rw - ext4 /dev/sda1 rw\n")
	for i := 2; i <= MaxMounts+1; i++ {
		fmt.Fprintf(&b, "%d 1 0:2 / /m%d rw - tmpfs none rw\n", i, i)
	}
	_, err := Parse(strings.NewReader(b.String()), "mi")
	want := fmt.Sprintf("mi:%d:1: expected at most %d mounts", MaxMounts+1, MaxMounts)
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err = %v, want %s…", err, want)
	}
}

// TestParseReplacedRootMarker guards the marker the kernel writes after
// the root field of a mount whose root was unlinked since the mount
// (dentry_path's "//deleted"): the path is kept, escapes decoded, and the
// mount flagged Replaced; a file named "deleted" is not; WriteTo writes
// the marker back.
func TestParseReplacedRootMarker(t *testing.T) {
	text := "40 22 0:31 /persist/a\\040b//deleted /etc/a\\040b rw - btrfs /dev/vda2 rw\n" +
		"41 22 0:31 /persist/deleted /srv rw - btrfs /dev/vda2 rw\n"
	tbl := mustParse(t, text)
	m := tbl.Mounts
	if m[0].Root != "/persist/a b" || !m[0].Replaced || m[1].Root != "/persist/deleted" || m[1].Replaced {
		t.Errorf("parsed %+v %+v", m[0], m[1])
	}
	var b strings.Builder
	if _, err := tbl.WriteTo(&b); err != nil || b.String() != text {
		t.Errorf("written %q (%v), want %q", b.String(), err, text)
	}
}
