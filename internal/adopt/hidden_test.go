package adopt

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/testutil"
)

// TestUndeclaredBeneathAPersistentMountIsRefused: /var/log is a persistent
// subvolume's mount, declared by nothing; a file written to the root
// before it was mounted lies beneath it, on the wiped root (drift check's
// shadowed, lost at the next boot). drift adopt of it said "not on a
// wiped filesystem (the mount at /var/log survives the wipe): … nothing to
// adopt" and exited 0, and the file was lost at the next boot (field case:
// a log file written before /var/log was mounted). It is refused now,
// naming the wiped root and the mount, with how to keep it by hand; a
// file the mount shows (and nothing beneath), or a mount point with
// nothing beneath but its empty directory, still needs nothing.
func TestUndeclaredBeneathAPersistentMountIsRefused(t *testing.T) {
	dir := t.TempDir()
	root, under := filepath.Join(dir, "root"), filepath.Join(dir, "under")
	testutil.Tree(t, root, "f /var/log/app.log on the subvolume\nf /var/log/both.log on the subvolume\nf /mnt/data/x on the subvolume\nd /nix/persist/srv\n")
	testutil.Tree(t, under, "f /var/log/beneath2.log written before /var/log was mounted\nf /var/log/both.log beneath\nd /mnt/data\n") // /mnt/data: the mount point, empty
	testutil.WriteFile(t, filepath.Join(dir, "mountinfo"), `22 1 0:31 /root / rw - btrfs /dev/vda2 rw,subvol=/root
27 22 0:31 /nix /nix rw - btrfs /dev/vda2 rw,subvol=/nix
28 27 0:31 /persist /nix/persist rw - btrfs /dev/vda2 rw,subvol=/persist
30 22 0:31 /log /var/log rw - btrfs /dev/vda2 rw,subvol=/log
31 22 0:31 /data /mnt/data rw - btrfs /dev/vda2 rw,subvol=/data
`)
	testutil.WriteFile(t, filepath.Join(dir, "p.nix"), `{ environment.persistence."/nix/persist".directories = [ "/srv" ]; }`)
	m, err := audit.Build(context.Background(), audit.Options{Root: root, Persist: []string{filepath.Join(dir, "p.nix")},
		Mountinfo: filepath.Join(dir, "mountinfo"), RootSubvol: "none", OldRoots: "none", Ephemeral: []string{"/"}, Need: audit.NeedMounts})
	testutil.Must(t, err)
	t.Cleanup(m.Close)
	m.Under = func(string) (string, func(), error) { return under, func() {}, nil }
	for _, c := range []struct {
		path  string
		shown bool
	}{{"/var/log/beneath2.log", false}, {"/var/log/both.log", true}, {"/var/log", true}} {
		res, err := Run(context.Background(), m, Options{Paths: []string{c.path}, DryRun: true})
		var he *HiddenUndeclaredError
		var hint *audit.HintError
		if !errors.As(err, &he) || !errors.As(err, &hint) {
			t.Errorf("%s: err %v, res %+v; want it refused as hidden beneath /var/log", c.path, err, res)
			continue
		}
		if !strings.Contains(err.Error(), "lies on the wiped root beneath the mount at /var/log") || strings.Contains(err.Error(), "not on a wiped filesystem") || he.Shown != c.shown {
			t.Errorf("%s: %q (shown %v)", c.path, err, he.Shown)
		}
		if !strings.Contains(hint.Hint, "mount --bind "+root+" /mnt/beneath") {
			t.Errorf("%s: hint %q does not say how to look beneath the mount", c.path, hint.Hint)
		}
	}
	_, err = Run(context.Background(), m, Options{Paths: []string{"/var/log/beneath2.log"}, DryRun: true})
	if h := err.(*audit.HintError); !strings.Contains(h.Hint, "cp -a --reflink=auto /mnt/beneath/var/log/beneath2.log "+root+"/var/log/beneath2.log") {
		t.Errorf("hint %q does not give the copy onto the mount", h.Hint)
	}
	res, err := Run(context.Background(), m, Options{Paths: []string{"/var/log/app.log", "/mnt/data"}, DryRun: true})
	testutil.Must(t, err)
	if len(res.Paths) != 2 || res.Paths[0].Persistent != "/var/log" || res.Paths[1].Persistent != "/mnt/data" {
		t.Errorf("a file only the mount shows, a mount point with nothing beneath: %+v, want them on the persistent mounts", res.Paths)
	}
	if len(res.Paths) == 2 && (res.Paths[0].Unseen != "" || res.Paths[1].Unseen != "") {
		t.Errorf("looked beneath the mounts, but said it did not: %+v", res.Paths)
	}
}

// TestUndeclaredBeneathAMountUnseenWithMountinfo: with an injected mount
// table (--mountinfo) drift cannot look beneath the mounts (Model.Under is
// nil), so of an undeclared path a persistent mount shows it does not
// know whether an object lies at it on the wiped root beneath: adopt says
// so (Path.Unseen, with the wiped filesystem), where before it said only
// that the path is not on a wiped filesystem, which the object beneath,
// deleted at the next boot, is. A path the mount does not show
// (gone.log) is just as unknown beneath it.
func TestUndeclaredBeneathAMountUnseenWithMountinfo(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	testutil.Tree(t, root, "f /var/log/app.log on the subvolume\nd /nix/persist\n")
	testutil.WriteFile(t, filepath.Join(dir, "mountinfo"), `22 1 0:31 /root / rw - btrfs /dev/vda2 rw,subvol=/root
27 22 0:31 /nix /nix rw - btrfs /dev/vda2 rw,subvol=/nix
28 27 0:31 /persist /nix/persist rw - btrfs /dev/vda2 rw,subvol=/persist
30 22 0:31 /log /var/log rw - btrfs /dev/vda2 rw,subvol=/log
`)
	testutil.WriteFile(t, filepath.Join(dir, "p.nix"), `{ environment.persistence."/nix/persist".directories = [ "/srv" ]; }`)
	m, err := audit.Build(context.Background(), audit.Options{Root: root, Persist: []string{filepath.Join(dir, "p.nix")},
		Mountinfo: filepath.Join(dir, "mountinfo"), OldRoots: "none", Ephemeral: []string{"/"}, Need: audit.NeedMounts})
	testutil.Must(t, err)
	t.Cleanup(m.Close)
	if m.Under != nil || m.NoUnder != "--mountinfo" {
		t.Fatalf("model with --mountinfo: Under set %v, NoUnder %q", m.Under != nil, m.NoUnder)
	}
	res, err := Run(context.Background(), m, Options{Paths: []string{"/var/log/app.log", "/var/log/gone.log"}, DryRun: true})
	testutil.Must(t, err)
	for i, want := range []struct{ persistent, unseen, eph string }{
		{"/var/log", "--mountinfo", "/"}, {"/var/log", "--mountinfo", "/"},
	} {
		if p := res.Paths[i]; p.Persistent != want.persistent || p.Unseen != want.unseen || p.Ephemeral != want.eph {
			t.Errorf("%s: persistent %q, unseen %q, ephemeral %q; want %q, %q, %q", p.Path, p.Persistent, p.Unseen, p.Ephemeral, want.persistent, want.unseen, want.eph)
		}
	}
}
