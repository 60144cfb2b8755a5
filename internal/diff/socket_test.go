package diff

import (
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"testing"

	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/testutil"
)

// listen makes a socket at p, as a program listening on it does; the
// listener stays open until the test ends.
func listen(t *testing.T, p string) {
	t.Helper()
	l, err := net.Listen("unix", p)
	testutil.Must(t, err)
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	t.Cleanup(func() { l.Close() })
}

// TestSocketsAreNeverLost: a socket is made again by the program listening
// on it, not data: wherever it is — undeclared, in a collapsed directory,
// under a declared directory not mounted, beneath a mount from persistent
// storage — check classifies it recreated, so no adopt is suggested for it
// (a fresh-user test: a shadowed socket got "keep it: drift adopt …", which
// copied 0 files, and check kept asking). The totals say so in both the
// expanded and the collapsed audit (check compares them).
func TestSocketsAreNeverLost(t *testing.T) {
	under := t.TempDir()
	testutil.Tree(t, under, "d /root/hostile")
	listen(t, filepath.Join(under, "root/hostile/sock"))
	spec := "d /srv/app\nf /srv/app/keep x\nd /var/lib/svc\nd /root/hostile\nd /nix/persist/root/hostile\nf /nix/persist/root/hostile/data x\n"
	a := check(t, spec, btrfsSystem+"30 22 0:31 /persist/root/hostile /root/hostile rw - btrfs /dev/vda2 rw,subvol=/persist\n", []persist.Entry{dir("/var/lib/svc"), dir("/root/hostile")}, func(c *Config) {
		root := c.Root
		listen(t, filepath.Join(root, "srv/app/sock"))
		listen(t, filepath.Join(root, "srv/lone.sock"))
		listen(t, filepath.Join(root, "var/lib/svc/sock"))
		c.Under = func(mp string) (string, func(), error) { return under, func() {}, nil }
	})
	wantCats(t, a, map[string]string{
		"/srv":          "unpersisted",
		"/srv/app":      "unpersisted",
		"/srv/app/keep": "unpersisted",
	})
	if got := a.Totals[Recreated].Count; got < 4 {
		t.Errorf("recreated: %d, want the 4 sockets among them", got)
	}
}

// TestSocketsAreNotCountedWithHistory: with a previous root (the walk is
// the lockstep walk, and a directory lost whole lists its entries aside
// before it is counted), a socket inside a lost directory is not counted
// in the directory's entries nor in the totals, as without a history
// and as the paths formats leave it out (a fresh-user test: /srv/app
// counted 43 entries, the paths output listed 42).
func TestSocketsAreNotCountedWithHistory(t *testing.T) {
	prev := previous(t, map[string]string{"/srv/app/keep": "x"})
	for _, collapse := range []bool{false, true} {
		a := check(t, "d /srv/app\nf /srv/app/keep x\n", btrfsSystem, []persist.Entry{dir("/var/lib/svc")}, func(c *Config) {
			listen(t, filepath.Join(c.Root, "srv/app/sock"))
			c.PreviousRoot = prev
			c.Collapse = collapse
		})
		if it := itemAt(a, "/srv/app/sock"); it != nil {
			t.Errorf("collapse %v: the socket is listed: %+v", collapse, it)
		}
		var n int64
		for _, it := range a.Lost {
			n += it.Total().Count
		}
		if got := a.Totals[Unpersisted].Count; got != n || got != 3 {
			t.Errorf("collapse %v: unpersisted total %d, the rows count %d; want 3 (/srv, /srv/app, keep)", collapse, got, n)
		}
	}
}

// TestVanishedLeavesSocketsOut: what vanished at the last reboot follows
// check's rule for sockets (Remade: made again by the program listening on
// it, never lost), in the lockstep walk and in the walk of the previous
// root with one lookup a path alike: a socket in a directory that vanished
// is not counted into its entries, and a socket alone is no row (a
// fresh-user test: before the wipe check left tailscaled.sock out of the
// lost set; after it, VANISHED counted the directory's 3 entries as 4).
func TestVanishedLeavesSocketsOut(t *testing.T) {
	prev := prevTree(t, "f /var/lib/tailscale/tailscaled.state {}\nf /var/lib/tailscale/derpmap.cached.json []\nd /srv\n")
	listen(t, filepath.Join(prev.Dir, "var/lib/tailscale/tailscaled.sock"))
	listen(t, filepath.Join(prev.Dir, "srv/lone.sock"))
	for _, lockstep := range []bool{true, false} {
		func() {
			old := lockstepHistory
			lockstepHistory = lockstep
			defer func() { lockstepHistory = old }()
			a := check(t, "d /var/lib\nd /srv\n", btrfsSystem, []persist.Entry{dir("/var/log")}, func(cfg *Config) { cfg.PreviousRoot = prev })
			var got []string
			for _, v := range a.Vanished {
				got = append(got, fmt.Sprintf("%s %d %d", v.Path, v.Entries, v.Bytes))
			}
			if want := []string{"/var/lib/tailscale 3 4"}; !slices.Equal(got, want) {
				t.Errorf("lockstep %v: vanished %q, want %q", lockstep, got, want)
			}
		}()
	}
}
