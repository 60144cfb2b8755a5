package btrfs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/testutil"
)

// TestSubvolViewNotBtrfs: --root-subvol PATH on a root that is not a btrfs
// subvolume fails before the top level is opened, naming what is there.
func TestSubvolViewNotBtrfs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		table *mounts.Table
		want  string
	}{
		{"tmpfs", mounts.New([]mounts.Mount{{ID: 1, Parent: 1, Root: "/", MountPoint: "/", FSType: "tmpfs"}}), "/sysroot shows a tmpfs, not a btrfs subvolume"},
		{"nothing", mounts.New(nil), "/sysroot shows nothing, not a btrfs subvolume"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lt := NewLazyTop(context.Background(), "/sysroot", nil)
			under, err := SubvolView(ViewOptions{Root: "/sysroot", Table: tc.table, Top: lt}, "/root")
			if under != nil || err == nil || err.Error() != tc.want {
				t.Errorf("SubvolView = %v, %v; want the error %q", under != nil, err, tc.want)
			}
			if lt.done {
				t.Error("the top level was opened")
			}
		})
	}
}

// TestAutoViewNotBtrfs: on a root that is not btrfs, every mount (the root
// too) is looked under with open_tree, and the top level is never opened;
// NoOpenTree makes that fail with ENOSYS naming the mount point.
func TestAutoViewNotBtrfs(t *testing.T) {
	lt := NewLazyTop(context.Background(), "/sysroot", nil)
	table := mounts.New([]mounts.Mount{{ID: 1, Parent: 1, Root: "/", MountPoint: "/", FSType: "ext4"}})
	under := AutoView(ViewOptions{Root: "/sysroot", Table: table, Top: lt, NoOpenTree: true})
	for _, mp := range []string{"/", "/var/log"} {
		_, _, err := under(mp)
		var pe *os.PathError
		if !errors.Is(err, unix.ENOSYS) || !errors.As(err, &pe) || pe.Op != "open_tree" || pe.Path != filepath.Join("/sysroot", mp) {
			t.Errorf("under(%s) error = %v, want open_tree ENOSYS on its path", mp, err)
		}
	}
	if lt.done {
		t.Error("the top level was opened")
	}
}

func TestNotLiveError(t *testing.T) {
	err := error(&NotLiveError{ID: 258, Root: "/", LiveID: 256, LivePath: "root", Source: "/dev/vda2"})
	if got, want := err.Error(), "subvolume 258, but / is subvolume 256 (/root on /dev/vda2)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	inner := errors.New("operation not permitted")
	if te := (&TopError{Err: inner}); te.Error() != inner.Error() || !errors.Is(te, inner) {
		t.Errorf("TopError %q does not read as or wrap %q", te, inner)
	}
}

func TestPreviousNote(t *testing.T) {
	at := time.Date(2026, 11, 10, 8, 0, 0, 0, time.FixedZone("CET", 3600))
	for _, tc := range []struct {
		p    Recent
		want string
	}{
		{Recent{Roots: []OldRoot{{Path: "old_roots/2026-11-10_09:00:00", Time: at}}, InTop: true, Source: "/dev/vda2", Dir: "old_roots"},
			"the previous boot's root is /dev/vda2:/old_roots/2026-11-10_09:00:00 (2026-11-10T07:00:00Z)"},
		{Recent{InTop: true, Source: "/dev/vda2", Dir: "nixos/old_roots"}, "no old root in /dev/vda2:/nixos/old_roots"},
		{Recent{Roots: []OldRoot{{Path: "/mnt/old/2026-11-10_09:00:00", Time: at}}, Dir: "/mnt/old"},
			"the previous boot's root is /mnt/old/2026-11-10_09:00:00 (2026-11-10T07:00:00Z)"},
		{Recent{Dir: "/mnt/old"}, "no old root in /mnt/old"},
	} {
		if got := tc.p.Note(); got != tc.want {
			t.Errorf("Note() = %q, want %q", got, tc.want)
		}
	}
}

// TestPreviousRootIn: in a directory of old roots, the newest by real time
// that is not the live root; a missing directory is an error.
func TestPreviousRootIn(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"2026-11-9_08:00:00", "2026-11-10_08:00:00", "2026-11-10_09:00:00", "manual-backup"} {
		testutil.Must(t, os.Mkdir(dir+"/"+n, 0o755))
	}
	p, err := RecentRootsIn(dir, dir+"/2026-11-10_09:00:00", 1)
	if err != nil || len(p.Roots) != 1 || p.InTop || p.Roots[0].Name != "2026-11-10_08:00:00" || p.Dir != dir {
		t.Errorf("RecentRootsIn(1) = %+v, %v; want 2026-11-10_08:00:00 (the newest is the live root)", p, err)
	}
	// Counted: two old roots; not the live root, not manual-backup.
	if p.Count != 2 {
		t.Errorf("RecentRootsIn(1): Count = %d, want 2", p.Count)
	}
	if p, err := RecentRootsIn(dir+"/missing", "/", 1); err == nil || len(p.Roots) > 0 {
		t.Errorf("RecentRootsIn(missing) = %+v, %v; want an error", p, err)
	}
}
