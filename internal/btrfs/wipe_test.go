package btrfs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/testutil"
)

var now = time.Date(2026, 11, 29, 20, 0, 0, 0, time.UTC)

func day(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// wipe opens the top level through OpenTop, plans and applies.
func (im *image) wipe(opts Options) (*Plan, error) {
	im.t.Helper()
	ctx := context.Background()
	top, err := OpenTop(ctx, im.Dev, nil)
	if err != nil {
		im.t.Fatal(err)
	}
	defer func() {
		testutil.Must(im.t, top.Close())
		if _, err := os.Stat(top.Dir); !os.IsNotExist(err) {
			im.t.Errorf("private mount directory %s left behind", top.Dir)
		}
	}()
	p, err := top.Plan(opts)
	if err != nil {
		return nil, err
	}
	return p, top.Apply(ctx, p)
}

func opts(bootID string) Options {
	o := DefaultOptions()
	o.Now, o.BootID = now, bootID
	return o
}

// oldRootNames lists old_roots by name, sorted as strings.
func (im *image) oldRootNames() []string {
	ents, err := os.ReadDir(im.P("old_roots"))
	testutil.Must(im.t, err)
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func wantSame(t *testing.T, what string, got, want []string) {
	t.Helper()
	got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("%s =\n  %q\nwant\n  %q", what, got, want)
	}
}

// TestWipeReal covers the cases where the seed's script goes wrong, on real
// btrfs.
func TestWipeReal(t *testing.T) {
	if !inNamespace(t) {
		return
	}
	t.Run("sixty days, single-digit days", func(t *testing.T) {
		im := newImage(t)
		testutil.Must(t, os.Mkdir(im.P("old_roots"), 0o755))
		var want []string
		for d := 1; d <= 60; d++ {
			ts := now.Add(-day(d))
			name := FormatName(ts, 0)
			im.subvol("old_roots/"+name, ts)
			if d <= 30 {
				want = append(want, name)
			}
		}
		im.subvol("root", now.Add(-time.Hour))
		testutil.Must(t, os.WriteFile(im.P("root/file"), []byte("x"), 0o644))
		testutil.Must(t, os.Chtimes(im.P("root"), now.Add(-time.Hour), now.Add(-time.Hour)))
		p, err := im.wipe(opts("b1"))
		testutil.Must(t, err)
		want = append(want, FormatName(now.Add(-time.Hour), 0))
		wantSame(t, "old_roots", im.oldRootNames(), want)
		// chronological order in the plan, whatever the string order
		for i := 1; i < len(p.OldRoots); i++ {
			if p.OldRoots[i].Time.Before(p.OldRoots[i-1].Time) {
				t.Errorf("plan order: %s before %s", p.OldRoots[i-1].Name, p.OldRoots[i].Name)
			}
		}
		if _, err := os.Stat(im.P("old_roots/" + FormatName(now.Add(-time.Hour), 0) + "/file")); err != nil {
			t.Errorf("retired root lost its file: %v", err)
		}
		if ents, _ := os.ReadDir(im.P("root")); len(ents) != 0 {
			t.Errorf("fresh root not empty: %v", ents)
		}
	})

	t.Run("nested subvolumes with a read-only snapshot", func(t *testing.T) {
		im := newImage(t)
		testutil.Must(t, os.Mkdir(im.P("old_roots"), 0o755))
		old := "old_roots/" + FormatName(now.Add(-day(40)), 0)
		im.subvol(old, time.Time{})
		testutil.Must(t, os.MkdirAll(im.P(old+"/var/lib"), 0o755))
		im.subvol(old+"/var/lib/machines", time.Time{})
		im.subvol(old+"/var/lib/machines/box1", time.Time{})
		sh(t, "btrfs", "subvolume", "snapshot", "-r", im.P(old+"/var/lib/machines/box1"), im.P(old+"/var/lib/machines/box1/.snap-ro"))
		im.subvol(old+"/var/tmp", time.Time{})
		im.subvol("root", now.Add(-time.Hour))
		im.subvol("root/srv", time.Time{})
		testutil.Must(t, os.Chtimes(im.P("root"), now.Add(-time.Hour), now.Add(-time.Hour)))
		_, err := im.wipe(opts("b1"))
		testutil.Must(t, err)
		ret := "old_roots/" + FormatName(now.Add(-time.Hour), 0)
		wantSame(t, "subvolumes", im.subvols(), []string{"root", ret, ret + "/srv"})
	})

	t.Run("read-only old roots holding nested subvolumes", func(t *testing.T) {
		im := newImage(t)
		testutil.Must(t, os.Mkdir(im.P("old_roots"), 0o755))
		ro := "old_roots/" + FormatName(now.Add(-day(40)), 0)
		im.subvol(ro, time.Time{})
		im.subvol(ro+"/srv", time.Time{})
		sh(t, "btrfs", "property", "set", "-ts", im.P(ro), "ro", "true")
		// a writable old root holding a read-only subvolume that holds another
		rw := "old_roots/" + FormatName(now.Add(-day(45)), 0)
		im.subvol(rw, time.Time{})
		im.subvol(rw+"/snap", time.Time{})
		im.subvol(rw+"/snap/inner", time.Time{})
		sh(t, "btrfs", "property", "set", "-ts", im.P(rw+"/snap"), "ro", "true")
		im.subvol("root", now.Add(-time.Hour))
		_, err := im.wipe(opts("b1"))
		testutil.Must(t, err)
		ret := "old_roots/" + FormatName(now.Add(-time.Hour), 0)
		wantSame(t, "subvolumes", im.subvols(), []string{"root", ret})
	})

	t.Run("an old root that cannot be deleted does not keep the others", func(t *testing.T) {
		im := newImage(t)
		testutil.Must(t, os.Mkdir(im.P("old_roots"), 0o755))
		stuck := "old_roots/" + FormatName(now.Add(-day(50)), 0)
		im.subvol(stuck, time.Time{})
		im.subvol(stuck+"/srv", time.Time{})
		sh(t, "chattr", "+i", im.P(stuck+"/srv")) // BTRFS_IOC_SNAP_DESTROY: EPERM
		t.Cleanup(func() { exec.Command("chattr", "-i", im.P(stuck+"/srv")).Run() })
		stuck2 := "old_roots/" + FormatName(now.Add(-day(45)), 0)
		im.subvol(stuck2, time.Time{})
		sh(t, "chattr", "+i", im.P(stuck2))
		t.Cleanup(func() { exec.Command("chattr", "-i", im.P(stuck2)).Run() })
		gone := "old_roots/" + FormatName(now.Add(-day(40)), 0)
		im.subvol(gone, time.Time{})
		im.subvol(gone+"/srv", time.Time{})
		im.subvol("root", now.Add(-time.Hour))
		_, err := im.wipe(opts("b1"))
		if err == nil || !strings.Contains(err.Error(), stuck+"/srv") || !strings.Contains(err.Error(), stuck2) {
			t.Errorf("wipe: %v, want an error naming %s/srv and %s", err, stuck, stuck2)
		}
		ret := "old_roots/" + FormatName(now.Add(-time.Hour), 0)
		wantSame(t, "subvolumes", im.subvols(), []string{"root", ret, stuck, stuck + "/srv", stuck2})
	})

	t.Run("a subvolume in old_roots without an old-root name", func(t *testing.T) {
		im := newImage(t)
		n := time.Now().UTC().Truncate(time.Second)
		testutil.Must(t, os.Mkdir(im.P("old_roots"), 0o755))
		a := FormatName(n.Add(-day(40)), 0)
		b := FormatName(n.Add(-day(50)), 0)
		im.subvol("old_roots/"+a, time.Time{})
		im.subvol("old_roots/"+b, time.Time{})
		// created now (its otime orders it newest), mtime 100 days ago
		im.subvol("old_roots/manual-backup", n.Add(-day(100)))
		im.subvol("root", n.Add(-time.Hour))
		o := opts("b1")
		o.Now, o.KeepMin = n, 2
		p, err := im.wipe(o)
		testutil.Must(t, err)
		// the retired root and a fill --keep-min; manual-backup neither counts
		// nor goes
		wantSame(t, "old_roots", im.oldRootNames(), []string{a, "manual-backup", FormatName(n.Add(-time.Hour), 0)})
		found := false
		for _, w := range p.Warnings {
			found = found || strings.Contains(w, "manual-backup") && strings.Contains(w, "not an old-root name")
		}
		if !found {
			t.Errorf("warnings = %q, want one about manual-backup", p.Warnings)
		}
		top, err := OpenTop(context.Background(), im.Dev, nil)
		testutil.Must(t, err)
		defer top.Close()
		r, err := top.FindOldRoot("old_roots", Latest, time.UTC, time.Now())
		if err != nil || r.Name != FormatName(n.Add(-time.Hour), 0) {
			t.Errorf("latest = %q, %v; want the root just retired", r.Name, err)
		}
	})

	t.Run("same-second collision (C15)", func(t *testing.T) {
		im := newImage(t)
		testutil.Must(t, os.Mkdir(im.P("old_roots"), 0o755))
		ts := time.Date(2026, 11, 9, 7, 58, 11, 0, time.UTC)
		name := FormatName(ts, 0)
		im.subvol("old_roots/"+name, ts)
		im.subvol("old_roots/"+name+".1", ts)
		im.subvol("root", ts)
		p, err := im.wipe(opts("b1"))
		testutil.Must(t, err)
		wantSame(t, "old_roots", im.oldRootNames(), []string{name, name + ".1", name + ".2"})
		if _, err := os.Lstat(im.P("old_roots/" + name + "/root")); err == nil {
			t.Error("the root went inside the existing old root")
		}
		if len(p.Warnings) == 0 {
			t.Error("no warning about the collision")
		}
	})

	t.Run("plain directory and symlink in old_roots", func(t *testing.T) {
		im := newImage(t)
		testutil.Must(t, os.Mkdir(im.P("old_roots"), 0o755))
		im.subvol("keep", time.Time{})
		im.subvol("keep/inner", time.Time{})
		ancient := FormatName(now.Add(-day(90)), 0)
		testutil.Must(t, os.Mkdir(im.P("old_roots/"+ancient), 0o755))
		testutil.Must(t, os.WriteFile(im.P("old_roots/"+ancient+"/data"), []byte("x"), 0o644))
		testutil.Must(t, os.Chtimes(im.P("old_roots/"+ancient), now.Add(-day(90)), now.Add(-day(90))))
		link := FormatName(now.Add(-day(80)), 0)
		testutil.Must(t, os.Symlink("../keep", im.P("old_roots/"+link)))
		im.subvol("root", now.Add(-time.Hour))
		p, err := im.wipe(opts("b1"))
		testutil.Must(t, err)
		wantSame(t, "old_roots", im.oldRootNames(), []string{ancient, link, FormatName(now.Add(-time.Hour), 0)})
		wantSame(t, "subvolumes", im.subvols(), []string{"keep", "keep/inner", "old_roots/" + FormatName(now.Add(-time.Hour), 0), "root"})
		if _, err := os.Stat(im.P("old_roots/" + ancient + "/data")); err != nil {
			t.Error("a plain directory in old_roots was touched")
		}
		if n := len(p.Warnings); n != 2 {
			t.Errorf("warnings = %q, want one per entry left alone", p.Warnings)
		}
	})

	t.Run("mounted old root and mounted root (C18)", func(t *testing.T) {
		im := newImage(t)
		testutil.Must(t, os.Mkdir(im.P("old_roots"), 0o755))
		old := "old_roots/" + FormatName(now.Add(-day(40)), 0)
		im.subvol(old, time.Time{})
		mnt := filepath.Join(filepath.Dir(im.Top), "live"+filepath.Base(im.Top))
		testutil.Must(t, os.MkdirAll(mnt, 0o755))
		sh(t, "mount", "-o", "subvol="+old, im.Dev, mnt)
		im.subvol("root", now.Add(-time.Hour))
		p, err := im.wipe(opts("b1"))
		testutil.Must(t, err)
		if !slices.Contains(im.oldRootNames(), filepath.Base(old)) {
			t.Error("a mounted old root was deleted")
		}
		if len(p.Warnings) == 0 {
			t.Error("no warning about the mounted old root")
		}
		// now mount the root itself: drift refuses to retire it
		sh(t, "umount", mnt)
		sh(t, "mount", "-o", "subvol=root", im.Dev, mnt)
		_, err = im.wipe(opts("b2"))
		if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "mounted") {
			t.Errorf("wipe with the root mounted: %v, want an unsafe-target error", err)
		}
		// A dry run (fresh-user case: drift wipe --dry-run on the running
		// system, as the docs' first example, refused) plans the wipe and
		// says first that the real run would refuse, and why.
		o := opts("b2")
		o.DryRun = true
		top, err := OpenTop(context.Background(), im.Dev, nil)
		testutil.Must(t, err)
		defer top.Close()
		p, err = top.Plan(o)
		if err != nil || len(p.Warnings) == 0 || !strings.HasPrefix(p.Warnings[0], "the real run would refuse: root (subvolume ") || !strings.Contains(p.Warnings[0], "is mounted at "+mnt) {
			t.Fatalf("dry run with the root mounted: %v, warnings %q", err, p.Warnings)
		}
		if len(p.Steps) == 0 {
			t.Errorf("dry run with the root mounted: no step planned")
		}
	})

	t.Run("clock set back", func(t *testing.T) {
		im := newImage(t)
		testutil.Must(t, os.Mkdir(im.P("old_roots"), 0o755))
		ancient := FormatName(now.Add(-day(100)), 0)
		im.subvol("old_roots/"+ancient, time.Time{})
		im.subvol("root", now.Add(-time.Hour))
		o := opts("b1")
		o.Now = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) // an RTC-less board
		p, err := im.wipe(o)
		testutil.Must(t, err)
		if !slices.Contains(im.oldRootNames(), ancient) {
			t.Error("age-based deletion ran with the clock set back")
		}
		if len(p.Warnings) == 0 || !strings.Contains(p.Warnings[0], "clock") {
			t.Errorf("warnings = %q, want one about the clock", p.Warnings)
		}
	})

	t.Run("long idle machine keeps the newest (C13)", func(t *testing.T) {
		im := newImage(t)
		testutil.Must(t, os.Mkdir(im.P("old_roots"), 0o755))
		im.subvol("old_roots/2025-03-28_08:00:00", time.Date(2025, 3, 28, 8, 0, 0, 0, time.UTC))
		im.subvol("old_roots/2025-03-29_08:00:00", time.Date(2025, 3, 29, 8, 0, 0, 0, time.UTC))
		im.subvol("root", time.Date(2025, 3, 30, 10, 0, 0, 0, time.UTC))
		o := opts("b1")
		o.Now = time.Date(2025, 5, 20, 7, 0, 0, 0, time.UTC)
		_, err := im.wipe(o)
		testutil.Must(t, err)
		wantSame(t, "old_roots", im.oldRootNames(), []string{"2025-03-30_10:00:00"})
	})

	t.Run("unsafe targets", func(t *testing.T) {
		im := newImage(t)
		im.subvol("real-root", time.Time{})
		testutil.Must(t, os.Symlink("real-root", im.P("root")))
		before := append(im.subvols(), "real-root/blank", "old_roots/blank")
		for _, tc := range []struct {
			name string
			edit func(*Options)
			want string
		}{
			{"root is a symlink", func(*Options) {}, "symlink"},
			{"root is a plain directory", func(o *Options) { testutil.Must(t, os.MkdirAll(im.P("plain"), 0o755)); o.Subvol = "plain" }, "plain directory"},
			{"old_roots is a symlink", func(o *Options) {
				testutil.Must(t, os.Symlink("real-root", im.P("olds")))
				o.Subvol, o.OldRoots = "real-root", "olds"
			}, "symlink"},
			{"overlap", func(o *Options) { o.Subvol, o.OldRoots = "real-root", "real-root/old" }, "overlap"},
			{"escape", func(o *Options) { o.OldRoots = "../x" }, "clean path"},
			{"missing blank", func(o *Options) { o.Subvol, o.Blank = "real-root", "nope" }, "no such subvolume"},
			{"missing root", func(o *Options) { o.Subvol = "nope" }, "no subvolume nope at the top level"},
			{"blank is the root", func(o *Options) { o.Subvol, o.Blank = "real-root", "real-root" }, "--blank"},
			{"blank inside the root", func(o *Options) {
				im.subvol("real-root/blank", time.Time{})
				o.Subvol, o.Blank = "real-root", "real-root/blank"
			}, "--blank"},
			{"blank inside old_roots", func(o *Options) {
				testutil.Must(t, os.MkdirAll(im.P("old_roots"), 0o755))
				im.subvol("old_roots/blank", time.Time{})
				o.Subvol, o.Blank = "real-root", "old_roots/blank"
			}, "--blank"},
		} {
			o := opts("b1")
			tc.edit(&o)
			_, err := im.wipe(o)
			if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: %v, want an unsafe-target error about %q", tc.name, err, tc.want)
			}
		}
		wantSame(t, "subvolumes after refusals", im.subvols(), before)
	})

	t.Run("after a wipe this boot, a typo is still refused", func(t *testing.T) {
		im := newImage(t)
		im.subvol("root", now.Add(-time.Hour))
		_, err := im.wipe(opts("b1"))
		testutil.Must(t, err)
		before := im.subvols()
		for _, tc := range []struct {
			name string
			edit func(*Options)
			want string
		}{
			{"another missing subvolume", func(o *Options) { o.Subvol = "rooot" }, "no subvolume rooot at the top level"},
			{"missing blank", func(o *Options) { o.Blank = "nope" }, "--blank nope: no such subvolume"},
		} {
			o := opts("b1") // the same boot: the resume exception must not cover these
			tc.edit(&o)
			_, err := im.wipe(o)
			if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: %v, want an unsafe-target error about %q", tc.name, err, tc.want)
			}
		}
		wantSame(t, "subvolumes after refusals", im.subvols(), before)
	})

	t.Run("blank snapshot", func(t *testing.T) {
		im := newImage(t)
		im.subvol("blank", time.Time{})
		testutil.Must(t, os.WriteFile(im.P("blank/marker"), nil, 0o644))
		im.subvol("root", now.Add(-time.Hour))
		o := opts("b1")
		o.Blank = "blank"
		_, err := im.wipe(o)
		testutil.Must(t, err)
		if _, err := os.Stat(im.P("root/marker")); err != nil {
			t.Errorf("root is not a snapshot of blank: %v", err)
		}
	})
}

// TestWipeInterrupted stops the wipe after each step in turn, runs it again
// in the same boot, and checks the end state is that of an uninterrupted
// run: nothing lost, nothing retired twice.
func TestWipeInterrupted(t *testing.T) {
	if !inNamespace(t) {
		return
	}
	setup := func(im *image) {
		// no old_roots yet: the plan starts with mkdir
		im.subvol("root", now.Add(-time.Hour))
		im.subvol("root/var-lib-machines", time.Time{})
		testutil.Must(t, os.WriteFile(im.P("root/precious"), []byte("data"), 0o644))
		testutil.Must(t, os.Chtimes(im.P("root"), now.Add(-time.Hour), now.Add(-time.Hour)))
	}
	ref := newImage(t)
	setup(ref)
	p, err := ref.wipe(opts("boot"))
	testutil.Must(t, err)
	// an old root to delete too: second boot, 40 days later
	second := opts("boot2")
	second.Now = now.Add(day(40))
	setup2 := func(im *image) {
		testutil.Must(t, os.Chtimes(im.P("root"), now.Add(day(39)), now.Add(day(39))))
		testutil.Must(t, os.WriteFile(im.P("root/precious2"), []byte("data2"), 0o644))
		testutil.Must(t, os.Chtimes(im.P("root"), now.Add(day(39)), now.Add(day(39))))
	}
	setup2(ref)
	p2, err := ref.wipe(second)
	testutil.Must(t, err)
	want := ref.subvols()
	wantNames := ref.oldRootNames()
	if len(p.Steps) != 3 || len(p2.Steps) < 4 {
		t.Fatalf("reference plans too short: %v / %v", p.Steps, p2.Steps)
	}
	// run the same wipe again in the same boot: nothing changes
	_, err = ref.wipe(second)
	testutil.Must(t, err)
	wantSame(t, "subvolumes after a repeated run", ref.subvols(), want)

	for _, run := range []struct {
		o     Options
		steps int
	}{{opts("boot"), len(p.Steps)}, {second, len(p2.Steps)}} {
		for k := 0; k < run.steps; k++ {
			t.Run(fmt.Sprintf("%s-after-step-%d", run.o.BootID, k), func(t *testing.T) {
				im := newImage(t)
				setup(im)
				if run.o.BootID == "boot2" {
					_, err := im.wipe(opts("boot"))
					testutil.Must(t, err)
					setup2(im)
				}
				stop := errors.New("power cut")
				afterStep = func(i int, s Step) error {
					if i == k {
						return stop
					}
					return nil
				}
				_, err := im.wipe(run.o)
				afterStep = nil
				if !errors.Is(err, stop) {
					t.Fatalf("interrupted wipe: %v", err)
				}
				_, err = im.wipe(run.o)
				testutil.Must(t, err)
				if run.o.BootID == "boot2" {
					wantSame(t, "subvolumes", im.subvols(), want)
					wantSame(t, "old_roots", im.oldRootNames(), wantNames)
				}
				for _, n := range im.oldRootNames() {
					if b, err := os.ReadFile(im.P("old_roots/" + n + "/precious")); err != nil || string(b) != "data" {
						if run.o.BootID == "boot" {
							t.Errorf("old_roots/%s/precious: %q %v", n, b, err)
						}
					}
				}
				if ents, _ := os.ReadDir(im.P("root")); len(ents) != 0 {
					t.Errorf("root not empty after the second run: %v", ents)
				}
			})
		}
	}
}

// TestOpenTopNotBtrfs: an ext4 device is named as not btrfs, not as a mount
// failing with "invalid argument".
func TestOpenTopNotBtrfs(t *testing.T) {
	if !inNamespace(t) {
		return
	}
	img := filepath.Join(os.Getenv(envDir), "ext4.img")
	f, err := os.Create(img)
	testutil.Must(t, err)
	testutil.Must(t, f.Truncate(64<<20))
	testutil.Must(t, f.Close())
	sh(t, "mkfs.ext4", "-q", "-F", img)
	dev := strings.TrimSpace(sh(t, "losetup", "--find", "--show", img))
	t.Cleanup(func() { exec.Command("losetup", "-d", dev).Run() })
	top, err := OpenTop(context.Background(), dev, nil)
	if err == nil {
		top.Close()
		t.Fatal("OpenTop of an ext4 device: no error")
	}
	if want := dev + " is not a btrfs filesystem"; !strings.Contains(err.Error(), want) {
		t.Errorf("OpenTop: %v, want %q", err, want)
	}
}
