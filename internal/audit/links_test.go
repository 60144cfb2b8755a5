package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/testutil"
	"golang.org/x/sys/unix"
)

// TestLinksIntoStorage: a live link anywhere leads to what it uses — on a
// persistent filesystem (/home its own subvolume), through NixOS's /etc
// chain (/etc/bar → /etc/static/bar → the store's etc → storage), or lost
// on the root through a further link — each with the live link that
// leads there; a link inside the storage path or below /nix (the store
// itself) is not walked for.
func TestLinksIntoStorage(t *testing.T) {
	root := t.TempDir()
	store := "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-etc/etc"
	for _, d := range []string{"home/alice", "nix/persist/alice-keys", "nix/persist/etcsrc", store[1:], "etc", "srv", "nix/persist/x"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		"home/alice/.keys":       "/nix/persist/alice-keys",
		"home/alice/.ssh-old":    "../../nix/persist/x/../etcsrc/ssh",
		"etc/static":             store,
		"etc/bar":                "/etc/static/bar",
		store[1:] + "/bar":       "/nix/persist/etcsrc/bar",
		"srv/hop":                "/etc/static/bar",
		"nix/persist/x/internal": "/nix/persist/etcsrc/internal",
	} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	tab, err := mounts.Parse(strings.NewReader(testMountinfo+"60 22 0:31 /home /home rw - btrfs /dev/vda2 rw,subvol=/home\n"), "mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	hop := &diff.Item{Path: "/srv/hop", Mode: unix.S_IFLNK}
	hop.SetTarget("/etc/static/bar")
	m := &Model{Root: root, Mounts: tab, Audit: &diff.Audit{Lost: []*diff.Item{hop}}}
	m.mountPoints = m.MountPoints()
	want := map[string][]string{
		"/nix/persist/alice-keys":         {"linked from /home/alice/.keys"},
		"/nix/persist/etcsrc/ssh":         {"linked from /home/alice/.ssh-old"},
		"/nix/persist/etcsrc/bar":         {"linked from /etc/bar", "linked from /srv/hop"},
		"/nix/persist/var/lib/postgresql": {"mounted at /var/lib/postgresql (mount 42)"},
	}
	m.inUse = m.uses()
	got := map[string][]string{}
	for _, u := range m.Uses("/nix/persist") {
		got[u.Path] = append(got[u.Path], u.By)
	}
	for p, by := range want {
		g := slices.Clone(got[p])
		slices.Sort(g)
		if !slices.Equal(g, by) {
			t.Errorf("%s: used by %q, want %q", p, g, by)
		}
		delete(got, p)
	}
	if len(got) > 0 {
		t.Errorf("more uses: %q", got)
	}
}

// TestUnmountedStorage: a storage path at or below a mount point the
// configuration or /etc/fstab mounts (the deepest one) that nothing is
// mounted at is the fact (a storage warning about the path); mounted, or
// below a mounted one with nothing configured at it, it is not.
func TestUnmountedStorage(t *testing.T) {
	tab, err := mounts.Parse(strings.NewReader("22 1 0:31 /root / rw - btrfs /dev/vda2 rw,subvol=/root\n27 22 0:31 /nix /nix rw - btrfs /dev/vda2 rw,subvol=/nix\n"), "mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	cfg := &persist.Config{FileSystems: []persist.Mount{{Mount: mounts.Mount{MountPoint: "/"}}, {Mount: mounts.Mount{MountPoint: "/nix"}}, {Mount: mounts.Mount{MountPoint: "/nix/persist"}}}}
	fstab := []FSEntry{{Point: "/state", At: "/etc/fstab:3"}}
	m := &Model{Root: "/", Mounts: tab, Decls: &persist.Set{Config: cfg, Entries: []persist.Entry{{StoragePath: "/nix/persist", Path: "/var/log"}, {StoragePath: "/state/x", Path: "/srv"}, {StoragePath: "/nix/other", Path: "/etc/x"}}}, Fstab: fstab}
	ws := m.unmountedWarnings()
	var got []string
	for _, w := range ws {
		if w.Kind != diff.WarnStorage {
			t.Errorf("kind %q", w.Kind)
		}
		got = append(got, w.Path)
	}
	if !slices.Equal(got, []string{"/nix/persist", "/state/x"}) {
		t.Errorf("unmounted %q, want /nix/persist and /state/x", got)
	}
	if e := m.Unmounted("/state/x"); e == nil || e.MountPoint != "/state" || e.At != "/etc/fstab:3" || e.Hint() != "mount it first: mount /state" {
		t.Errorf("/state/x: %+v", e)
	}
}

// TestTrustedFstab: NixOS's /etc/fstab (a link through /etc/static into
// the store's etc) is read, resolved inside the root; a regular file on
// the root that nothing declares is not (a note says why); declared, it
// is.
func TestTrustedFstab(t *testing.T) {
	root := t.TempDir()
	store := "nix/store/0123456789abcdfghijklmnpqrsvwxyz-etc/etc"
	if err := os.MkdirAll(filepath.Join(root, store), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, store, "fstab"), []byte("/nix/persist/srv /srv none bind 0 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"etc/static": "/" + store, "etc/fstab": "/etc/static/fstab"} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	tab := testTable(t)
	got, note, err := trustedFstab(root, tab, nil)
	if err != nil || note != "" || len(got) != 1 || got[0].Point != "/srv" || got[0].At != "/etc/fstab:1" {
		t.Errorf("generated: %+v %q %v", got, note, err)
	}
	if err := os.Remove(filepath.Join(root, "etc/fstab")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/fstab"), []byte("/nix/persist/srv /srv none bind 0 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, note, err := trustedFstab(root, tab, nil); err != nil || len(got) != 0 || !strings.Contains(note, "the wipe removes") {
		t.Errorf("hand-written: %+v %q %v", got, note, err)
	}
	decls := &persist.Set{Entries: []persist.Entry{{Kind: persist.File, StoragePath: "/nix/persist", Path: "/etc/fstab"}}}
	if got, note, err := trustedFstab(root, tab, decls); err != nil || len(got) != 1 || note != "" {
		t.Errorf("declared: %+v %q %v", got, note, err)
	}
}

// TestLinkChainPastPathMax: a link whose way lies in a tree deeper than
// PATH_MAX (4096 bytes) resolves as a short one: /opt/L leads to
// /opt/d…/d/x/y, where x, 20 directories of 250 bytes down, is a link
// into the storage path. Before, the prefixes past 4096 bytes were
// lstat'ed by their whole name (ENAMETOOLONG) and the chain stopped at
// the long path, so what it uses in /nix/persist was not seen.
func TestLinkChainPastPathMax(t *testing.T) {
	root := t.TempDir()
	name := strings.Repeat("d", 250)
	deep := testutil.MkdirChain(t, filepath.Join(root, "opt"), name, 20)
	if err := unix.Symlinkat("/nix/persist/data", deep, "x"); err != nil {
		t.Fatal(err)
	}
	testutil.Must(t, os.MkdirAll(filepath.Join(root, "nix/persist/data"), 0o755))
	long := "/opt" + strings.Repeat("/"+name, 20) + "/x/y"
	if len(long) <= unix.PathMax {
		t.Fatalf("the path is %d bytes, not past PATH_MAX", len(long))
	}
	got := linkChain(root, "/opt/L", long)
	want := []string{long, "/nix/persist/data/y"}
	if !slices.Equal(got, want) {
		last := got[len(got)-1]
		if len(last) > 100 {
			last = fmt.Sprintf("a path of %d bytes", len(last))
		}
		t.Errorf("chain of %d hops ending at %s, want the long path then /nix/persist/data/y", len(got), last)
	}
}

// TestLinksIntoStorageBeneathALongRoot: the walk of the persistent mounts
// for links into storage (persistentLinks) lists and reads beneath the
// root, in chunks past PATH_MAX, as the resolver looks (fsys.Open,
// fsys.Readlink): a root at a path of some 2,860 bytes (a rescue mount
// deep in a tree) with a link 5 directories of 250 bytes below /home
// (1,271 bytes; past 4,096 with the root's) leads to the storage it uses.
// Before, the
// walk read root+path by its whole name (ENAMETOOLONG) and never saw the
// link.
func TestLinksIntoStorageBeneathALongRoot(t *testing.T) {
	root := filepath.Join(t.TempDir(), strings.Repeat(strings.Repeat("r", 255)+"/", 11))
	testutil.Must(t, os.MkdirAll(filepath.Join(root, "home/alice"), 0o755))
	testutil.Must(t, os.MkdirAll(filepath.Join(root, "nix/persist/alice-keys"), 0o755))
	name := strings.Repeat("d", 250)
	deep := testutil.MkdirChain(t, filepath.Join(root, "home/alice"), name, 5)
	testutil.Must(t, unix.Symlinkat("/nix/persist/alice-keys", deep, "keys"))
	link := "/home/alice" + strings.Repeat("/"+name, 5) + "/keys"
	if n := len(root) + len(link); n <= unix.PathMax {
		t.Fatalf("root and link are %d bytes, not past PATH_MAX", n)
	}
	tab, err := mounts.Parse(strings.NewReader(testMountinfo+"60 22 0:31 /home /home rw - btrfs /dev/vda2 rw,subvol=/home\n"), "mountinfo")
	testutil.Must(t, err)
	m := &Model{Root: root, Mounts: tab, Audit: &diff.Audit{}}
	m.mountPoints = m.MountPoints()
	m.inUse = m.uses()
	var by []string
	for _, u := range m.Uses("/nix/persist") {
		if u.Path == "/nix/persist/alice-keys" {
			by = append(by, u.By)
		}
	}
	if !slices.Equal(by, []string{"linked from " + link}) {
		t.Errorf("/nix/persist/alice-keys used by %d uses, want one: linked from the link %d bytes deep", len(by), len(link))
	}
}
