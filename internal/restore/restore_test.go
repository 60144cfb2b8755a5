package restore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/testutil"
)

func needRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		testutil.SkipOrFatal(t, testutil.RequireHost, "needs root (chown to other owners)")
	}
}

// sshTree is an old root's /etc/ssh with every kind of object restore meets.
func sshTree(xattrs bool) Dir {
	key := File{Content: "PRIVATE KEY\n", Mode: 0o600, UID: 0, GID: 0}
	pub := File{Content: "ssh-ed25519 AAAA\n", Mode: 0o644, UID: 1000, GID: 100}
	if xattrs {
		key.Xattrs = map[string]string{"user.drift.test": "kept", "user.empty": ""}
	}
	return Dir{Mode: 0o755, Entries: map[string]node{
		"a_key":      key,
		"b_key.pub":  pub,
		"c_link":     Symlink{Target: "a_key"},
		"d_abs_link": Symlink{Target: "/nix/store/xyz-sshd_config"},
		"e_hardlink": Hardlink{Of: "a_key"},
		"f_sub": Dir{Mode: 0o750, UID: 1000, GID: 100, Entries: map[string]node{
			"g_hardlink": Hardlink{Of: "../b_key.pub"},
			"h_setuid":   File{Content: "#!/bin/sh\n", Mode: 0o4755},
		}},
		"i_fifo":   Fifo{},
		"j_socket": Socket{},
	}}
}

// system makes an old root holding tree at /etc/ssh and a live root with
// /nix/persist, and returns both.
func system(t *testing.T, tree node) (old, live string) {
	t.Helper()
	old, live = filepath.Join(t.TempDir(), "old"), filepath.Join(t.TempDir(), "live")
	testutil.Must(t, os.MkdirAll(filepath.Join(old, "etc"), 0o755))
	testutil.Must(t, os.MkdirAll(filepath.Join(live, "nix/persist"), 0o755))
	testutil.Must(t, os.Chmod(filepath.Join(old, "etc"), 0o711))
	tree.create(t, filepath.Join(old, "etc/ssh"))
	return old, live
}

func declared(entries ...persist.Entry) *persist.Set { return &persist.Set{Entries: entries} }

var etcDecl = persist.Entry{Kind: persist.Dir, StoragePath: "/nix/persist", Path: "/etc"}

func TestRestoreRoundTrip(t *testing.T) {
	needRoot(t)
	xattrs := xattrsWork(t, t.TempDir())
	if !xattrs {
		t.Log("user.* xattrs unsupported on this filesystem: not checked")
	}
	old, live := system(t, sshTree(xattrs))
	dest, _, ok, err := Destination(declared(etcDecl), "/etc/ssh", ToPersist)
	if err != nil || !ok || dest != "/nix/persist/etc/ssh" {
		t.Fatalf("Destination = %q, %v, %v", dest, ok, err)
	}
	res, err := Run(context.Background(), Request{From: old, Path: "/etc/ssh", Root: live, Dest: dest})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range res.Warnings {
		t.Errorf("warning: %s", w)
	}

	got := snapshot(t, filepath.Join(live, "nix/persist/etc/ssh"))
	want := snapshot(t, filepath.Join(old, "etc/ssh"))
	delete(want, "j_socket")
	for rel := range want {
		g, w := got[rel], want[rel]
		g.ATime, w.ATime = 0, 0 // reading the source moved its atime; checked below
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s:\n got %+v\nwant %+v", rel, g, w)
		}
	}
	for rel := range got {
		if _, ok := want[rel]; !ok {
			t.Errorf("%s: restored, not in the old root", rel)
		}
	}
	if g := got["a_key"]; g.ATime != fixedTime.Add(-time.Hour).UnixNano() {
		t.Errorf("a_key atime %v, want %v", time.Unix(0, g.ATime).UTC(), fixedTime.Add(-time.Hour))
	}
	if got["e_hardlink"].LinkedTo != "a_key" || got["f_sub/g_hardlink"].LinkedTo != "b_key.pub" {
		t.Errorf("hard links not kept: %+v %+v", got["e_hardlink"], got["f_sub/g_hardlink"])
	}
	if got["c_link"].Type != "symlink" || got["c_link"].Target != "a_key" {
		t.Errorf("symlink not kept: %+v", got["c_link"])
	}
	if xattrs && !strings.Contains(got["a_key"].Xattrs, "user.drift.test=kept") {
		t.Errorf("xattrs not kept: %q", got["a_key"].Xattrs)
	}
	if got["i_fifo"].Mode&unix.S_IFMT != unix.S_IFIFO {
		t.Errorf("fifo not made: %+v", got["i_fifo"])
	}
	if len(res.Skipped) != 1 || res.Skipped[0].Path != "/etc/ssh/j_socket" {
		t.Errorf("skipped %+v, want the socket", res.Skipped)
	}
	// The missing parent /nix/persist/etc mirrors the old root's /etc.
	if !reflect.DeepEqual(res.MkDirs, []string{"/nix/persist/etc"}) {
		t.Errorf("MkDirs %v", res.MkDirs)
	}
	if fi, err := os.Stat(filepath.Join(live, "nix/persist/etc")); err != nil || fi.Mode().Perm() != 0o711 {
		t.Errorf("created parent: %v, %v; want mode 0711 as the old root's /etc", fi.Mode(), err)
	}
	noTemp(t, filepath.Join(live, "nix/persist/etc"))
}

// noTemp fails when a temporary copy is left in dir.
func noTemp(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".drift-restore-") {
			t.Errorf("temporary %s left in %s", e.Name(), dir)
		}
	}
}

func TestRestoreFileAndSymlink(t *testing.T) {
	old, live := system(t, Dir{Entries: map[string]node{
		"key":  File{Content: "k", Mode: 0o640},
		"link": Symlink{Target: "../../outside"},
	}})
	decls := declared(persist.Entry{Kind: persist.File, StoragePath: "/nix/persist", Path: "/etc/ssh/key"})
	dest, _, _, err := Destination(decls, "/etc/ssh/key", ToPersist)
	testutil.Must(t, err)
	if _, err := Run(context.Background(), Request{From: old, Path: "/etc/ssh/key", Root: live, Dest: dest}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(live, "nix/persist/etc/ssh/key"))
	if err != nil || string(b) != "k" {
		t.Fatalf("restored file: %q, %v", b, err)
	}
	// A symlink as PATH is copied as a symlink, never followed.
	if _, err := Run(context.Background(), Request{From: old, Path: "/etc/ssh/link", Root: live, Dest: "/etc/ssh/link"}); err != nil {
		t.Fatal(err)
	}
	if target, err := os.Readlink(filepath.Join(live, "etc/ssh/link")); err != nil || target != "../../outside" {
		t.Fatalf("restored link: %q, %v", target, err)
	}
}

func TestRestoreRefusesToOverwrite(t *testing.T) {
	old, live := system(t, Dir{Entries: map[string]node{"key": File{Content: "old root"}}})
	existing := filepath.Join(live, "nix/persist/etc/ssh")
	testutil.Must(t, os.MkdirAll(existing, 0o755))
	testutil.Must(t, os.WriteFile(filepath.Join(existing, "key"), []byte("current"), 0o600))
	req := Request{From: old, Path: "/etc/ssh", Root: live, Dest: "/nix/persist/etc/ssh"}
	for _, dry := range []bool{false, true} {
		req.DryRun = dry
		_, err := Run(context.Background(), req)
		if !errors.Is(err, ErrExists) {
			t.Fatalf("dry run %v: err = %v, want ErrExists", dry, err)
		}
		var h *HintError
		if !errors.As(err, &h) || !strings.Contains(h.Hint, "--force") {
			t.Errorf("no --force hint: %v", err)
		}
		// a dry run refused is not told to run a dry run (fresh-user finding)
		if dry && strings.Contains(h.Hint, "--dry-run shows") {
			t.Errorf("dry run refused with the hint %q", h.Hint)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(existing, "key")); string(b) != "current" {
		t.Fatalf("existing destination changed: %q", b)
	}
}

func TestRestoreForceReplaces(t *testing.T) {
	old, live := system(t, Dir{Entries: map[string]node{"key": File{Content: "old root"}}})
	parent := filepath.Join(live, "nix/persist/etc")
	for _, existing := range []func(p string){
		func(p string) { // a directory with other content
			testutil.Must(t, os.MkdirAll(filepath.Join(p, "deep/er"), 0o755))
			testutil.Must(t, os.WriteFile(filepath.Join(p, "deep/er/stale"), nil, 0o600))
		},
		func(p string) { testutil.Must(t, os.WriteFile(p, []byte("a file"), 0o600)) },
		func(p string) { testutil.Must(t, os.Symlink("/tmp", p)) }, // replaced, not followed
	} {
		testutil.Must(t, os.RemoveAll(parent))
		testutil.Must(t, os.MkdirAll(parent, 0o755))
		existing(filepath.Join(parent, "ssh"))
		res, err := Run(context.Background(), Request{From: old, Path: "/etc/ssh", Root: live, Dest: "/nix/persist/etc/ssh", Force: true})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Replaced {
			t.Error("Replaced = false")
		}
		got := snapshot(t, filepath.Join(parent, "ssh"))
		if len(got) != 2 || got["key"].Content != "old root" {
			t.Errorf("after --force: %+v", got)
		}
		noTemp(t, parent)
	}
}

func TestRestoreRefusesSymlinkedSource(t *testing.T) {
	old, live := system(t, Dir{Entries: map[string]node{"key": File{Content: "k"}}})
	// The old root's /var is a symlink to its /etc: /var/ssh reaches
	// /etc/ssh only through it.
	testutil.Must(t, os.Symlink("etc", filepath.Join(old, "var")))
	_, err := Run(context.Background(), Request{From: old, Path: "/var/ssh", Root: live, Dest: "/nix/persist/var/ssh"})
	var se *SymlinkError
	if !errors.As(err, &se) || se.Side != "source" || se.Path != filepath.Join(old, "var") {
		t.Fatalf("err = %v, want a source SymlinkError at var", err)
	}
	if !strings.Contains(err.Error(), "is a symlink (to etc)") {
		t.Errorf("message: %v", err)
	}
}

func TestRestoreRefusesSymlinkedDestination(t *testing.T) {
	old, live := system(t, Dir{Entries: map[string]node{"key": File{Content: "k"}}})
	evil := t.TempDir()
	testutil.Must(t, os.Symlink(evil, filepath.Join(live, "nix/persist/etc")))
	for _, force := range []bool{false, true} {
		_, err := Run(context.Background(), Request{From: old, Path: "/etc/ssh", Root: live, Dest: "/nix/persist/etc/ssh", Force: force})
		var se *SymlinkError
		if !errors.As(err, &se) || se.Side != "destination" || se.Target != evil {
			t.Fatalf("force %v: err = %v, want a destination SymlinkError", force, err)
		}
	}
	if ents, _ := os.ReadDir(evil); len(ents) != 0 {
		t.Fatalf("wrote through the symlink: %v", ents)
	}
}

func TestRestoreDryRunChangesNothing(t *testing.T) {
	old, live := system(t, sshTree(false))
	before := snapshot(t, live)
	oldBefore := snapshot(t, old)
	res, err := Run(context.Background(), Request{From: old, Path: "/etc/ssh", Root: live, Dest: "/nix/persist/etc/ssh", DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if after := snapshot(t, live); !reflect.DeepEqual(before, after) {
		t.Errorf("dry run changed the live root:\n%+v\n%+v", before, after)
	}
	oldAfter := snapshot(t, old)
	for k, o := range oldAfter {
		o.ATime = oldBefore[k].ATime
		if !reflect.DeepEqual(o, oldBefore[k]) {
			t.Errorf("dry run changed the old root at %s", k)
		}
	}
	var got []string
	for _, it := range res.Items {
		got = append(got, string(it.Kind)+" "+it.Dest+" "+it.Target)
	}
	want := []string{
		"dir /nix/persist/etc/ssh ",
		"file /nix/persist/etc/ssh/a_key ",
		"file /nix/persist/etc/ssh/b_key.pub ",
		"symlink /nix/persist/etc/ssh/c_link a_key",
		"symlink /nix/persist/etc/ssh/d_abs_link /nix/store/xyz-sshd_config",
		"hardlink /nix/persist/etc/ssh/e_hardlink /nix/persist/etc/ssh/a_key",
		"dir /nix/persist/etc/ssh/f_sub ",
		"hardlink /nix/persist/etc/ssh/f_sub/g_hardlink /nix/persist/etc/ssh/b_key.pub",
		"file /nix/persist/etc/ssh/f_sub/h_setuid ",
		"fifo /nix/persist/etc/ssh/i_fifo ",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !reflect.DeepEqual(res.MkDirs, []string{"/nix/persist/etc"}) || len(res.Skipped) != 1 {
		t.Errorf("MkDirs %v, Skipped %v", res.MkDirs, res.Skipped)
	}
}

func TestRestoreSparse(t *testing.T) {
	old, live := system(t, Dir{Entries: map[string]node{}})
	p := filepath.Join(old, "etc/ssh/sparse")
	f, err := os.Create(p)
	testutil.Must(t, err)
	const size = 64 << 20
	_, err = f.WriteAt([]byte("head"), 0)
	testutil.Must(t, err)
	_, err = f.WriteAt([]byte("middle"), 32<<20)
	testutil.Must(t, err)
	testutil.Must(t, f.Truncate(size))
	testutil.Must(t, f.Close())
	if _, err := Run(context.Background(), Request{From: old, Path: "/etc/ssh/sparse", Root: live, Dest: "/var/sparse"}); err != nil {
		t.Fatal(err)
	}
	q := filepath.Join(live, "var/sparse")
	var st unix.Stat_t
	testutil.Must(t, unix.Stat(q, &st))
	if st.Size != size {
		t.Fatalf("size %d, want %d", st.Size, size)
	}
	if st.Blocks*512 >= size/2 {
		t.Errorf("holes not kept: %d bytes allocated of %d", st.Blocks*512, size)
	}
	b, err := os.ReadFile(q)
	testutil.Must(t, err)
	if string(b[:4]) != "head" || string(b[32<<20:32<<20+6]) != "middle" || b[1<<20] != 0 {
		t.Error("content differs")
	}
}

func TestRestoreCancelledLeavesNothing(t *testing.T) {
	old, live := system(t, sshTree(false))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, Request{From: old, Path: "/etc/ssh", Root: live, Dest: "/nix/persist/etc/ssh"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Lstat(filepath.Join(live, "nix/persist/etc/ssh")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("destination exists after a failed restore: %v", err)
	}
	noTemp(t, filepath.Join(live, "nix/persist/etc"))
}

func TestRestoreErrors(t *testing.T) {
	old, live := system(t, Dir{Entries: map[string]node{"socket": Socket{}, "file": File{}}})
	for _, c := range []struct {
		path, dest, want string
	}{
		{"/etc/ssh/missing", "/x", "/etc/ssh/missing: not in the old root"},
		{"/nowhere/at/all", "/x", "not in the old root"},
		{"/etc/ssh/file/below", "/x", "not a directory"},
		{"/etc/ssh/socket", "/x", "is a socket: restore copies regular files, directories, symlinks and fifos only"},
		{"etc/ssh", "/x", "expected an absolute path"},
		{"/", "/x", "not the root itself"},
		{"/etc/ssh", "/", "destination"},
	} {
		_, err := Run(context.Background(), Request{From: old, Path: c.path, Root: live, Dest: c.dest})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s -> %s: err = %v, want %q", c.path, c.dest, err, c.want)
		}
	}
}

// withSource is e with SourcePath src.
func withSource(e persist.Entry, src string) persist.Entry {
	e.SetSourcePath(src)
	return e
}

func TestDestination(t *testing.T) {
	decls := declared(
		etcDecl,
		persist.Entry{Kind: persist.Dir, StoragePath: "/nix/persist", Path: "/etc/ssh"},
		persist.Entry{Kind: persist.File, StoragePath: "/persist", Path: "/etc/machine-id"},
		withSource(persist.Entry{Kind: persist.Dir, StoragePath: "/persist/alice", Path: "/home/alice/Music"}, "/persist/alice/Music"),
		persist.Entry{Kind: persist.Dir, StoragePath: "/", Path: "/srv"},
	)
	for _, c := range []struct {
		path string
		to   Target
		want string
		err  error
	}{
		{"/etc/ssh/key", ToPersist, "/nix/persist/etc/ssh/key", nil},
		{"/etc/ssh", ToPersist, "/nix/persist/etc/ssh", nil},
		{"/etc/sshd", ToPersist, "/nix/persist/etc/sshd", nil}, // covered by /etc, not /etc/ssh
		{"/etc/machine-id", ToPersist, "/persist/etc/machine-id", nil},
		{"/home/alice/Music/a.flac", ToPersist, "/persist/alice/Music/a.flac", nil},
		{"/srv/x/", ToPersist, "/srv/x", nil},
		{"/var/lib/x", ToPersist, "", ErrUndeclared},
		{"/var/lib/x", ToLive, "/var/lib/x", nil},
		{"/etc/ssh/key", ToLive, "/etc/ssh/key", nil},
	} {
		got, _, _, err := Destination(decls, c.path, c.to)
		if got != c.want || !errors.Is(err, c.err) {
			t.Errorf("Destination(%q, %v) = %q, %v; want %q, %v", c.path, c.to, got, err, c.want, c.err)
		}
	}
}

// A destination inside the source tree: the copy being built is not copied
// into itself.
func TestRestoreIntoItself(t *testing.T) {
	root := t.TempDir()
	Dir{Entries: map[string]node{
		"f": File{Content: "f"},
		"b": Dir{Entries: map[string]node{"g": File{Content: "g"}}},
	}}.create(t, filepath.Join(root, "a"))
	res, err := Run(context.Background(), Request{From: root, Path: "/a", Root: root, Dest: "/a/b/c"})
	if err != nil {
		t.Fatal(err)
	}
	got := snapshot(t, filepath.Join(root, "a/b/c"))
	var names []string
	for k := range got {
		names = append(names, k)
	}
	slices.Sort(names)
	if want := []string{".", "b", "b/g", "f"}; !slices.Equal(names, want) {
		t.Errorf("copy holds %v, want %v", names, want)
	}
	if len(res.Items) != 4 {
		t.Errorf("items %+v", res.Items)
	}
}

// openFDs counts this process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		testutil.SkipOrFatal(t, testutil.RequireHost, "no /proc/self/fd")
	}
	return len(ents)
}

// Every path through Run, successful or not, closes what it opened. Each
// request is checked to end as intended, so that the path it stands for is
// the one taken.
func TestRestoreClosesDescriptors(t *testing.T) {
	old, live := system(t, sshTree(false))
	testutil.Must(t, os.Symlink("etc", filepath.Join(old, "var")))
	before := openFDs(t)
	for _, tc := range []struct {
		req     Request
		wantErr bool
	}{
		{Request{Path: "/etc/ssh", Dest: "/nix/persist/etc/ssh", DryRun: true}, false},
		{Request{Path: "/etc/ssh", Dest: "/nix/persist/etc/ssh"}, false},
		{Request{Path: "/etc/ssh", Dest: "/nix/persist/etc/ssh"}, true}, // exists
		{Request{Path: "/etc/ssh", Dest: "/nix/persist/etc/ssh", Force: true}, false},
		{Request{Path: "/var/ssh", Dest: "/var/ssh"}, true},         // symlinked source
		{Request{Path: "/etc/nope", Dest: "/var/nope"}, true},       // missing
		{Request{Path: "/etc/ssh/i_fifo", Dest: "/var/ff"}, false},  // made anew
		{Request{Path: "/etc/ssh/j_socket", Dest: "/var/ss"}, true}, // not copyable
	} {
		req := tc.req
		req.From, req.Root = old, live
		if _, err := Run(context.Background(), req); (err != nil) != tc.wantErr {
			t.Errorf("%+v: err = %v, want an error: %v", req, err, tc.wantErr)
		}
		if n := openFDs(t); n != before {
			t.Errorf("%+v: %d descriptors open, %d before", req, n, before)
		}
	}
}

// A symlink's own xattrs (trusted.*, as root: user.* is refused on
// symlinks) are kept, through /proc/self/fd/DIRFD/NAME without following.
func TestRestoreSymlinkXattrs(t *testing.T) {
	needRoot(t)
	old, live := system(t, Dir{Entries: map[string]node{"l": Symlink{Target: "nowhere"}}})
	link := filepath.Join(old, "etc/ssh/l")
	if err := unix.Lsetxattr(link, "trusted.drift", []byte("on the link"), 0); err != nil {
		testutil.SkipOrFatal(t, testutil.RequireHost, fmt.Sprintf("trusted.* xattrs on symlinks unsupported here: %v", err))
	}
	if _, err := Run(context.Background(), Request{From: old, Path: "/etc/ssh/l", Root: live, Dest: "/etc/ssh/l"}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := unix.Lgetxattr(filepath.Join(live, "etc/ssh/l"), "trusted.drift", buf)
	if err != nil || string(buf[:n]) != "on the link" {
		t.Fatalf("symlink xattr: %q, %v", buf[:max(n, 0)], err)
	}
}

// noATimes clears access times (reading a snapshot's contents sets them).
func noATimes(m map[string]object) map[string]object {
	for k, o := range m {
		o.ATime = 0
		m[k] = o
	}
	return m
}

// TestRestoreFromName: an old root reached through a private mount is named
// as the user knows it (FromName), in the result and in errors, never by
// the mount's temporary directory.
func TestRestoreFromName(t *testing.T) {
	old, live := system(t, Dir{Entries: map[string]node{"file": File{}}})
	const name = "/dev/vda2:/old_roots/2026-11-28_10:00:00"
	_, err := Run(context.Background(), Request{From: old, FromName: name, Path: "/etc/ssh/missing", Root: live, Dest: "/x"})
	if err == nil || err.Error() != "/etc/ssh/missing: not in the old root "+name {
		t.Errorf("err = %v", err)
	}
	res, err := Run(context.Background(), Request{From: old, FromName: name, Path: "/etc/ssh/file", Root: live, Dest: "/x", DryRun: true})
	if err != nil || res.Source != name+"/etc/ssh/file" {
		t.Errorf("Source %q, err %v", res.Source, err)
	}
}
