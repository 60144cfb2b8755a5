package diff

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/testutil"
	"golang.org/x/sys/unix"
)

func table(t testing.TB, text string) *mounts.Table {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	tb, err := mounts.Parse(strings.NewReader(strings.Join(lines, "\n")+"\n"), "mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func dir(p string) persist.Entry {
	return persist.Entry{Kind: persist.Dir, StoragePath: "/nix/persist", Path: p, Origin: &persist.Origin{Module: "impermanence"}}
}

func file(p string) persist.Entry {
	return persist.Entry{Kind: persist.File, StoragePath: "/nix/persist", Path: p, Origin: &persist.Origin{Module: "impermanence"}}
}

// btrfsSystem is the seed's layout: root, nix, persist, log subvolumes.
const btrfsSystem = `
22 1 0:31 /root / rw shared:1 - btrfs /dev/vda2 rw,subvol=/root
27 22 0:31 /nix /nix rw shared:14 - btrfs /dev/vda2 rw,subvol=/nix
28 27 0:31 /persist /nix/persist rw shared:15 - btrfs /dev/vda2 rw,subvol=/persist
29 22 0:31 /log /var/log rw shared:16 - btrfs /dev/vda2 rw,subvol=/log
24 22 0:22 / /proc rw - proc proc rw
`

func check(t *testing.T, spec, mountinfo string, decls []persist.Entry, mod func(*Config)) *Audit {
	t.Helper()
	root := t.TempDir()
	testutil.Tree(t, root, spec)
	cfg := Config{Root: root, Mounts: table(t, mountinfo), Decls: &persist.Set{Entries: decls}}
	if mod != nil {
		mod(&cfg)
	}
	a, err := Check(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PreviousRoot != nil && foldWalk {
		// With a previous root, Check's one walk says what the
		// classification walk and the lockstep walk apart say.
		foldWalk = false
		b, err := Check(context.Background(), cfg)
		foldWalk = true
		if err != nil {
			t.Fatal(err)
		}
		sameAudit(t, a, b)
	}
	if cfg.Progress == nil {
		// Every fixture also proves that a collapsed audit says the same
		// as an expanded one (with a previous root: the same histories,
		// a directory standing for its contents only where they all have
		// its history).
		cfg.Collapse = !cfg.Collapse
		b, err := Check(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Collapse {
			sameCollapsed(t, a, b)
		} else {
			sameCollapsed(t, b, a)
		}
	}
	return a
}

// sameCollapsed checks that c, an audit of the same tree with
// Config.Collapse, says what a (without it) says: the same totals, scan
// count and errors; each item of c is a's item of that path; and an item
// of c that stands for its contents (Below) stands for exactly a's items
// below it, all of its category, which c leaves out.
func sameCollapsed(t *testing.T, a, c *Audit) {
	t.Helper()
	if !c.Collapsed || a.Collapsed {
		t.Fatalf("Collapsed: %v and %v, want false and true", a.Collapsed, c.Collapsed)
	}
	if fmt.Sprint(a.Totals) != fmt.Sprint(c.Totals) || a.Scanned != c.Scanned || len(a.Errors) != len(c.Errors) {
		t.Errorf("collapsed audit: totals %v, scanned %d, %d errors; expanded: %v, %d, %d", c.Totals, c.Scanned, len(c.Errors), a.Totals, a.Scanned, len(a.Errors))
	}
	i := 0
	for _, it := range c.Lost {
		for i < len(a.Lost) && a.Lost[i].Path != it.Path {
			t.Errorf("collapsed audit lacks %q (%s)", a.Lost[i].Path, a.Lost[i].Category)
			i++
		}
		if i == len(a.Lost) {
			t.Errorf("collapsed audit has %q, which the expanded one lacks", it.Path)
			return
		}
		want, wantTarget := *a.Lost[i], a.Lost[i].Target()
		i++
		var below Total
		for ; i < len(a.Lost) && strings.HasPrefix(a.Lost[i].Path, it.Path+"/"); i++ {
			if it.Below() == (Total{}) {
				break
			}
			if a.Lost[i].History != it.History {
				t.Errorf("%q stands for %q, of another history (%s, not %s)", it.Path, a.Lost[i].Path, a.Lost[i].History, it.History)
			}
			if a.Lost[i].Category != it.Category {
				t.Errorf("%q stands for %q, of another category (%s, not %s)", it.Path, a.Lost[i].Path, a.Lost[i].Category, it.Category)
			}
			below.Count++
			if a.Lost[i].Mode&unix.S_IFMT == unix.S_IFREG {
				below.Bytes += a.Lost[i].Size
			}
		}
		got := *it
		got.rare, want.rare = nil, nil // compared by what they hold: Target, Below
		if got != want || it.Target() != wantTarget || it.Below() != below {
			t.Errorf("collapsed item %+v (below %v), want %+v (below %v)", got, it.Below(), want, below)
		}
	}
	for ; i < len(a.Lost); i++ {
		t.Errorf("collapsed audit lacks %q (%s)", a.Lost[i].Path, a.Lost[i].Category)
	}
}

// cats maps each lost path to its category name.
func cats(a *Audit) map[string]string {
	m := map[string]string{}
	for _, it := range a.Lost {
		m[it.Path] = it.Category.String()
	}
	return m
}

func wantCats(t *testing.T, a *Audit, want map[string]string) {
	t.Helper()
	got := cats(a)
	for p, c := range want {
		if got[p] != c {
			t.Errorf("%q: category %q, want %q", p, got[p], c)
		}
	}
	for p, c := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%q: unexpected lost path (%s)", p, c)
		}
	}
}

func TestCheckCategories(t *testing.T) {
	spec := `
f /imperm_test/testfile This should be Gone after Reboot
d /etc/nixos
f /etc/nixos/configuration.nix {}
f /etc/shadow root:HASH
l /etc/static -> /nix/store/abc-etc/etc
l /etc/hostname -> /etc/static/hostname
l /etc/ssh/ssh_config -> /etc/static/ssh/ssh_config
f /etc/ssh/ssh_host_ed25519_key KEY
l /bin/sh -> /nix/store/abc-bash/bin/sh
l /usr/bin/env -> /nix/store/abc-coreutils/bin/env
l /usr/local/bin/rg -> /nix/store/abc-ripgrep/bin/rg
f /var/log/journal/x.journal kept
f /nix/persist/etc/nixos/configuration.nix kept
f /opt/old/state.json {}
d /opt/old/sub
f /srv/declared/data.db xyz
d /srv/declared-empty
f /tmp/session lost-but-ignored
`
	mi := btrfsSystem + `
40 22 0:31 /persist/etc/nixos /etc/nixos rw - btrfs /dev/vda2 rw,subvol=/persist
41 22 0:31 /persist/opt/old /opt/old rw - btrfs /dev/vda2 rw,subvol=/persist
`
	decls := []persist.Entry{dir("/etc/nixos"), dir("/srv/declared"), dir("/srv/declared-empty")}
	ig := &Ignore{}
	testutil.Must(t, ig.Add("/tmp", "test"))
	a := check(t, spec, mi, decls, func(c *Config) { c.Ignore = ig })
	wantCats(t, a, map[string]string{
		"/imperm_test":                  "unpersisted",
		"/imperm_test/testfile":         "unpersisted",
		"/etc/shadow":                   "unpersisted",
		"/etc/ssh/ssh_host_ed25519_key": "unpersisted",
		"/usr/local":                    "unpersisted",
		"/usr/local/bin":                "unpersisted",
		"/usr/local/bin/rg":             "unpersisted",
		"/opt/old":                      "unmounted",
		"/opt/old/state.json":           "unmounted",
		"/opt/old/sub":                  "unmounted",
		"/opt":                          "unpersisted",
		"/srv/declared/data.db":         "declared-unbacked",
		"/tmp":                          "ignored",
		"/tmp/session":                  "ignored",
	})
	if got := a.Totals[Ignored].Count; got != 2 {
		t.Errorf("ignored count %d, want 2", got)
	}
	// Re-created: /etc, /etc/static, /etc/hostname, /etc/ssh, /etc/ssh/ssh_config,
	// /bin, /bin/sh, /usr, /usr/bin, /usr/bin/env, /var, /srv, /srv/declared,
	// /srv/declared-empty. (/nix and /etc/nixos are persistent mounts.)
	if got := a.Totals[Recreated].Count; got != 14 {
		t.Errorf("recreated count %d, want 14", got)
	}
	var warned bool
	for _, w := range Messages(a.Warnings) {
		if strings.Contains(w, "/srv/declared-empty") && strings.Contains(w, "not mounted") {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no warning for the unmounted declared directory /srv/declared-empty: %q", a.Warnings)
	}
}

func TestCheckNotImpermanent(t *testing.T) {
	root := t.TempDir()
	_, err := Check(context.Background(), Config{Root: root, Mounts: table(t, btrfsSystem)})
	if !errors.Is(err, ErrNotImpermanent) {
		t.Fatalf("err = %v, want ErrNotImpermanent", err)
	}
	if !strings.Contains(err.Error(), "btrfs subvolume /root from /dev/vda2") {
		t.Errorf("error does not say what is at /: %v", err)
	}
	// A tmpfs root needs no declarations.
	testutil.Tree(t, root, "f /x y")
	a, err := Check(context.Background(), Config{Root: root, Mounts: table(t, "1 0 0:20 / / rw - tmpfs none rw")})
	if err != nil {
		t.Fatal(err)
	}
	wantCats(t, a, map[string]string{"/x": "unpersisted"})
	// --ephemeral / makes any root ephemeral.
	a, err = Check(context.Background(), Config{Root: root, Mounts: table(t, btrfsSystem), Ephemeral: []string{"/"}})
	if err != nil {
		t.Fatal(err)
	}
	wantCats(t, a, map[string]string{"/x": "unpersisted"})
}

// TestDeclaredFilePresentButNotBacked: a declared file that exists proves
// nothing; what backs it counts (field case C02: the file was there after
// the switch, but not bind-mounted). Its persistent copy (120 B, older)
// differs: lost, the stale copy named (it comes back in its place), and a
// warning like a directory's.
func TestDeclaredFilePresentButNotBacked(t *testing.T) {
	spec := `
f /home/alice/topfile 0123456789
f /nix/persist/home/alice/.zsh/history-extra ` + strings.Repeat("o", 120) + `
f /home/alice/.zsh/history-extra ` + strings.Repeat("h", 700)
	mi := btrfsSystem + `41 22 0:31 /persist/home/alice/topfile /home/alice/topfile rw - btrfs /dev/vda2 rw`
	decls := []persist.Entry{file("/home/alice/topfile"), file("/home/alice/.zsh/history-extra")}
	decls[0].Owner, decls[1].Owner = "alice", "alice"
	a := check(t, spec, mi, decls, nil)
	wantCats(t, a, map[string]string{"/home/alice/.zsh/history-extra": "declared-unbacked"})
	it := a.Lost[0]
	if it.Size != 700 || it.Decl != 1 || it.Copy != CopyDiffers {
		t.Errorf("item %+v: want size 700, declaration 1 and the stale copy", it)
	}
	if !hasWarning(a, "declared-unbacked: /home/alice/.zsh/history-extra ", "not mounted") {
		t.Errorf("no warning for the declared file: %q", a.Warnings)
	}
}

// TestLaterMountOfParentHidesBoundFile: a tmpfs mounted later over the
// home hides the file bind mount made before it (field case C03): the
// file on the tmpfs is declared-unbacked, the hidden mount is a warning.
func TestLaterMountOfParentHidesBoundFile(t *testing.T) {
	spec := `
f /home/alice/.gitconfig ` + strings.Repeat("g", 300) + `
d /home/alice/Code
f /home/alice/Code/main.go package main`
	spec += "\nf /nix/persist/home/alice/.gitconfig " + strings.Repeat("o", 250)
	mi := btrfsSystem + `
30 22 0:31 /persist/home/alice/.gitconfig /home/alice/.gitconfig rw - btrfs /dev/vda2 rw
35 22 0:40 / /home/alice rw - tmpfs none rw,mode=700
36 35 0:31 /persist/home/alice/Code /home/alice/Code rw - btrfs /dev/vda2 rw`
	decls := []persist.Entry{file("/home/alice/.gitconfig"), dir("/home/alice/Code")}
	a := check(t, spec, mi, decls, nil)
	wantCats(t, a, map[string]string{"/home/alice/.gitconfig": "declared-unbacked"})
	if it := itemAt(a, "/home/alice/.gitconfig"); it == nil || it.Size != 300 || it.Copy != CopyDiffers {
		t.Errorf(".gitconfig %+v: want 300 B on the tmpfs, the 250 B copy named", it)
	}
	if !slices.ContainsFunc(Messages(a.Warnings), func(w string) bool {
		return strings.Contains(w, "mount 30 (/home/alice/.gitconfig) is over-mounted by mount 35 (/home/alice)")
	}) {
		t.Errorf("no over-mount warning: %q", a.Warnings)
	}
	if len(a.Ephemeral) != 2 || a.Ephemeral[1].MountPoint != "/home/alice" {
		t.Errorf("ephemeral mounts %v: want / and the tmpfs at /home/alice", a.Ephemeral)
	}
}

// TestPathsComparedComponentWise: paths are compared component by
// component, never as strings (field case C04: a substring match skipped a
// needed bind mount); a dataset inside the storage path is not a mount of
// the live path.
func TestPathsComparedComponentWise(t *testing.T) {
	spec := `
f /home/alice/Downloads/iso.img ISO
d /home/alice/Documents
f /home/alice/Documents/cv.pdf PDF
f /home/alice/Down/x y`
	mi := btrfsSystem + `
50 28 0:50 / /nix/persist/home/alice/Downloads rw - zfs tank/alice/dl rw
51 22 0:51 / /home/alice/Documents rw - fuse.bindfs /nix/persist/home/alice/Documents rw,user_id=1000`
	hm := func(p string) persist.Entry {
		// Home-manager v1: the storage path holds the home already.
		src := "/nix/persist/home/alice" + strings.TrimPrefix(p, "/home/alice")
		e := persist.Entry{Kind: persist.Dir, StoragePath: "/nix/persist/home/alice", Path: p, Origin: &persist.Origin{Module: "home-manager", Method: "bindfs"}}
		e.SetSourcePath(src)
		return e
	}
	a := check(t, spec, mi, []persist.Entry{hm("/home/alice/Downloads"), hm("/home/alice/Documents")}, nil)
	wantCats(t, a, map[string]string{
		"/home/alice/Downloads/iso.img": "declared-unbacked",
		"/home/alice/Down":              "unpersisted",
		"/home/alice/Down/x":            "unpersisted",
	})
	// The source of Downloads is a dataset of its own, persistent: not
	// flagged, and it holds no iso.img (the copy is missing, not stale).
	if it := itemAt(a, "/home/alice/Downloads/iso.img"); it == nil || it.Copy != CopyMissing {
		t.Errorf("iso.img %+v: want no copy", it)
	}
	if hasWarning(a, "covered:", "") || hasWarning(a, "", "tank/alice/dl") {
		t.Errorf("warnings %q", a.Warnings)
	}
}

// TestEscapedAndUTF8MountPoints: escaped mount points, a FUSE source shown
// as "bindfs" and UTF-8 names are matched byte for byte (field case C05).
func TestEscapedAndUTF8MountPoints(t *testing.T) {
	arabic := "/home/alice/المستندات"
	spec := "d " + arabic + "\nd /home/alice/VirtualBox VMs\n"
	mi := btrfsSystem + `60 22 0:60 / /home/alice/VirtualBox\040VMs rw - fuse.bindfs bindfs rw,user_id=1000,allow_other`
	a := check(t, spec, mi, []persist.Entry{dir(arabic), dir("/home/alice/VirtualBox VMs")}, nil)
	wantCats(t, a, map[string]string{})
	if !slices.ContainsFunc(Messages(a.Warnings), func(w string) bool { return strings.Contains(w, arabic) && strings.Contains(w, "not mounted") }) {
		t.Errorf("no declared-unbacked warning for %s: %q", arabic, a.Warnings)
	}
}

// TestDeclaredFilesLeftOnTheRoot: declared files that are regular files
// on the ephemeral root (SSH host keys not bind-mounted, field case C07's
// live part), a file declared as a directory, a symlink-method file a
// program replaced by a regular file on saving (C23) are declared-unbacked;
// a correct symlink into storage (Steam's, C22) is re-created.
func TestDeclaredFilesLeftOnTheRoot(t *testing.T) {
	spec := `
f /etc/ssh/ssh_host_ed25519_key K2
f /etc/ssh/ssh_host_ed25519_key.pub P2
f /etc/wpa_supplicant.conf network={}
f /home/alice/.local/share/recently-used.xbel <xbel/>
l /home/alice/.local/share/Steam -> /nix/persist/home/alice/.local/share/Steam`
	xbel := file("/home/alice/.local/share/recently-used.xbel")
	xbel.Method = "symlink"
	steam := file("/home/alice/.local/share/Steam")
	steam.Method = "symlink"
	decls := []persist.Entry{file("/etc/ssh/ssh_host_ed25519_key"), file("/etc/ssh/ssh_host_ed25519_key.pub"), dir("/etc/wpa_supplicant.conf"), xbel, steam}
	a := check(t, spec, btrfsSystem, decls, nil)
	wantCats(t, a, map[string]string{
		"/etc/ssh/ssh_host_ed25519_key":               "declared-unbacked",
		"/etc/ssh/ssh_host_ed25519_key.pub":           "declared-unbacked",
		"/etc/wpa_supplicant.conf":                    "declared-unbacked",
		"/home/alice/.local/share/recently-used.xbel": "declared-unbacked",
	})
}

// TestTransientTmpfsOverPersistedFile: a transient tmpfs over the
// persisted /etc/machine-id hides the persisted one: declared-unbacked,
// with a warning naming the tmpfs (field case C08, variant B).
func TestTransientTmpfsOverPersistedFile(t *testing.T) {
	mi := btrfsSystem + `
70 22 0:31 /persist/etc/machine-id /etc/machine-id rw - btrfs /dev/vda2 rw
71 70 0:71 /machine-id /etc/machine-id ro - tmpfs tmpfs ro,mode=755`
	a := check(t, "f /etc/machine-id 3333", mi, []persist.Entry{file("/etc/machine-id")}, nil)
	wantCats(t, a, map[string]string{"/etc/machine-id": "declared-unbacked"})
	if !slices.ContainsFunc(Messages(a.Warnings), func(w string) bool {
		return strings.Contains(w, "/etc/machine-id is covered by a transient tmpfs (mount 71)")
	}) {
		t.Errorf("no transient tmpfs warning: %q", a.Warnings)
	}
}

// TestShadowChangedAtRunTimeIsLost: /etc/shadow changed at run time (a
// password set with passwd) is on the ephemeral root and reverts at the
// next boot (field case C09).
func TestShadowChangedAtRunTimeIsLost(t *testing.T) {
	a := check(t, "f /etc/shadow alice:HASH-B", btrfsSystem, []persist.Entry{dir("/var/lib/nixos")}, nil)
	wantCats(t, a, map[string]string{"/etc/shadow": "unpersisted"})
}

func TestIgnore(t *testing.T) {
	ig := &Ignore{}
	testutil.Must(t, ig.Add("/var/cache", "t"))
	testutil.Must(t, ig.Add("*.tmp", "t"))
	testutil.Must(t, ig.Add("/home/*/.cache/", "t"))
	for p, want := range map[string]bool{
		"/var/cache":               true,
		"/var/cache/x/y":           true,
		"/var/cachex":              false,
		"/a/b.tmp":                 true,
		"/a/b.tmp/c":               true,
		"/a/b.tmpx":                false,
		"/home/alice/.cache/x":     true,
		"/home/alice/x/.cache/foo": false,
	} {
		if got := ig.Match(p); got != want {
			t.Errorf("Match(%q) = %v, want %v", p, got, want)
		}
	}
	for _, p := range []string{"/usr/share/../lib", "/a//b", "/a/./b"} {
		if err := ig.Add(p, "t"); err == nil || !strings.Contains(err.Error(), "clean path") {
			t.Errorf("Add(%q): %v, want an error asking for a clean path", p, err)
		}
	}
	if err := ig.Add("a/b", "f:3"); err == nil || !strings.Contains(err.Error(), "f:3") {
		t.Errorf("relative pattern with / accepted or error without position: %v", err)
	}
	if err := ig.AddReader(strings.NewReader("# c\n\n/ok\n[\n"), "ignore"); err == nil || !strings.Contains(err.Error(), "ignore:4") {
		t.Errorf("bad pattern error %v, want ignore:4", err)
	}
}

func TestMayMatchBelow(t *testing.T) {
	for _, tc := range []struct {
		rules []string
		dir   string
		want  bool
	}{
		{nil, "/var", false},
		{[]string{"*.tmp"}, "/var/lib", true},
		{[]string{"/var/cache"}, "/var", true},
		{[]string{"/var/cache"}, "/var/cache", false}, // it matches dir itself
		{[]string{"/var/cache"}, "/var/lib", false},
		{[]string{"/var/cache"}, "/var/cachex", false},
		{[]string{"/var/cache/*"}, "/var/cache/apt", true},
		{[]string{"/home/*/.cache"}, "/home", true},
		{[]string{"/home/*/.cache"}, "/home/alice", true},
		{[]string{"/home/*/.cache"}, "/srv", false},
		{[]string{"/v[a]r/x"}, "/var", true},
		{[]string{"/v[a]r/x"}, "/opt", false},
		{[]string{"/var/cache*"}, "/var/cachex", true},
		{[]string{"/*"}, "/opt", true},
		{[]string{"/"}, "/opt", false},
		{[]string{"/opt\\/x"}, "/opt", true},
		{[]string{"/srv/a", "/var/lib/x"}, "/var/lib", true},
	} {
		ig := &Ignore{}
		for _, r := range tc.rules {
			testutil.Must(t, ig.Add(r, "t"))
		}
		if got := ig.MayMatchBelow(tc.dir); got != tc.want {
			t.Errorf("rules %q: MayMatchBelow(%q) = %v, want %v", tc.rules, tc.dir, got, tc.want)
		}
	}
}

// The walk is parallel; the result must not be: the same tree gives the same
// lost set in the same order (pathx.Compare order) every time.
func TestCheckDeterministic(t *testing.T) {
	root := t.TempDir()
	var spec strings.Builder
	for i := 0; i < 40; i++ {
		for j := 0; j < 30; j++ {
			fmt.Fprintf(&spec, "f /d%d/s%d/f%d x\n", i%7, i, j)
		}
		fmt.Fprintf(&spec, "f /d%d-x/f%d y\nf /d%d.x/f%d z\n", i%7, i, i%7, i)
	}
	spec.WriteString("f /srv/declared/a b\nl /bin/sh -> /nix/store/x/bin/sh\n")
	testutil.Tree(t, root, spec.String())
	var first []string
	for run := 0; run < 5; run++ {
		a, err := Check(context.Background(), Config{Root: root, Mounts: table(t, btrfsSystem), Decls: &persist.Set{Entries: []persist.Entry{dir("/srv/declared")}}, Workers: 4})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for i, it := range a.Lost {
			got = append(got, it.Path+" "+it.Category.String())
			if i > 0 && pathx.Compare(a.Lost[i-1].Path, it.Path) >= 0 {
				t.Fatalf("run %d: %q before %q", run, a.Lost[i-1].Path, it.Path)
			}
		}
		if run == 0 {
			first = got
			if len(got) != 1200+40+40+7+7+7+40+1 {
				t.Fatalf("%d lost paths", len(got))
			}
			continue
		}
		if !slices.Equal(got, first) {
			t.Fatalf("run %d differs from run 0", run)
		}
	}
}

// TestLiveRootIsRetiredSnapshot: / mounted from a retired snapshot in
// old_roots, as the ROOT field of mountinfo says, is a warning (the system
// booted an old root: field case C18).
func TestLiveRootIsRetiredSnapshot(t *testing.T) {
	mi := `
1 0 0:31 /old_roots/2024-11-4_16:22:50 / rw - btrfs /dev/sda2 rw,subvolid=294
20 1 0:31 /nix /nix rw - btrfs /dev/sda2 rw,subvolid=258
21 1 0:31 /persist /persist rw - btrfs /dev/sda2 rw,subvolid=259`
	d := dir("/var/lib/nixos")
	d.StoragePath = "/persist"
	a := check(t, "f /etc/x y", mi, []persist.Entry{d}, nil)
	if !slices.ContainsFunc(Messages(a.Warnings), func(w string) bool {
		return strings.Contains(w, "/ is mounted from /old_roots/2024-11-4_16:22:50")
	}) {
		t.Errorf("no warning that / is a retired old root: %q", a.Warnings)
	}
	wantCats(t, a, map[string]string{"/etc/x": "unpersisted"})
}

// A declared directory bind-mounted from another source than its declared
// one: the next boot mounts the declared source, so what shows now goes.
func TestDeclaredWrongSource(t *testing.T) {
	mi := btrfsSystem + `40 22 0:31 /persist/elsewhere /srv rw - btrfs /dev/vda2 rw`
	a := check(t, "f /srv/data.db x", mi, []persist.Entry{dir("/srv")}, nil)
	wantCats(t, a, map[string]string{"/srv": "unmounted", "/srv/data.db": "unmounted"})
	if !slices.ContainsFunc(Messages(a.Warnings), func(w string) bool {
		return strings.Contains(w, "/srv is mounted from /nix/persist/elsewhere, but it is declared with the source /nix/persist/srv")
	}) {
		t.Errorf("no wrong-source warning: %q", a.Warnings)
	}
	// The right source is fine.
	mi = btrfsSystem + `40 22 0:31 /persist/srv /srv rw - btrfs /dev/vda2 rw`
	a = check(t, "f /srv/data.db x", mi, []persist.Entry{dir("/srv")}, nil)
	wantCats(t, a, map[string]string{})
}

// TestBindfsMountUnreadableByRootIsBacked: a home-manager bindfs mount
// root cannot read is backed by its mount table entry, and a
// symlink-method directory pointing into storage is backed (field
// case C22).
func TestBindfsMountUnreadableByRootIsBacked(t *testing.T) {
	spec := `
d /home/alice/Music
l /home/alice/.local/share/Steam -> /nix/persist/home/alice/.local/share/Steam
l /home/alice/.local/share/Other -> /nix/persist/home/alice/elsewhere`
	mi := btrfsSystem + `80 22 0:80 / /home/alice/Music rw,nosuid,nodev - fuse.bindfs /nix/persist/home/alice/Music rw,user_id=1000,group_id=100,default_permissions`
	hm := func(p, method string) persist.Entry {
		e := persist.Entry{Kind: persist.Dir, StoragePath: "/nix/persist/home/alice", Path: "/home/alice/" + p,
			Origin: &persist.Origin{Module: "home-manager", Method: method}}
		e.SetSourcePath("/nix/persist/home/alice/" + p)
		return e
	}
	a := check(t, spec, mi, []persist.Entry{hm("Music", "bindfs"), hm(".local/share/Steam", "symlink"), hm(".local/share/Other", "symlink")}, nil)
	wantCats(t, a, map[string]string{"/home/alice/.local/share/Other": "declared-unbacked"})
}

func TestMergeSorted(t *testing.T) {
	it := func(p string, c Category) *Item { return &Item{Path: p, Category: c} }
	got := mergeSorted(
		[]*Item{it("/a", Unpersisted), it("/h/.gitconfig", DeclaredUnbacked), it("/z", Unpersisted)},
		[]*Item{it("/h/.gitconfig", Shadowed), it("/h/x/y", Shadowed)})
	var s []string
	for _, i := range got {
		s = append(s, i.Path+" "+i.Category.String())
	}
	want := []string{"/a unpersisted", "/h/.gitconfig declared-unbacked", "/h/x/y shadowed", "/z unpersisted"}
	if !slices.Equal(s, want) {
		t.Errorf("merged %q, want %q", s, want)
	}
}

func TestProgress(t *testing.T) {
	defer func(d time.Duration) { progressEvery = d }(progressEvery)
	progressEvery = 50 * time.Microsecond
	var spec strings.Builder
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&spec, "f /d%d/f%d x\n", i%50, i)
	}
	// Collapsed, the 50 directories are counted, not visited: the progress
	// counts them all the same.
	for _, collapse := range []bool{false, true} {
		var calls, sizes []int64
		var mu sync.Mutex
		a := check(t, spec.String(), btrfsSystem, []persist.Entry{dir("/srv")}, func(c *Config) {
			c.Collapse = collapse
			c.Progress = func(n, b int64) { mu.Lock(); calls, sizes = append(calls, n), append(sizes, b); mu.Unlock() }
		})
		if collapse != (len(a.Lost) == 50) {
			t.Errorf("collapse %v: %d lost items", collapse, len(a.Lost))
		}
		mu.Lock()
		if len(calls) == 0 {
			t.Fatal("Progress never called")
		}
		// Every entry but the root is counted; the last call has the final count.
		if !slices.IsSorted(calls) || calls[len(calls)-1] != a.Scanned-1 || a.Scanned != 3051 {
			t.Errorf("collapse %v: progress %v: want nondecreasing counts ending at %d (3050)", collapse, calls, a.Scanned-1)
		}
		// The bytes are the regular files' sizes: 3000 files of 1 byte.
		if !slices.IsSorted(sizes) || sizes[len(sizes)-1] != 3000 {
			t.Errorf("collapse %v: progress bytes %v: want nondecreasing sizes ending at 3000", collapse, sizes)
		}
		mu.Unlock()
	}
}

// Stacked pseudo filesystems every running system has are not warned about;
// only over-mounts that hide persisted paths are (C03).
func TestOvermountWarningsOnlyForPersistedPaths(t *testing.T) {
	mi := btrfsSystem + `
25 22 0:5 / /dev/shm rw - tmpfs tmpfs rw
30 25 0:6 / /dev/shm rw - tmpfs tmpfs rw`
	a := check(t, "f /x y", mi, []persist.Entry{dir("/var/lib/nixos")}, nil)
	if slices.ContainsFunc(Messages(a.Warnings), func(w string) bool { return strings.Contains(w, "over-mounted") }) {
		t.Errorf("over-mount warning for /dev/shm: %q", a.Warnings)
	}
}

// Declaring / itself: what the ephemeral root holds is declared-unbacked, not
// "not declared".
func TestDeclaredRoot(t *testing.T) {
	a := check(t, "f /x y\nf /d/z w", btrfsSystem, []persist.Entry{dir("/")}, nil)
	wantCats(t, a, map[string]string{"/x": "declared-unbacked", "/d": "declared-unbacked", "/d/z": "declared-unbacked"})
}

// Config.Collapse counts exactly the directories lost whole by construction
// and lists everything else (check, through sameCollapsed, proves the counts
// right against the expanded audit).
func TestCollapse(t *testing.T) {
	spec := `
f /var/lib/app/db/a 12345
f /var/lib/app/db/b 12
l /var/lib/app/link -> /nix/store/x
d /var/lib/app/empty
d /var/lib/empty
f /var/cache/pkg/x 1
f /var/tmp/junk/y.tmp 1
f /etc/app/conf x
l /etc/app/link -> /etc/static/app/link
f /srv/declared/sub/f 123
f /srv/declared/top 1
f /srv/near/f 1
`
	cases := []struct {
		name   string
		ignore []string
		want   string // the items that stand for their contents
	}{
		// /var holds the /var/log mount point, /srv a declaration, /etc
		// activation output: they are listed, what is below them is not;
		// inside a declaration every path is listed (each is compared with
		// its persistent copy).
		{"no rules", nil, "/srv/near {1 1} unpersisted, /var/cache {2 1} unpersisted, /var/lib {7 7} unpersisted, /var/tmp {2 1} unpersisted"},
		// A name rule may match anywhere: only ignored directories count.
		{"name rule", []string{"junk"}, "/var/tmp/junk {1 1} ignored"},
		// An anchored rule keeps its own branch listed, down to what it
		// ignores, and lets the rest be counted.
		{"anchored rule", []string{"/var/cache/*"}, "/srv/near {1 1} unpersisted, /var/cache/pkg {1 1} ignored, /var/lib {7 7} unpersisted, /var/tmp {2 1} unpersisted"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ig := &Ignore{}
			for _, r := range tc.ignore {
				testutil.Must(t, ig.Add(r, "t"))
			}
			a := check(t, spec, btrfsSystem, []persist.Entry{dir("/srv/declared")}, func(c *Config) {
				c.Ignore = ig
				c.Collapse = true
			})
			var got []string
			for _, it := range a.Lost {
				if it.Below() != (Total{}) {
					got = append(got, fmt.Sprintf("%s %v %s", it.Path, it.Below(), it.Category))
				}
			}
			if g := strings.Join(got, ", "); g != tc.want {
				t.Errorf("counted directories:\n%s\nwant\n%s", g, tc.want)
			}
		})
	}
}

// Entries Shadowed under a mount point merge with the visible ones below
// it: nothing there is counted instead of listed (Config.Collapse), so the
// rows and totals are the same either way, a path visible and shadowed
// both is reported once, and the visible directory's subtree is not
// hidden behind a count (check compares the two audits).
func TestCollapseShadowed(t *testing.T) {
	under := t.TempDir()
	testutil.Tree(t, under, "f /scratch/d/a under\nf /scratch/d/c under\nf /var/x/y under")
	mi := `
1 0 0:20 / / rw - tmpfs none rw
2 1 0:21 / /scratch rw - tmpfs none rw
3 1 0:22 / /var rw - ext4 /dev/vdb rw
`
	a := check(t, "f /scratch/d/a over\nf /scratch/d/b over\nf /other/d/e x", mi, nil, func(c *Config) {
		c.Ephemeral = []string{"/", "/scratch"}
		c.Under = func(mp string) (string, func(), error) { return under, func() {}, nil }
	})
	wantCats(t, a, map[string]string{
		"/scratch/d": "unpersisted", "/scratch/d/a": "unpersisted", "/scratch/d/b": "unpersisted",
		"/scratch/d/c": "shadowed", "/var/x": "shadowed", "/var/x/y": "shadowed",
		"/other": "unpersisted", "/other/d": "unpersisted", "/other/d/e": "unpersisted",
	})
}

// An ephemeral mount nested inside a persistent one (--ephemeral
// /home/carol, a tmpfs inside the /home subvolume) is walked: what is on it
// is lost, while the rest of the persistent /home is not.
func TestEphemeralMountInsidePersistentMountIsWalked(t *testing.T) {
	mi := btrfsSystem + `30 22 0:31 /home /home rw - btrfs /dev/vda2 rw,subvol=/home
31 30 0:45 / /home/carol rw - tmpfs tmpfs rw
`
	a := check(t, "f /home/carol/x a\nf /home/carol/d/y b\nf /home/dave/notes n\nf /etc/stray s", mi, []persist.Entry{dir("/var/lib/nixos")}, func(c *Config) {
		c.Ephemeral = []string{"/home/carol"}
	})
	wantCats(t, a, map[string]string{
		"/home/carol/x": "unpersisted", "/home/carol/d": "unpersisted", "/home/carol/d/y": "unpersisted",
		"/etc/stray": "unpersisted",
	})
	if len(a.Lost) != 4 {
		var ps []string
		for _, it := range a.Lost {
			ps = append(ps, it.Path)
		}
		t.Errorf("lost %q, want the four above (nothing else of /home)", ps)
	}
}

// With --root DIR, a message about the root's filesystem names DIR (the
// directory given), not "/" (the machine's own root).
func TestRootFilesystemMessageNamesTheDirectoryGiven(t *testing.T) {
	mi := "1 0 0:20 / / rw - ext4 /dev/vda1 rw\n"
	a := check(t, "f /etc/x y", mi, []persist.Entry{dir("/var/lib/nixos")}, nil)
	if !slices.ContainsFunc(a.Warnings, func(w Warning) bool {
		return strings.Contains(w.Message, "(audited as /) is ext4") && strings.HasPrefix(w.Message, a.Root)
	}) {
		t.Errorf("no warning naming %s: %q", a.Root, a.Warnings)
	}
}
