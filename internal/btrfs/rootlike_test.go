package btrfs

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestWipeDeletesOnlyRoots: drift wipe --old-roots DIR deletes an expired
// entry only when it looks like a root (rootLike). A tester pointed
// --old-roots at a directory of date-named home snapshots: the plan said
// "97 days old" and the real run deleted a user's thesis. Now such a
// snapshot is kept, in the dry run and the real run, with the reason; the
// real old roots beside it (a booted root the seed script retired, one a
// boot stopped in before switch-root, an empty one, one drift retired
// that holds only data) are still deleted, and the snapshot does not count
// for --keep-min.
func TestWipeDeletesOnlyRoots(t *testing.T) {
	if !inNamespace(t) {
		return
	}
	im := newImage(t)
	testutil.Must(t, os.Mkdir(im.P("old_roots"), 0o755))
	name := func(d int) string { return "old_roots/" + FormatName(now.Add(-day(d)), 0) }
	home, dev := name(97), name(96)
	im.subvol(home, time.Time{})
	im.put(home + "/alice/thesis.txt")
	im.subvol(dev, time.Time{}) // a user called dev: one of the marks by chance
	im.put(dev+"/dev/notes.txt", dev+"/nix/x")
	booted, early, empty, marked := name(90), name(80), name(70), name(60)
	im.subvol(booted, time.Time{})
	for _, d := range []string{"nix", "proc", "sys", "dev", "run"} {
		testutil.Must(t, os.Mkdir(im.P(booted+"/"+d), 0o755))
	}
	im.put(booted+"/etc/machine-id", booted+"/var/log/journal/x")
	im.subvol(early, time.Time{}) // stage 1 made the mount points, then the boot stopped
	for _, d := range []string{"nix", "persist", "var/log", "etc"} {
		testutil.Must(t, os.MkdirAll(im.P(early+"/"+d), 0o755))
	}
	im.subvol(empty, time.Time{})
	im.subvol(marked, time.Time{})
	im.put(marked + "/var/lib/app/state")
	testutil.Must(t, unix.Lsetxattr(im.P(marked), XattrRetired, []byte(retiredMark("b0", "root", now.Add(-day(60)))), 0))
	im.subvol("root", now.Add(-time.Hour))
	im.put("root/etc/passwd")
	testutil.Must(t, os.Chtimes(im.P("root"), now.Add(-time.Hour), now.Add(-time.Hour)))

	top, err := OpenTop(context.Background(), im.Dev, nil)
	testutil.Must(t, err)
	o := opts("b1")
	o.DryRun = true
	dry, err := top.Plan(o)
	testutil.Must(t, top.Close())
	testutil.Must(t, err)
	p, err := im.wipe(opts("b1"))
	testutil.Must(t, err)
	for _, pl := range []*Plan{dry, p} {
		why := map[string]string{}
		for _, d := range pl.OldRoots {
			why[d.Path] = d.Why
			if d.Delete != slices.Contains([]string{booted, early, empty, marked}, d.Path) {
				t.Errorf("dry run %v: %s delete=%v (%s)", pl == dry, d.Path, d.Delete, d.Why)
			}
		}
		if want := "kept: does not look like a root: holds none of nix, proc, sys, dev and run, which every booted root has, and holds alice/thesis.txt"; why[home] != want {
			t.Errorf("dry run %v: %s: %q, want %q", pl == dry, home, why[home], want)
		}
		if !strings.Contains(why[dev], "lacks proc, sys and run") || !strings.Contains(why[dev], "holds dev/notes.txt") {
			t.Errorf("dry run %v: %s: %q", pl == dry, dev, why[dev])
		}
		if !strings.Contains(strings.Join(pl.Warnings, "\n"), home+" does not look like a root") {
			t.Errorf("dry run %v: warnings %q, want one naming %s", pl == dry, pl.Warnings, home)
		}
	}
	wantSame(t, "old_roots", im.oldRootNames(), []string{FormatName(now.Add(-day(97)), 0), FormatName(now.Add(-day(96)), 0), FormatName(now.Add(-time.Hour), 0)})
	if _, err := os.Stat(im.P(home + "/alice/thesis.txt")); err != nil {
		t.Errorf("the home snapshot lost its file: %v", err)
	}

	// Alone in --old-roots, with --keep-min 1: the snapshots are kept, and
	// they fill no place of --keep-min (the root just retired does). Named
	// like storage ("snapshots"), the directory is refused for holding them
	// (TestWipeRefusesStorageOldRoots); "backups" is no storage name.
	im2 := newImage(t)
	testutil.Must(t, os.Mkdir(im2.P("backups"), 0o755))
	im2.subvol("backups/2026-09-01_10:00:00", time.Time{})
	im2.put("backups/2026-09-01_10:00:00/alice/thesis.txt")
	im2.subvol("backups/2026-08-01_10:00:00", time.Time{})
	im2.subvol("root", now.Add(-time.Hour))
	o = opts("b1")
	o.OldRoots, o.KeepMin = "backups", 1
	p, err = im2.wipe(o)
	testutil.Must(t, err)
	ents, err := os.ReadDir(im2.P("backups"))
	testutil.Must(t, err)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	wantSame(t, "backups", got, []string{"2026-09-01_10:00:00", FormatName(now.Add(-time.Hour), 0)})
	for _, d := range p.OldRoots {
		if d.Name == "2026-09-01_10:00:00" && !strings.HasPrefix(d.Why, "kept: does not look like a root: ") {
			t.Errorf("--old-roots backups: %s: %q", d.Name, d.Why)
		}
	}
}

// TestRootLikeRule: the one rule, on directories (no btrfs needed): what
// each answer says.
func TestRootLikeRule(t *testing.T) {
	mk := func(paths ...string) string {
		d := t.TempDir()
		for _, p := range paths {
			if strings.HasSuffix(p, "/") {
				testutil.Must(t, os.MkdirAll(d+"/"+p, 0o755))
				continue
			}
			testutil.Must(t, os.MkdirAll(d+"/"+p[:strings.LastIndex(p, "/")], 0o755))
			testutil.Must(t, os.WriteFile(d+"/"+p, nil, 0o644))
		}
		return d
	}
	for _, tc := range []struct {
		name  string
		paths []string
		want  string
	}{
		{"empty", nil, ""},
		{"mount points only", []string{"nix/", "persist/", "var/log/"}, ""},
		{"booted", []string{"nix/", "proc/", "sys/", "dev/", "run/", "etc/passwd"}, ""},
		{"home snapshot", []string{"alice/thesis.txt"}, "holds none of nix, proc, sys, dev and run, which every booted root has, and holds alice/thesis.txt"},
		{"a file at the top", []string{"nix/", "x/y/", "z/f"}, "lacks proc, sys, dev and run, which every booted root has (it has nix), and holds z/f"},
	} {
		if got := rootLike(mk(tc.paths...)); got != tc.want {
			t.Errorf("%s: rootLike = %q, want %q", tc.name, got, tc.want)
		}
	}
	many := mk()
	for i := range maxBareEntries + 1 {
		testutil.Must(t, os.Mkdir(many+"/"+strings.Repeat("d", 1+i%200)+string(rune('a'+i/200)), 0o755))
	}
	if got := rootLike(many); !strings.HasSuffix(got, "holds more than 256 entries") {
		t.Errorf("many directories: %q", got)
	}
	link := mk()
	testutil.Must(t, os.Symlink("/etc", link+"/etc"))
	if got := rootLike(link); !strings.HasSuffix(got, "holds etc") {
		t.Errorf("a symlink: %q", got)
	}
}

// TestNotARootIsNeverTheLatest: the home snapshot drift wipe keeps because
// it does not look like a root is no previous boot's root either. A tester
// found the wipe kept a date-named home snapshot newer than the real old
// roots, while drift roots still marked it "the previous boot's root (drift
// restore --from latest)": restore --from latest and check's history would
// have read a user's snapshot as the last boot. One rule (PastBoot reads
// OldRoot.NotRoot) for the wipe, roots, restore and check.
func TestNotARootIsNeverTheLatest(t *testing.T) {
	if !inNamespace(t) {
		return
	}
	im := newImage(t)
	testutil.Must(t, os.Mkdir(im.P("old_roots"), 0o755))
	booted := "old_roots/" + FormatName(now.Add(-day(3)), 0)
	snap := "old_roots/" + FormatName(now.Add(-day(1)), 0)
	im.subvol(booted, time.Time{})
	for _, d := range []string{"nix", "proc", "sys", "dev", "run"} {
		testutil.Must(t, os.Mkdir(im.P(booted+"/"+d), 0o755))
	}
	im.put(booted + "/etc/machine-id")
	im.subvol(snap, time.Time{})
	im.put(snap + "/alice/thesis.txt")
	im.subvol("root", now.Add(-time.Hour))
	im.put("root/etc/passwd")

	top, err := OpenTop(context.Background(), im.Dev, nil)
	testutil.Must(t, err)
	defer func() { testutil.Must(t, top.Close()) }()
	subs, err := top.Subvolumes()
	testutil.Must(t, err)
	roots, err := top.OldRoots("old_roots", subs, nil, time.UTC)
	testutil.Must(t, err)
	got, err := PickOldRoot(roots, Latest, now)
	testutil.Must(t, err)
	if got.Path != booted {
		t.Errorf("--from latest picked %s, want the booted root %s", got.Path, booted)
	}
	rec := oldRootLook{roots: roots, kinds: []Kind{KindSubvolume}, live: func(OldRoot) bool { return false }}.recent(5, now)
	if len(rec.Roots) != 1 || rec.Roots[0].Path != booted || rec.Count != 1 || len(rec.NotRoots) != 1 || rec.NotRoots[0].Path != snap {
		t.Errorf("the last boots: roots %v (count %d), not roots %v; want only %s, and %s named as no root", rec.Roots, rec.Count, rec.NotRoots, booted, snap)
	}
	o := opts("b1")
	o.DryRun = true
	p, err := top.Plan(o)
	testutil.Must(t, err)
	for _, d := range p.OldRoots {
		if d.Previous != (d.Path == booted) {
			t.Errorf("drift roots: %s previous=%v (%s)", d.Path, d.Previous, d.Why)
		}
	}
}

// TestApplyRechecksRootLike: an old root the plan deletes is checked
// again, before each of its steps, to look like a root. Between the plan
// and the deletion (a dry run read, then the real run; or a user copying
// files into an old root while the plan is printed) a booted root can be
// emptied of its mount points and filled with a user's files: it is kept,
// nested subvolumes included, the plan's decision and a warning say why,
// and Apply reports no failure. Another old root of the same plan is still
// deleted. Rechecked before every step: one changed after its nested
// subvolume was deleted is kept too.
func TestApplyRechecksRootLike(t *testing.T) {
	if !inNamespace(t) {
		return
	}
	im := newImage(t)
	testutil.Must(t, os.Mkdir(im.P("old_roots"), 0o755))
	name := func(d int) string { return "old_roots/" + FormatName(now.Add(-day(d)), 0) }
	changed, other, late := name(90), name(80), name(70)
	for _, r := range []string{changed, other, late} {
		im.subvol(r, time.Time{})
		for _, d := range bootedMarks {
			testutil.Must(t, os.Mkdir(im.P(r+"/"+d), 0o755))
		}
		im.put(r + "/etc/machine-id")
	}
	testutil.Must(t, os.MkdirAll(im.P(changed+"/var/lib"), 0o755))
	im.subvol(changed+"/var/lib/machines", time.Time{})
	testutil.Must(t, os.MkdirAll(im.P(late+"/var/lib"), 0o755))
	im.subvol(late+"/var/lib/machines", time.Time{})
	im.subvol("root", now.Add(-time.Hour))
	im.put("root/etc/passwd")
	testutil.Must(t, os.Chtimes(im.P("root"), now.Add(-time.Hour), now.Add(-time.Hour)))

	top, err := OpenTop(context.Background(), im.Dev, nil)
	testutil.Must(t, err)
	defer func() { testutil.Must(t, top.Close()) }()
	p, err := top.Plan(opts("b1"))
	testutil.Must(t, err)
	for _, d := range p.OldRoots {
		if d.Delete != (d.Path == changed || d.Path == other || d.Path == late) {
			t.Fatalf("plan: %s delete=%v (%s)", d.Path, d.Delete, d.Why)
		}
	}
	// after the plan: changed is no root any more
	for _, d := range bootedMarks {
		testutil.Must(t, os.Remove(im.P(changed+"/"+d)))
	}
	im.put(changed + "/alice/thesis.txt")
	// late changes once its nested subvolume is deleted
	afterStep = func(i int, s Step) error {
		if s.Path == late+"/var/lib/machines" {
			testutil.Must(t, os.Remove(im.P(late+"/nix")))
			im.put(late + "/alice/notes.txt")
		}
		return nil
	}
	defer func() { afterStep = nil }()
	if err := top.Apply(context.Background(), p); err != nil {
		t.Fatalf("Apply: %v; want no failure (changed old roots kept)", err)
	}
	ret := "old_roots/" + FormatName(now.Add(-time.Hour), 0)
	wantSame(t, "subvolumes", im.subvols(), []string{"root", ret, changed, changed + "/var/lib/machines", late})
	if _, err := os.Stat(im.P(changed + "/alice/thesis.txt")); err != nil {
		t.Errorf("the changed old root lost its file: %v", err)
	}
	warnings := strings.Join(p.Warnings, "\n")
	for _, r := range []string{changed, late} {
		if !strings.Contains(warnings, r+" no longer looks like a root (it changed since the plan): it ") {
			t.Errorf("warnings %q; want one naming %s", p.Warnings, r)
		}
	}
	for _, d := range p.OldRoots {
		switch d.Path {
		case changed, late:
			if d.Delete || !strings.HasPrefix(d.Why, "kept: no longer looks like a root: ") || d.NotRoot == "" {
				t.Errorf("%s: delete=%v why=%q notRoot=%q; want kept, saying why", d.Path, d.Delete, d.Why, d.NotRoot)
			}
		case other:
			if !d.Delete {
				t.Errorf("%s: kept (%s); want deleted", d.Path, d.Why)
			}
		}
	}
	for _, s := range p.Steps {
		if s.Action == ActDelete && s.Done != (s.Path == other || s.Path == late+"/var/lib/machines") {
			t.Errorf("step %s done=%v", s, s.Done)
		}
	}
}
