package mounts

import (
	"reflect"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/pathx"
)

// fuzzSeeds are the literal tables of the tests, plus edge cases.
var fuzzSeeds = []string{
	"36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n",
	`60 1 0:50 / /home/alice/VirtualBox\040VMs rw,nosuid shared:40 master:2 - fuse.bindfs bindfs rw,user_id=1000` + "\n" +
		`61 1 0:51 /a\011b\012c\134d /mnt/x\040y\134z rw - fuse.bindfs /nix/persist/VirtualBox\040VMs` + "\n",
	rescueTable,
	"1 0 0:30 /old_roots/2024-11-4_16:22:50 / rw - btrfs /dev/sda2 rw,subvolid=294\n",
	"5 6 0:1 / /a rw - tmpfs x rw\n6 5 0:2 / /a/b rw - tmpfs y rw\n7 7 0:3 / / rw - tmpfs z rw\n",
	"10 11 0:10 / /x rw - tmpfs top rw\n11 1 0:11 / /x rw - tmpfs beneath rw\n",
	"1 0 0:1 / / rw - ext4 a rw\r\n\n2 1 0:2 /\xff /\xfe\\777 rw - tmpfs \\0 rw\n",
	"1 0 8:1 / / rw shared:1 ext4 /dev/sda2 rw\n",
	btrfsMountinfo,
}

func equalIgnoringLines(a, b []Mount) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		x.Line, y.Line = 0, 0
		if !reflect.DeepEqual(x, y) {
			return false
		}
	}
	return true
}

// FuzzParse: Parse never panics; what it accepts is well formed, survives
// WriteTo and Parse again unchanged, and every query answers consistently.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		tbl, err := Parse(strings.NewReader(text), "fuzz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz:") {
				t.Fatalf("error does not name the input: %v", err)
			}
			return
		}
		for _, m := range tbl.Mounts {
			if m.MountPoint == "" || m.MountPoint[0] != '/' || pathx.Clean(m.MountPoint) != m.MountPoint {
				t.Fatalf("mount point %q not absolute and clean", m.MountPoint)
			}
			if m.Line < 1 {
				t.Fatalf("line %d", m.Line)
			}
		}
		var b strings.Builder
		if _, err := tbl.WriteTo(&b); err != nil {
			t.Fatalf("WriteTo: %v", err)
		}
		again, err := Parse(strings.NewReader(b.String()), "again")
		if err != nil {
			t.Fatalf("reparse: %v\n%q", err, b.String())
		}
		if !equalIgnoringLines(tbl.Mounts, again.Mounts) {
			t.Fatalf("round trip differs:\n%q\n%#v\n%#v", b.String(), tbl.Mounts, again.Mounts)
		}

		lit := &Table{Mounts: tbl.Mounts} // no stored index: same answers
		shadowed := 0
		for i, m := range tbl.Mounts {
			vis := tbl.Visible(i)
			if vis != lit.Visible(i) {
				t.Fatalf("Visible(%d) differs without index", i)
			}
			if !vis {
				shadowed++
				continue
			}
			at := tbl.At(m.MountPoint)
			if at == nil || at.MountPoint != m.MountPoint {
				t.Fatalf("visible mount %d not At(%q)", m.ID, m.MountPoint)
			}
			s := tbl.Shows(m.MountPoint + "/x")
			if s == nil || !pathx.Contains(s.MountPoint, m.MountPoint+"/x") || !pathx.Contains(m.MountPoint, s.MountPoint) {
				t.Fatalf("Shows(%q) = %+v", m.MountPoint+"/x", s)
			}
			if got := m.SourcePath(m.MountPoint); got != m.Root {
				t.Fatalf("SourcePath(mount point) = %q, want Root %q", got, m.Root)
			}
			rel := tbl.Relative(m.MountPoint)
			if r := rel.At("/"); r == nil {
				t.Fatalf("Relative(%q) has no visible / mount", m.MountPoint)
			}
			if len(rel.Shadowed()) > shadowedCount(tbl) {
				t.Fatalf("Relative(%q) hides more than the table", m.MountPoint)
			}
			rel2 := tbl.Relative(m.MountPoint + "/x/y")
			if r := rel2.At("/"); r == nil || r.ID != tbl.Shows(m.MountPoint+"/x/y").ID {
				t.Fatalf("Relative(%q/x/y) / mount = %+v", m.MountPoint, r)
			}
		}
		if got := len(tbl.Shadowed()); got != shadowed {
			t.Fatalf("Shadowed has %d entries, %d mounts hidden", got, shadowed)
		}
	})
}

func shadowedCount(t *Table) int { return len(t.Shadowed()) }
