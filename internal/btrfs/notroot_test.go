package btrfs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/testutil"
)

// put writes files (relative to the top level) with a line each.
func (im *image) put(files ...string) {
	im.t.Helper()
	for _, f := range files {
		testutil.Must(im.t, os.MkdirAll(filepath.Dir(im.P(f)), 0o755))
		testutil.Must(im.t, os.WriteFile(im.P(f), []byte(f+"\n"), 0o644))
	}
}

// TestWipeRefusesNonRootSubvol: a --subvol that names the Nix store's
// subvolume, the persistent storage, or a subvolume the fstab mounts
// elsewhere than / is refused with what drift found, nothing changed —
// though none of them is mounted (the initrd's view). A typo in the initrd
// setup would otherwise retire it and expire it 31 days later (found by a
// fresh-user test on a realistic image: issue 12/13's tester). A root drift
// made is accepted whatever its name; --subvol-is-root accepts a storage
// name only; a preview warns instead.
func TestWipeRefusesNonRootSubvol(t *testing.T) {
	if !inNamespace(t) {
		return
	}
	im := newImage(t)
	im.subvol("root", time.Time{})
	im.put("root/etc/passwd", "root/var/log/boot.log")
	im.subvol("nix", time.Time{})
	im.put("nix/store/0a1b2c3d4f5g6h7i8j9k0l1m2n3p4q5r-hello/bin/hello")
	im.subvol("nixdb", time.Time{}) // a store without store paths yet: its database
	im.put("nixdb/var/nix/db/db.sqlite")
	im.subvol("system", time.Time{}) // a root that holds /nix as a directory
	im.put("system/nix/store/.links/x", "system/etc/passwd")
	im.subvol("persist", time.Time{})
	im.put("persist/etc/machine-id", "persist/var/lib/nixos/uid-map")
	im.subvol("@persist", time.Time{})
	im.put("@persist/etc/machine-id")
	im.subvol("@home", time.Time{}) // a user's dev/ is one of the marks by chance
	im.put("@home/alice/dev/main.go", "@home/alice/.bashrc", "@home/dev/x")
	im.subvol("srv", time.Time{})
	im.put("srv/run/app.pid", "srv/www/index.html")
	im.subvol("state2", time.Time{})
	im.put("state2/etc/machine-id")
	fstab := filepath.Join(t.TempDir(), "fstab")
	testutil.Must(t, os.WriteFile(fstab, []byte("# initrd\n"+
		im.Dev+" /sysroot btrfs subvol=root 0 0\n"+
		im.Dev+" /sysroot/persist\\040x btrfs compress=zstd,subvol=/state2 0 0\n"), 0o644))
	before := im.subvols()

	plan := func(subvol string, edit func(*Options)) (*Plan, error) {
		t.Helper()
		top, err := OpenTopDir(im.Top, nil)
		testutil.Must(t, err)
		defer top.Close()
		top.Source = im.Dev
		o := opts("b1")
		o.Subvol, o.Fstab = subvol, fstab
		if edit != nil {
			edit(&o)
		}
		return top.Plan(o)
	}
	for _, tc := range []struct{ subvol, want string }{
		{"nix", "holds a Nix store (store/0a1b2c3d4f5g6h7i8j9k0l1m2n3p4q5r-hello)"},
		{"nixdb", "holds a Nix store (var/nix/db)"},
		{"system", "holds a Nix store (nix/store/.links)"},
		{"persist", `is named "persist", what persistent storage or the Nix store is called`},
		{"@persist", `is named "persist", what persistent storage`},
		{"@home", `is named "home", what persistent storage or the Nix store is called, and lacks nix, proc, sys and run, which every booted root has (it has dev)`},
		{"srv", `is named "srv"`},
		{"state2", "overlaps persistent storage: " + fstab + ":3 mounts state2 at /sysroot/persist x"},
	} {
		_, err := plan(tc.subvol, nil)
		if !errors.Is(err, ErrNotRoot) || !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "--subvol "+tc.subvol+" (subvolume ") {
			t.Errorf("--subvol %s: %v; want ErrNotRoot saying %q", tc.subvol, err, tc.want)
		}
		p, err := plan(tc.subvol, func(o *Options) { o.Preview = true })
		if err != nil || !strings.Contains(strings.Join(p.Warnings, "\n"), tc.want) {
			t.Errorf("--subvol %s, preview: %v, warnings %q; want a warning saying %q", tc.subvol, err, p.Warnings, tc.want)
		}
	}
	if _, err := plan("root", nil); err != nil {
		t.Errorf("--subvol root: %v", err)
	}
	// --subvol-is-root overrides the name, never a Nix store or the fstab
	if _, err := plan("persist", func(o *Options) { o.SubvolIsRoot = true }); err != nil {
		t.Errorf("--subvol persist --subvol-is-root: %v", err)
	}
	for _, s := range []string{"nix", "state2"} {
		if _, err := plan(s, func(o *Options) { o.SubvolIsRoot = true }); !errors.Is(err, ErrNotRoot) {
			t.Errorf("--subvol %s --subvol-is-root: %v; want ErrNotRoot", s, err)
		}
	}
	wantSame(t, "subvolumes after the refusals", im.subvols(), before)

	// a root drift made is one, whatever its name: wiped with the override
	// once, the next boot's wipe needs none
	o := opts("b1")
	o.Subvol, o.Fstab, o.SubvolIsRoot = "persist", fstab, true
	_, err := im.wipe(o)
	testutil.Must(t, err)
	im.put("persist/etc/machine-id")
	o = opts("b2")
	o.Subvol, o.Fstab = "persist", fstab
	if _, err := im.wipe(o); err != nil {
		t.Errorf("--subvol persist, a root drift made at the boot before: %v", err)
	}
}

// TestNotRootNamesEachMissingEntryOnce: the refusal of a subvolume named
// like persistent storage lists what it lacks of the entries every booted
// root has once, and what it has, never the whole list again beside the
// missing one (it said "lacks nix, proc of nix, proc, sys, dev, run").
func TestNotRootNamesEachMissingEntryOnce(t *testing.T) {
	for _, tc := range []struct {
		missing []string
		want    string
	}{
		{bootedMarks, "holds none of nix, proc, sys, dev and run, which every booted root has"},
		{[]string{"proc", "run"}, "lacks proc and run, which every booted root has (it has nix, sys and dev)"},
		{[]string{"dev"}, "lacks dev, which every booted root has (it has nix, proc, sys and run)"},
	} {
		got := lacksMarks(tc.missing)
		if got != tc.want {
			t.Errorf("lacksMarks(%q) = %q, want %q", tc.missing, got, tc.want)
		}
		for _, m := range bootedMarks {
			if n := strings.Count(got, m); n != 1 {
				t.Errorf("lacksMarks(%q) names %s %d times: %q", tc.missing, m, n, got)
			}
		}
	}
}

// TestWipeRefusesStorageOldRoots: --old-roots gets the guard --subvol
// has. A fresh-user test typed --old-roots persist: the root was retired
// into the persistent storage and a subvolume there named like a date (a
// user's) deleted as an expired old root. Refused, nothing changed: a
// directory named like storage holding what is no old root (a date-named
// subvolume that does not look like a root included: home snapshots named
// by date, alone or beside an old root), one the fstab
// mounts (or holding or lying in one), one holding a mounted subvolume, a
// Nix store, the top level itself; a preview warns instead. Old roots in a
// directory of their own are accepted whatever its name, an empty one
// too, a mounted old root kept as before; a --subvol holding a mounted subvolume is refused.
func TestWipeRefusesStorageOldRoots(t *testing.T) {
	if !inNamespace(t) {
		return
	}
	im := newImage(t)
	im.subvol("root", time.Time{})
	im.put("root/etc/passwd")
	im.subvol("persist", time.Time{})
	im.put("persist/etc/machine-id")
	im.subvol("persist/2026-10-01_10:00:00", time.Time{}) // user data named like a date
	im.put("persist/2026-10-01_10:00:00/important")
	im.subvol("state2", time.Time{})
	im.put("state2/etc/machine-id")
	im.subvol("nix", time.Time{})
	im.put("nix/store/0a1b2c3d4f5g6h7i8j9k0l1m2n3p4q5r-hello/bin/hello")
	im.subvol("pool", time.Time{})
	im.subvol("pool/home", time.Time{})
	im.put("pool/home/alice/.bashrc")
	im.subvol("snapshots", time.Time{})
	im.subvol("snapshots/2026-10-01_10:00:00", time.Time{})
	// date-named home snapshots, in a directory named like storage: no
	// entry drift would delete, but no old roots either
	testutil.Must(t, os.MkdirAll(im.P("@home/snaps"), 0o755))
	im.subvol("@home/snaps/2026-10-01_10:00:00", time.Time{})
	im.put("@home/snaps/2026-10-01_10:00:00/alice/thesis.txt")
	im.subvol("data", time.Time{}) // an old root beside a home snapshot
	im.subvol("data/2026-10-02_10:00:00", time.Time{})
	im.subvol("data/2026-10-03_10:00:00", time.Time{})
	im.put("data/2026-10-03_10:00:00/alice/thesis.txt")
	testutil.Must(t, os.Mkdir(im.P("state"), 0o755)) // empty: a fresh old-roots directory
	fstab := filepath.Join(t.TempDir(), "fstab")
	testutil.Must(t, os.WriteFile(fstab, []byte(im.Dev+" /sysroot btrfs subvol=root 0 0\n"+
		im.Dev+" /sysroot/persist btrfs subvol=/state2 0 0\n"), 0o644))
	home := filepath.Join(t.TempDir(), "home")
	testutil.Must(t, os.MkdirAll(home, 0o755))
	sh(t, "mount", "-o", "subvol=pool/home", im.Dev, home)
	defer sh(t, "umount", home)
	before := im.subvols()

	plan := func(edit func(*Options)) (*Plan, error) {
		t.Helper()
		top, err := OpenTopDir(im.Top, nil)
		testutil.Must(t, err)
		defer top.Close()
		top.Source = im.Dev
		o := opts("b1")
		o.Fstab = fstab
		edit(&o)
		return top.Plan(o)
	}
	for _, tc := range []struct{ oldRoots, want string }{
		{"persist", `is named "persist", what persistent storage or the Nix store is called, and holds etc, which is no old root`},
		{"state2", fstab + ":2 mounts state2 at /sysroot/persist"},
		{"state2/old_roots", fstab + ":2 mounts state2 at /sysroot/persist"},
		{"pool", "is mounted at " + home},
		{"nix", "holds a Nix store (nix/store/0a1b2c3d4f5g6h7i8j9k0l1m2n3p4q5r-hello)"},
		{"@home/snaps", `is named "@home", what persistent storage or the Nix store is called, and holds 2026-10-01_10:00:00, which is named like an old root but is none: it holds none of nix, proc, sys, dev and run, which every booted root has, and holds alice/thesis.txt`},
		{"data", `is named "data", what persistent storage or the Nix store is called, and holds 2026-10-03_10:00:00, which is named like an old root but is none: it holds none of`},
	} {
		_, err := plan(func(o *Options) { o.OldRoots = tc.oldRoots })
		if !errors.Is(err, ErrStorage) || !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "--old-roots "+tc.oldRoots+" ") {
			t.Errorf("--old-roots %s: %v; want ErrStorage saying %q", tc.oldRoots, err, tc.want)
		}
		p, err := plan(func(o *Options) { o.OldRoots, o.Preview = tc.oldRoots, true })
		if err != nil || !strings.Contains(strings.Join(p.Warnings, "\n"), tc.want) {
			t.Errorf("--old-roots %s, preview: %v; want a warning saying %q", tc.oldRoots, err, tc.want)
		}
	}
	for _, top := range []string{"", ".", "/", "old_roots/.."} {
		if _, err := plan(func(o *Options) { o.OldRoots = top }); !errors.Is(err, ErrUnsafe) {
			t.Errorf("--old-roots %q (the top level): %v; want ErrUnsafe", top, err)
		}
	}
	// the root holding a mounted subvolume
	if _, err := plan(func(o *Options) { o.Subvol, o.SubvolIsRoot = "pool", true }); !errors.Is(err, ErrNotRoot) || !strings.Contains(err.Error(), "is mounted at "+home) {
		t.Errorf("--subvol pool holding pool/home mounted: %v; want ErrNotRoot", err)
	}
	// the real run: the typo changes nothing, the user's subvolume survives
	o := opts("b1")
	o.Fstab, o.OldRoots = fstab, "persist"
	if _, err := im.wipe(o); !errors.Is(err, ErrStorage) {
		t.Errorf("wipe --old-roots persist: %v; want ErrStorage", err)
	}
	wantSame(t, "subvolumes after the refusals", im.subvols(), before)
	if _, err := os.Stat(im.P("persist/2026-10-01_10:00:00/important")); err != nil {
		t.Errorf("the user's subvolume named like a date: %v", err)
	}

	// an empty directory named like storage: nothing in it is not an old root
	if p, err := plan(func(o *Options) { o.OldRoots = "state" }); err != nil {
		t.Errorf("--old-roots state (empty): %v; want a plan", err)
	} else if strings.Contains(strings.Join(p.Warnings, "\n"), "--old-roots") {
		t.Errorf("--old-roots state (empty): warnings %q; want none about it", p.Warnings)
	}

	// a directory of old roots only, named like storage, with one mounted
	look := filepath.Join(t.TempDir(), "look")
	testutil.Must(t, os.MkdirAll(look, 0o755))
	sh(t, "mount", "-o", "subvol=snapshots/2026-10-01_10:00:00", im.Dev, look)
	defer sh(t, "umount", look)
	o.OldRoots, o.Now = "snapshots", time.Now() // the old root 31+ days old
	p, err := im.wipe(o)
	if err != nil {
		t.Fatalf("wipe --old-roots snapshots (old roots only): %v", err)
	}
	if len(p.OldRoots) != 2 || p.OldRoots[0].Delete || !strings.Contains(p.OldRoots[0].Why, "mounted at") {
		t.Errorf("old roots %+v; want the mounted one kept and the root retired", p.OldRoots)
	}
}
