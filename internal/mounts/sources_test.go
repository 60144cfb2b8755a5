package mounts

import (
	"fmt"
	"math/rand"
	"path"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/pathx"
)

// bindTable is a mountinfo of n bind mounts of one btrfs filesystem (the
// persistent storage subvolume mounted at /nix/persist, then its
// directories bound below /srv and /var/lib), with some roots repeated and
// some nested, in a random order of r.
func bindTable(t *testing.T, n int, r *rand.Rand) *Table {
	t.Helper()
	var b strings.Builder
	b.WriteString("1 0 0:20 / / rw - tmpfs none rw\n")
	b.WriteString("2 1 0:30 /persist /nix/persist rw - btrfs /dev/vda2 rw,subvol=/persist\n")
	for i := 0; i < n; i++ {
		root := fmt.Sprintf("/persist/d%d", r.Intn(n/2+1))
		if r.Intn(3) == 0 {
			root += fmt.Sprintf("/sub%d", r.Intn(4))
		}
		fmt.Fprintf(&b, "%d 1 0:30 %s /srv/m%d rw - btrfs /dev/vda2 rw,subvol=/persist\n", i+3, root, i)
	}
	tab, err := Parse(strings.NewReader(b.String()), "mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// quadraticSource is what Sources.Of answers, by looking at every
// mount of the table: the reference it is checked against.
func quadraticSource(t *Table, mt *Mount) string {
	best, bestRest := (*Mount)(nil), ""
	for i := range t.Mounts {
		sm := &t.Mounts[i]
		if sm == mt || !t.Visible(i) || sm.Replaced || !SameFS(sm, mt) || pathx.Contains(mt.MountPoint, sm.MountPoint) {
			continue
		}
		rest, ok := pathx.Rel(sm.Root, mt.Root)
		if !ok {
			continue
		}
		if best == nil || len(sm.Root) > len(best.Root) {
			best, bestRest = sm, rest
		}
	}
	if best == nil {
		return ""
	}
	return path.Join(best.MountPoint, bestRest)
}

// TestMountSourcesAgreeWithEveryMountLookedAt: the indexed answer is the
// one looking at every mount of the table gives, on tables of bind mounts
// with repeated and nested roots.
func TestMountSourcesAgreeWithEveryMountLookedAt(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for _, n := range []int{1, 5, 40, 300} {
		tab := bindTable(t, n, r)
		ms := NewSources(tab)
		for i := range tab.Mounts {
			mt := &tab.Mounts[i]
			if got, want := ms.Of(mt), quadraticSource(tab, mt); got != want {
				t.Errorf("n=%d, mount %s (root %s): %q, want %q", n, mt.MountPoint, mt.Root, got, want)
			}
		}
	}
}

// TestMountSourcesLinear: the sources of every mount of a table of n bind
// mounts of one filesystem look at O(n) mounts in all, not n² (a
// 200,000-line mountinfo took minutes when each lookup scanned the table).
func TestMountSourcesLinear(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for _, n := range []int{2000, 8000} {
		tab := bindTable(t, n, r)
		sourceVisits.Store(0)
		ms := NewSources(tab)
		for i := range tab.Mounts {
			ms.Of(&tab.Mounts[i])
		}
		if v := sourceVisits.Load(); v > int64(4*n) {
			t.Errorf("%d bind mounts: %d mounts looked at, want at most %d", n, v, 4*n)
		}
	}
}

// TestSourcesLongestRootNotDeleted: the source is named through the
// mount whose root holds the mount's root most closely (/nix/persist, not
// the top level at /t, whose path is shorter), and never through a mount
// whose root was deleted since it was mounted (its mount point names no
// path of the filesystem any more).
func TestSourcesLongestRootNotDeleted(t *testing.T) {
	tab, err := Parse(strings.NewReader(`1 0 0:20 / / rw - tmpfs none rw
2 1 0:30 / /t rw - btrfs /dev/vda2 rw,subvolid=5
3 1 0:30 /persist /nix/persist rw - btrfs /dev/vda2 rw,subvol=/persist
4 1 0:30 /persist/etc//deleted /etc rw - btrfs /dev/vda2 rw,subvol=/persist
5 1 0:30 /persist/etc/ssh /etc/ssh rw - btrfs /dev/vda2 rw,subvol=/persist
`), "mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if got := NewSources(tab).Of(tab.At("/etc/ssh")); got != "/nix/persist/etc/ssh" {
		t.Errorf("source of /etc/ssh = %q, want /nix/persist/etc/ssh", got)
	}
}
