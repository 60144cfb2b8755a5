package restore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/partial"
	"github.com/nix-drift/drift/internal/testutil"
)

// Subvol is a directory made as a btrfs subvolume (btrfs subvolume create),
// then filled as a Dir.
type Subvol Dir

func (s Subvol) create(t *testing.T, p string) {
	t.Helper()
	sh(t, "btrfs", "subvolume", "create", p)
	Dir(s).fill(t, p)
}

// machinesTree is an old root's /var/lib/machines: box is a subvolume of
// its own (as a container manager makes one), holding another nested
// subvolume, a hard link and a symlink; plain is a plain directory.
func machinesTree() Dir {
	return Dir{Mode: 0o700, Entries: map[string]node{
		"box": Subvol{Mode: 0o750, UID: 1000, GID: 100, Entries: map[string]node{
			"etc": Dir{Entries: map[string]node{
				"a_os-release": File{Content: "ID=nixos\n"},
				"b_hardlink":   Hardlink{Of: "a_os-release"},
				"c_link":       Symlink{Target: "a_os-release"},
			}},
			"var": Dir{Entries: map[string]node{"lib": Dir{Entries: map[string]node{
				"inner": Subvol{Mode: 0o711, Entries: map[string]node{"data": File{Content: "inner\n", Mode: 0o600}}},
			}}}},
		}},
		"plain": Dir{Entries: map[string]node{"f": File{Content: "x"}}},
	}}
}

// subvolSystem makes, on the btrfs filesystem mounted at top, an old root
// (a subvolume) holding machinesTree at /var/lib/machines, and a live root
// with /nix/persist, both plain directories there.
func subvolSystem(t *testing.T, top string) (old, live string) {
	t.Helper()
	old, live = filepath.Join(top, "old"), filepath.Join(top, "live")
	sh(t, "btrfs", "subvolume", "create", old)
	testutil.Must(t, os.MkdirAll(filepath.Join(old, "var/lib"), 0o755))
	machinesTree().create(t, filepath.Join(old, "var/lib/machines"))
	testutil.Must(t, os.MkdirAll(filepath.Join(live, "nix/persist"), 0o755))
	return old, live
}

// isSubvol says whether the directory p is the root of a subvolume nested
// in its parent's: inode 256, another device than its parent.
func isSubvol(t *testing.T, p string) bool {
	t.Helper()
	var st, parent unix.Stat_t
	testutil.Must(t, unix.Lstat(p, &st))
	testutil.Must(t, unix.Lstat(filepath.Dir(p), &parent))
	return st.Mode&unix.S_IFMT == unix.S_IFDIR && st.Ino == 256 && st.Dev != parent.Dev
}

// subvolList is the paths of the subvolumes of the filesystem at top.
func subvolList(t *testing.T, top string) []string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(sh(t, "btrfs", "subvolume", "list", top)), "\n") {
		if _, p, ok := strings.Cut(l, " path "); ok {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// sameTree fails unless the trees at a and b hold the same objects, access
// times aside.
func sameTree(t *testing.T, a, b string) {
	t.Helper()
	if got, want := noATimes(snapshot(t, b)), noATimes(snapshot(t, a)); !reflect.DeepEqual(got, want) {
		t.Errorf("%s differs from %s:\n got  %v\n want %v", b, a, got, want)
	}
}

// A directory that is a btrfs subvolume of its own in the old root comes
// back as a subvolume, with the subvolumes nested in it, whether it is the
// restored path or below it; its files, owners, modes and times as they
// were. A dry run says which directories are made subvolumes and changes
// nothing; a run interrupted after any object leaves no partial copy and
// no subvolume behind, and a partial copy holding subvolumes that a killed
// run left is removed, subvolumes and all. (Before, each came back as a
// plain directory: the data was there, the subvolume was not.)
func TestRestoreNestedSubvolumes(t *testing.T) {
	if !inBtrfsNamespace(t) {
		return
	}
	needRoot(t)
	top := newBtrfs(t)
	old, live := subvolSystem(t, top)
	ctx := context.Background()
	req := Request{From: old, Path: "/var/lib/machines", Root: live, Dest: "/nix/persist/var/lib/machines", Base: "/nix/persist", Subvolumes: true}
	// What the live root holds, by path (creating and removing the
	// parents the copy makes changes /nix/persist's times).
	paths := func() []string {
		return slices.Sorted(maps.Keys(snapshot(t, live)))
	}
	subvolsBefore, liveBefore := subvolList(t, top), paths()

	dry := req
	dry.DryRun = true
	plan, err := Run(ctx, dry)
	if err != nil {
		t.Fatal(err)
	}
	var marked []string
	for _, it := range plan.Items {
		if it.Subvolume {
			marked = append(marked, it.Dest)
		}
	}
	if want := []string{req.Dest + "/box", req.Dest + "/box/var/lib/inner"}; !slices.Equal(marked, want) || plan.SubvolumesPlain != "" {
		t.Errorf("dry run: subvolumes %q (plain: %q), want %q made as subvolumes", marked, plan.SubvolumesPlain, want)
	}
	unchanged := func(when string) {
		t.Helper()
		if got := paths(); !slices.Equal(got, liveBefore) {
			t.Errorf("%s: the live root holds %q, want %q", when, got, liveBefore)
		}
		if got := subvolList(t, top); !slices.Equal(got, subvolsBefore) {
			t.Errorf("%s: subvolumes %q, want %q", when, got, subvolsBefore)
		}
	}
	unchanged("dry run")

	// Interrupted after each object written: nothing is left.
	for n := 1; n <= len(plan.Items); n++ {
		ictx, cancel := context.WithCancel(ctx)
		r, done := req, 0
		r.Copied = func(Item) {
			if done++; done == n {
				cancel()
			}
		}
		if _, err := Run(ictx, r); !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted after %d objects: err = %v, want context.Canceled", n, err)
		}
		cancel()
		unchanged(fmt.Sprintf("interrupted after %d objects", n))
	}

	res, err := Run(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(live, req.Dest)
	for p, want := range map[string]bool{"": false, "box": true, "box/var/lib/inner": true, "box/var": false, "plain": false} {
		if got := isSubvol(t, filepath.Join(dest, p)); got != want {
			t.Errorf("%s: a subvolume: %v, want %v", filepath.Join(dest, p), got, want)
		}
	}
	sameTree(t, filepath.Join(old, "var/lib/machines"), dest)
	if len(res.Items) != len(plan.Items) || res.SubvolumesPlain != "" {
		t.Errorf("restored %d objects (plain: %q), the dry run said %d", len(res.Items), res.SubvolumesPlain, len(plan.Items))
	}
	noTemp(t, filepath.Dir(dest))

	// The restored path a subvolume itself, --force over a plain directory.
	srv := filepath.Join(live, "nix/persist/srv")
	testutil.Must(t, os.MkdirAll(filepath.Join(srv, "box"), 0o755))
	testutil.WriteFile(t, filepath.Join(srv, "box/stale"), "replaced\n")
	// A partial copy of box2 holding subvolumes, which a killed run left.
	gone := exec.Command("true")
	testutil.Must(t, gone.Run())
	left := filepath.Join(srv, partial.Name("box2", partial.Restore, gone.Process.Pid, "0123456789ab"))
	Subvol{Entries: map[string]node{"var": Subvol{Entries: map[string]node{"f": File{}}}}}.create(t, left)
	for _, dst := range []string{"/nix/persist/srv/box", "/nix/persist/srv/box2"} {
		r := Request{From: old, Path: "/var/lib/machines/box", Root: live, Dest: dst, Base: "/nix/persist", Subvolumes: true, Force: true}
		if _, err := Run(ctx, r); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(live, dst)
		if !isSubvol(t, p) || !isSubvol(t, filepath.Join(p, "var/lib/inner")) {
			t.Errorf("%s or its var/lib/inner is not a subvolume", p)
		}
		sameTree(t, filepath.Join(old, "var/lib/machines/box"), p)
	}
	if _, err := os.Lstat(left); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the killed run's partial copy: %v, want it removed", err)
	}
	want := append(slices.Clone(subvolsBefore), "live/nix/persist/srv/box", "live/nix/persist/srv/box/var/lib/inner",
		"live/nix/persist/srv/box2", "live/nix/persist/srv/box2/var/lib/inner",
		"live/nix/persist/var/lib/machines/box", "live/nix/persist/var/lib/machines/box/var/lib/inner")
	slices.Sort(want)
	if got := subvolList(t, top); !slices.Equal(got, want) {
		t.Errorf("subvolumes %q, want %q", got, want)
	}
}

// Where the destination is not on btrfs (here a tmpfs), a subvolume of the
// old root is copied as a plain directory, all its files there, and the
// dry run and the result say so (Result.SubvolumesPlain), naming where.
func TestRestoreSubvolumesOffBtrfsArePlainDirectories(t *testing.T) {
	if !inBtrfsNamespace(t) {
		return
	}
	needRoot(t)
	top := newBtrfs(t)
	old, _ := subvolSystem(t, top)
	live := tmpfsSystem(t)
	req := Request{From: old, Path: "/var/lib/machines", Root: live, Dest: "/nix/persist/var/lib/machines", Base: "/nix/persist", Subvolumes: true}
	for _, dry := range []bool{true, false} {
		req.DryRun = dry
		res, err := Run(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(live, "nix/persist") + " is not on btrfs"; res.SubvolumesPlain != want {
			t.Errorf("dry run %v: SubvolumesPlain = %q, want %q", dry, res.SubvolumesPlain, want)
		}
	}
	dest := filepath.Join(live, req.Dest)
	if isSubvol(t, filepath.Join(dest, "box")) {
		t.Errorf("%s/box: a subvolume on a tmpfs?", dest)
	}
	sameTree(t, filepath.Join(old, "var/lib/machines"), dest)
}

// drift restore warns of each subvolume it copies as a plain directory,
// by its live path, saying where and whether it would be or was.
func TestPlainSubvolumesWarn(t *testing.T) {
	for _, dry := range []bool{true, false} {
		r := &Restored{Result: &Result{Dest: "/nix/persist/var/lib/machines", SubvolumesPlain: "/nix/persist is not on btrfs",
			Items: []Item{{Dest: "/nix/persist/var/lib/machines", Kind: KindDir}, {Dest: "/nix/persist/var/lib/machines/box", Kind: KindDir, Subvolume: true}}}}
		r.plainSubvolumes("/mnt", "/var/lib/machines", dry)
		verb := map[bool]string{true: "would be restored", false: "restored"}[dry]
		if len(r.Warnings) != 1 || r.Warnings[0].Path != "/var/lib/machines/box" || r.Warnings[0].Kind != diff.WarnSetup ||
			!strings.HasPrefix(r.Warnings[0].Message, "/mnt/nix/persist/var/lib/machines/box is a btrfs subvolume in the old root, "+verb+" as a plain directory (/nix/persist is not on btrfs)") {
			t.Errorf("dry run %v: warnings %+v", dry, r.Warnings)
		}
		r.SubvolumesPlain, r.Warnings = "", nil
		if r.plainSubvolumes("/mnt", "/var/lib/machines", dry); len(r.Warnings) != 0 {
			t.Errorf("made as subvolumes: warnings %+v, want none", r.Warnings)
		}
	}
}

// drift restore (FromModel) makes subvolumes where the old root had them
// only on the live root (--to live, on btrfs): into persistent storage,
// on btrfs or not, each is a plain directory, with a warning naming it
// and why (a snapshot of the persistent subvolume, as btrbk or snapper
// take for a backup, holds an empty directory in place of a nested
// subvolume: the data would be left out of every backup, silently); off
// btrfs, a plain directory and the warning say so.
func TestFromModelRestoresSubvolumes(t *testing.T) {
	if !inBtrfsNamespace(t) {
		return
	}
	needRoot(t)
	top := newBtrfs(t)
	old, onBtrfs := subvolSystem(t, top)
	onTmpfs := tmpfsSystem(t)
	dir := t.TempDir()
	mi := filepath.Join(dir, "mountinfo")
	testutil.WriteFile(t, mi, "22 1 0:31 /root / rw - btrfs /dev/vda2 rw,subvol=/root\n27 22 0:31 /persist /nix/persist rw - btrfs /dev/vda2 rw,subvol=/persist\n")
	decl := filepath.Join(dir, "p.json")
	testutil.WriteFile(t, decl, `{"persistentStoragePath": "/nix/persist", "directories": ["/var/lib/machines"]}`)
	both := []string{"/var/lib/machines/box", "/var/lib/machines/box/var/lib/inner"}
	for _, c := range []struct {
		root, at string
		to       Target
		subvol   bool   // box made a subvolume
		why      string // in the warnings, when not
	}{
		{onBtrfs, "nix/persist/var/lib/machines/box", ToPersist, false, "in the persistent storage " + filepath.Join(onBtrfs, "nix/persist") + ": a snapshot of it, as backups take, would leave a nested subvolume out"},
		{onTmpfs, "nix/persist/var/lib/machines/box", ToPersist, false, "in the persistent storage " + filepath.Join(onTmpfs, "nix/persist")},
		{onBtrfs, "var/lib/machines/box", ToLive, true, ""},
		{onTmpfs, "var/lib/machines/box", ToLive, false, "is not on btrfs"},
	} {
		m, err := audit.Build(context.Background(), audit.Options{Root: c.root, Persist: []string{decl}, Mountinfo: mi, RootSubvol: "none", Ephemeral: []string{"/"},
			Need: audit.NeedFacts, From: old})
		testutil.Must(t, err)
		t.Cleanup(m.Close)
		for _, dry := range []bool{true, false} {
			out, err := FromModel(context.Background(), m, Options{Path: "/var/lib/machines/box", To: c.to, DryRun: dry})
			testutil.Must(t, err)
			var plain []string
			for _, w := range out.Warnings {
				if strings.Contains(w.Message, "as a plain directory") {
					plain = append(plain, w.Path)
					if !strings.Contains(w.Message, c.why) {
						t.Errorf("%s --to %v: %q does not say %q", c.root, c.to, w.Message, c.why)
					}
				}
			}
			want := both
			if c.subvol {
				want = nil
			}
			if !slices.Equal(plain, want) {
				t.Errorf("%s --to %v, dry run %v: warned of plain directories at %q, want %q: %+v", c.root, c.to, dry, plain, want, out.Warnings)
			}
		}
		box := filepath.Join(c.root, c.at)
		if got := isSubvol(t, box); got != c.subvol {
			t.Errorf("%s --to %v: %s a subvolume: %v, want %v", c.root, c.to, box, got, c.subvol)
		}
		if got := isSubvol(t, filepath.Join(box, "var/lib/inner")); got != c.subvol {
			t.Errorf("%s --to %v: the nested one a subvolume: %v, want %v", c.root, c.to, got, c.subvol)
		}
		sameTree(t, filepath.Join(old, "var/lib/machines/box"), box)
	}
}

// tmpfsSystem mounts a 16 MiB tmpfs in the namespaced child's scratch
// directory, unmounted when the test ends, with an empty nix/persist in
// it, and returns where: a system whose persistent storage is not on
// btrfs.
func tmpfsSystem(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(os.Getenv(envDir), "tmpfs")
	testutil.Must(t, os.MkdirAll(dir, 0o755))
	sh(t, "mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", dir)
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	testutil.Must(t, os.MkdirAll(filepath.Join(dir, "nix/persist"), 0o755))
	return dir
}
