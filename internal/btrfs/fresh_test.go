package btrfs

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestRetiredMark: the mark drift sets at retirement reads back, and the
// marks older drift wrote (the boot alone, or the boot and the subvolume)
// give no retirement time.
func TestRetiredMark(t *testing.T) {
	at := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		v          string
		boot, from string
		at         time.Time
	}{
		{retiredMark("b1", "root", at), "b1", "root", at},
		{retiredMark("", "nixos/root", at.Add(time.Second/2)), "", "nixos/root", at},
		{"b1", "b1", "", time.Time{}},
		{"b1\nroot", "b1", "root", time.Time{}},
		{"b1\nroot\n-5", "b1", "root", time.Time{}},
		{"b1\nroot\n12x", "b1", "root", time.Time{}},
		{"b1\nroot\n99999999999999999999", "b1", "root", time.Time{}},
	} {
		boot, from, got := parseRetiredMark(tc.v, time.UTC)
		if boot != tc.boot || from != tc.from || !got.Equal(tc.at) {
			t.Errorf("parseRetiredMark(%q) = %q, %q, %v; want %q, %q, %v", tc.v, boot, from, got, tc.boot, tc.from, tc.at)
		}
	}
}

// TestAgeFromRetirement: a root drift retired ages from its retirement, one
// it did not from the time in its name (the seed's rule), and a retirement
// recorded before the root's last change (a clock behind) never makes it
// older than its name says.
func TestAgeFromRetirement(t *testing.T) {
	name := time.Date(2026, 10, 26, 5, 0, 0, 0, time.UTC) // 42 days before
	retired := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		what      string
		retiredAt time.Time
		want      time.Time
	}{
		{"retired by drift", retired, retired},
		{"retired by the seed", time.Time{}, name},
		{"retired with the clock behind", time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), name},
	} {
		r := OldRoot{Name: FormatName(name, 0), Kind: KindSubvolume, RetiredAt: tc.retiredAt}
		r.resolveTime(time.UTC)
		if !r.Age.Equal(tc.want) || !r.Time.Equal(name) {
			t.Errorf("%s: age from %v, time %v; want age from %v, time %v", tc.what, r.Age, r.Time, tc.want, name)
		}
	}
	// the plan: a day after, the root retired 42 days after its last change
	// is 1 day old and kept; under the seed's rule it would be 43
	p := &Plan{Options: Options{Now: retired.Add(24 * time.Hour), KeepDays: 30, KeepMin: 0, Location: time.UTC}}
	for _, at := range []time.Time{retired, {}} {
		r := OldRoot{Name: FormatName(name, 0), Path: "old_roots/x", Kind: KindSubvolume, RetiredAt: at}
		r.resolveTime(time.UTC)
		p.OldRoots = []Decision{{OldRoot: r}}
		p.decide(false)
		if d := p.OldRoots[0]; d.Delete != at.IsZero() {
			t.Errorf("retired at %v: delete = %v (%s), want %v", at, d.Delete, d.Why, at.IsZero())
		}
	}
}

// TestWipeResume: what a rerun finds after a wipe was stopped, at the same
// boot or another, on real btrfs.
func TestWipeResume(t *testing.T) {
	if !inNamespace(t) {
		return
	}
	stopAfter := func(k int) func() {
		afterStep = func(i int, s Step) error {
			if i == k {
				return errors.New("power cut")
			}
			return nil
		}
		return func() { afterStep = nil }
	}

	t.Run("root missing after a retirement, rerun at the next boot", func(t *testing.T) {
		im := newImage(t)
		testutil.Must(t, os.Mkdir(im.P("old_roots"), 0o755))
		im.subvol("old_roots/"+FormatName(now.Add(-day(40)), 0), time.Time{})
		im.subvol("root", now.Add(-day(35))) // its name: 35 days old
		testutil.Must(t, os.WriteFile(im.P("root/data"), []byte("x"), 0o644))
		testutil.Must(t, os.Chtimes(im.P("root"), now.Add(-day(35)), now.Add(-day(35))))
		undo := stopAfter(0) // after the retirement
		if _, err := im.wipe(opts("b1")); err == nil {
			t.Fatal("not stopped")
		}
		undo()
		if _, err := os.Lstat(im.P("root")); !os.IsNotExist(err) {
			t.Fatalf("root after the stop: %v", err)
		}
		o := opts("b2")
		o.Now, o.KeepMin = now.Add(time.Hour), 0
		p, err := im.wipe(o)
		testutil.Must(t, err)
		ret := "old_roots/" + FormatName(now.Add(-day(35)), 0)
		wantSame(t, "subvolumes", im.subvols(), []string{"root", ret})
		if len(p.Notes) == 0 || !strings.Contains(p.Notes[0], "root is missing") {
			t.Errorf("notes = %q, want one saying the root was missing", p.Notes)
		}
		if b, err := os.ReadFile(im.P(ret + "/data")); err != nil || string(b) != "x" {
			t.Errorf("%s/data: %q %v", ret, b, err)
		}
	})

	t.Run("a mark of older drift without the subvolume counts at its own boot only", func(t *testing.T) {
		im := newImage(t)
		testutil.Must(t, os.Mkdir(im.P("old_roots"), 0o755))
		old := "old_roots/" + FormatName(now.Add(-day(1)), 0)
		im.subvol(old, time.Time{})
		testutil.Must(t, unix.Lsetxattr(im.P(old), XattrRetired, []byte("b1"), 0))
		if _, err := im.wipe(opts("b2")); !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "no subvolume root") {
			t.Errorf("another boot: %v, want a refusal", err)
		}
		_, err := im.wipe(opts("b1"))
		testutil.Must(t, err)
		wantSame(t, "subvolumes", im.subvols(), []string{old, "root"})
	})

	t.Run("the fresh root's other name", func(t *testing.T) {
		im := newImage(t)
		im.subvol("root", now.Add(-time.Hour))
		testutil.Must(t, os.WriteFile(im.P("root/data"), []byte("x"), 0o644))
		testutil.Must(t, os.Mkdir(im.P(".drift-new-root"), 0o755)) // a plain directory
		if _, err := im.wipe(opts("b1")); !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), ".drift-new-root") {
			t.Errorf("a plain directory at .drift-new-root: %v", err)
		}
		testutil.Must(t, os.Remove(im.P(".drift-new-root")))
		im.subvol(".drift-new-root", time.Time{})
		testutil.Must(t, os.WriteFile(im.P(".drift-new-root/mine"), nil, 0o644))
		if _, err := im.wipe(opts("b1")); !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "not empty") {
			t.Errorf("a subvolume with something in it at .drift-new-root: %v", err)
		}
		wantSame(t, "subvolumes after refusals", im.subvols(), []string{".drift-new-root", "root"})
		testutil.Must(t, os.Remove(im.P(".drift-new-root/mine")))
		id := subvolID(t, im.P(".drift-new-root"))
		p, err := im.wipe(opts("b1"))
		testutil.Must(t, err)
		if !slices.ContainsFunc(p.Steps, func(s Step) bool { return s.Action == ActCreate && s.Reuse }) {
			t.Errorf("steps = %v, want the fresh root reused", p.Steps)
		}
		if got := subvolID(t, im.P("root")); got != id {
			t.Errorf("root is subvolume %s, want %s (the one left at .drift-new-root)", got, id)
		}
		if getxattr(im.P("root"), XattrCreated) != "b1" {
			t.Error("the reused fresh root is not marked")
		}
	})

	t.Run("an empty fresh root of an earlier boot is not retired again", func(t *testing.T) {
		im := newImage(t)
		testutil.Must(t, os.Mkdir(im.P("old_roots"), 0o755))
		for _, d := range []int{50, 40} {
			im.subvol("old_roots/"+FormatName(now.Add(-day(d)), 0), time.Time{})
		}
		im.subvol("root", now.Add(-time.Hour))
		testutil.Must(t, os.WriteFile(im.P("root/data"), []byte("x"), 0o644))
		testutil.Must(t, os.Chtimes(im.P("root"), now.Add(-time.Hour), now.Add(-time.Hour)))
		undo := stopAfter(1) // after the fresh root, before the deletions
		if _, err := im.wipe(opts("b1")); err == nil {
			t.Fatal("not stopped")
		}
		undo()
		o := opts("b2")
		o.KeepMin = 0
		p, err := im.wipe(o)
		testutil.Must(t, err)
		ret := "old_roots/" + FormatName(now.Add(-time.Hour), 0)
		wantSame(t, "subvolumes", im.subvols(), []string{"root", ret})
		if len(p.Notes) == 0 || !strings.Contains(p.Notes[0], "unchanged since") {
			t.Errorf("notes = %q", p.Notes)
		}
		if got := getxattr(im.P("root"), XattrCreated); got != "b2" {
			t.Errorf("the fresh root is marked %q, want b2: drift check would say the wipe did not run at this boot", got)
		}
		// a root the boot used is retired, whoever made it
		testutil.Must(t, os.WriteFile(im.P("root/used"), nil, 0o644))
		_, err = im.wipe(opts("b3"))
		testutil.Must(t, err)
		if n := len(im.oldRootNames()); n != 2 {
			t.Errorf("old roots after a used root's wipe: %v", im.oldRootNames())
		}
	})
}

// TestWipeResumeBlank: with --blank the fresh root is not empty; a rerun
// at the next boot knows it is unused from the record on the top level (its
// ctransid unchanged), and retires it once anything has written to it.
func TestWipeResumeBlank(t *testing.T) {
	if !inNamespace(t) {
		return
	}
	im := newImage(t)
	im.subvol("blank", time.Time{})
	testutil.Must(t, os.MkdirAll(im.P("blank/etc"), 0o755))
	testutil.Must(t, os.WriteFile(im.P("blank/etc/issue"), []byte("blank"), 0o644))
	testutil.Must(t, os.Mkdir(im.P("old_roots"), 0o755))
	for _, d := range []int{50, 40, 20} {
		im.subvol("old_roots/"+FormatName(now.Add(-day(d)), 0), time.Time{})
	}
	im.subvol("root", now.Add(-time.Hour))
	testutil.Must(t, os.WriteFile(im.P("root/data"), []byte("x"), 0o644))
	testutil.Must(t, os.Chtimes(im.P("root"), now.Add(-time.Hour), now.Add(-time.Hour)))
	afterStep = func(i int, s Step) error {
		if s.Action == ActSnapshot {
			return errors.New("power cut")
		}
		return nil
	}
	o := opts("b1")
	o.Blank, o.KeepMin = "blank", 2
	_, err := im.wipe(o)
	afterStep = nil
	if err == nil {
		t.Fatal("not stopped")
	}
	ret := "old_roots/" + FormatName(now.Add(-time.Hour), 0)
	o.BootID = "b2"
	p, err := im.wipe(o)
	testutil.Must(t, err)
	// the uninterrupted run's end: the retired root and one more kept
	wantSame(t, "subvolumes", im.subvols(), []string{"blank", "old_roots/" + FormatName(now.Add(-day(20)), 0), ret, "root"})
	if len(p.Notes) == 0 || !strings.Contains(p.Notes[0], "unchanged since") {
		t.Errorf("notes = %q", p.Notes)
	}
	if got := getxattr(im.P("root"), XattrCreated); got != "b2" {
		t.Errorf("the fresh root is marked %q, want b2", got)
	}
	// marked again and recorded again: still fresh at a third boot
	o.BootID = "b2b"
	if p, err := im.wipe(o); err != nil || len(p.Notes) == 0 || !strings.Contains(p.Notes[0], "unchanged since") {
		t.Errorf("a third boot: %v, notes %q", err, p.Notes)
	}
	if b, err := os.ReadFile(im.P("root/etc/issue")); err != nil || string(b) != "blank" {
		t.Errorf("root/etc/issue: %q, %v", b, err)
	}
	// a boot wrote to it: the next wipe retires it
	testutil.Must(t, os.WriteFile(im.P("root/etc/booted"), nil, 0o644))
	o.BootID = "b3"
	_, err = im.wipe(o)
	testutil.Must(t, err)
	if n := len(im.oldRootNames()); n != 3 {
		t.Errorf("old roots after the used root's wipe: %v, want 3 (2 kept by --keep-min, 1 retired now)", im.oldRootNames())
	}
}

// subvolID is the id of the subvolume whose root directory is p.
func subvolID(t *testing.T, p string) string {
	t.Helper()
	return strings.TrimSpace(sh(t, "btrfs", "inspect-internal", "rootid", p))
}
