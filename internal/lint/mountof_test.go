package lint

import (
	"testing"

	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
)

// TestMountOfLongestFirstDeclared: mountOf, through the mount table, gives
// the declared mount with the longest mount point that p has as a prefix,
// component by component and as written, the first declared of equal ones
// (the linear search lint made before it used mounts.Table). Mount points
// are absolute: newChecker leaves out a relative one, which NixOS rejects.
func TestMountOfLongestFirstDeclared(t *testing.T) {
	decl := func(point, fstype string, line int) persist.Mount {
		return persist.Mount{Mount: mounts.Mount{MountPoint: point, FSType: fstype}, Pos: persist.Pos{File: "l.nix", Line: line}}
	}
	ms := []persist.Mount{
		decl("/srv/www", "xfs", 1), decl("/srv", "ext4", 2), decl("/srv", "btrfs", 3),
		decl("/home/alice", "ext4", 4), decl("/srv/www/data", "zfs", 5),
		decl("/home/alice", "xfs", 7), decl("/var/lib", "ext4", 8),
	}
	reference := func(p string) (persist.Mount, bool) {
		best := -1
		for i, m := range ms {
			if pathx.HasPrefix(p, m.MountPoint) && (best < 0 || len(m.MountPoint) > len(ms[best].MountPoint)) {
				best = i
			}
		}
		if best < 0 {
			return persist.Mount{}, false
		}
		return ms[best], true
	}
	ck := &checker{}
	ck.persistent, ck.decl = mountTable(ms)
	for _, p := range []string{"/srv", "/srv/www", "/srv/www/x", "/srv/www/data/y", "/srv/wwwx", "/srv/www/../etc",
		"/srv/./www", "/srv//www", "/srv/www/", "/home/alice/.ssh", "/home/alicex", "/home", "/", "/var/lib/../../x",
		"relative", "/relative", "", "/var", "/var/lib"} {
		got, gotOK := ck.mountOf(p)
		want, wantOK := reference(p)
		if got.MountPoint != want.MountPoint || got.FSType != want.FSType || got.Pos != want.Pos || gotOK != wantOK {
			t.Errorf("mountOf(%q) = %s %s %v %v, want %s %s %v %v", p, got.MountPoint, got.FSType, got.Pos, gotOK, want.MountPoint, want.FSType, want.Pos, wantOK)
		}
	}
}
