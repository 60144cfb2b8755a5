package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/testutil"
)

// wipeImage is a fresh btrfs image for comparing drift wipe with the seed's
// script; its top level is mounted at top by the test.
type wipeImage struct {
	t             *testing.T
	img, top, dev string
}

func newWipeImage(t *testing.T, name string) *wipeImage {
	t.Helper()
	dir := childDir(t)
	w := &wipeImage{t: t, img: filepath.Join(dir, name+".img"), top: filepath.Join(dir, name+"-top")}
	testutil.Must(t, os.MkdirAll(w.top, 0o755))
	f, err := os.Create(w.img)
	testutil.Must(t, err)
	testutil.Must(t, f.Truncate(256<<20))
	testutil.Must(t, f.Close())
	run(t, "mkfs.btrfs", "-q", "-f", w.img)
	run(t, "mount", "-o", "loop,subvolid=5", w.img, w.top)
	t.Cleanup(func() { command("umount", w.top).Run() })
	out := strings.TrimSpace(run(t, "findmnt", "-n", "-o", "SOURCE", "--mountpoint", w.top))
	w.dev = strings.SplitN(out, "[", 2)[0]
	return w
}

func (w *wipeImage) subvol(p string, mtime time.Time) {
	run(w.t, "btrfs", "subvolume", "create", filepath.Join(w.top, p))
	if !mtime.IsZero() {
		testutil.Must(w.t, os.Chtimes(filepath.Join(w.top, p), mtime, mtime))
	}
}

// tree is every subvolume path and every entry of old_roots, sorted.
func (w *wipeImage) tree() []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(run(w.t, "btrfs", "subvolume", "list", w.top)), "\n") {
		if i := strings.Index(l, " path "); i >= 0 {
			out = append(out, "subvol "+l[i+len(" path "):])
		}
	}
	for _, n := range readDirNames(w.t, filepath.Join(w.top, "old_roots")) {
		out = append(out, "entry old_roots/"+n)
	}
	slices.Sort(out)
	return out
}

// canonicalNames writes each old root's name in lines of tree as drift wipe
// names it (btrfs.FormatName of what btrfs.ParseName reads: the seed's
// 2026-12-7_… is 2026-12-07_…), and sorts them again.
func canonicalNames(tree []string) []string {
	out := make([]string, len(tree))
	for i, l := range tree {
		out[i] = l
		if pre, rest, ok := strings.Cut(l, "old_roots/"); ok {
			name, below, _ := strings.Cut(rest, "/")
			if n, err := btrfs.ParseName(name, time.UTC); err == nil {
				out[i] = pre + "old_roots/" + n.String()
				if below != "" {
					out[i] += "/" + below
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// seed runs the seed guide's script on w's device, with its own mount point.
func (w *wipeImage) seed() error {
	tmp := filepath.Join(childDir(w.t), filepath.Base(w.top)+"-btrfs_tmp")
	script := strings.ReplaceAll(seedWipe(w.t), "/btrfs_tmp", tmp)
	script = strings.ReplaceAll(script, "/dev/disk/by-partlabel/disk-main-root", w.dev)
	cmd := command("bash", "-c", script)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	out, err := cmd.CombinedOutput()
	w.t.Logf("seed script:\n%s", out)
	os.Remove(tmp)
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

func (w *wipeImage) drift(args ...string) string {
	out, err := command(os.Getenv(envDrift), append([]string{"wipe", "--device", w.dev, "--resume-device", "none"}, args...)...).CombinedOutput()
	w.t.Logf("drift wipe:\n%s", out)
	if err != nil {
		w.t.Fatalf("drift wipe: %v", err)
	}
	return string(out)
}

// TestWipeMatchesSeed: on identical inputs where the seed's script is
// right, drift wipe leaves the same subvolumes with the same names, but
// for the day of the root it retires, which drift pads (names that sort by
// time, as drift lint asks: wipe-old-root-name). Where
// it is wrong (C15: a second root with the same mtime goes inside the old
// root), drift names it .1.
func TestWipeMatchesSeed(t *testing.T) {
	if !driftChild(t) {
		return // the test ran in a private mount namespace
	}
	now := time.Now().UTC().Truncate(time.Second)
	setup := func(w *wipeImage) {
		testutil.Must(t, os.Mkdir(filepath.Join(w.top, "old_roots"), 0o755))
		for _, d := range []int{45, 40, 10, 2} {
			ts := now.Add(-time.Duration(d) * 24 * time.Hour)
			name := "old_roots/" + ts.Format("2006-01-2_15:04:05")
			w.subvol(name, time.Time{})
			if d == 40 {
				w.subvol(name+"/var-lib-machines", time.Time{})
				w.subvol(name+"/var-lib-machines/box", time.Time{})
			}
			testutil.Must(t, os.Chtimes(filepath.Join(w.top, name), ts, ts))
		}
		w.subvol("root", time.Time{})
		testutil.Must(t, os.WriteFile(filepath.Join(w.top, "root", "file"), []byte("x"), 0o644))
		w.subvol("root/srv", time.Time{})
		ts := now.Add(-time.Hour)
		testutil.Must(t, os.Chtimes(filepath.Join(w.top, "root"), ts, ts))
	}
	a, b := newWipeImage(t, "seed"), newWipeImage(t, "drift")
	setup(a)
	setup(b)
	testutil.Must(t, a.seed())
	b.drift()
	// The same tree, but for the retired root's name: the seed's has an
	// unpadded day, drift wipe's a padded one (names that sort by time).
	if ta, tb := canonicalNames(a.tree()), canonicalNames(b.tree()); !slices.Equal(ta, tb) {
		t.Fatalf("after the seed's script:\n  %s\nafter drift wipe:\n  %s", strings.Join(ta, "\n  "), strings.Join(tb, "\n  "))
	} else {
		t.Logf("same tree:\n  %s", strings.Join(ta, "\n  "))
	}

	// Two roots with one mtime: the fresh root, used by a boot, gets the
	// same mtime as the one just retired (field case C15).
	retired := now.Add(-time.Hour).Format("2006-01-2_15:04:05") // the seed's name
	driftRetired := btrfs.FormatName(now.Add(-time.Hour), 0)
	for _, w := range []*wipeImage{a, b} {
		ts := now.Add(-time.Hour)
		testutil.Must(t, os.WriteFile(filepath.Join(w.top, "root", "booted"), nil, 0o644))
		testutil.Must(t, os.Chtimes(filepath.Join(w.top, "root"), ts, ts))
	}
	a.seed() // mv puts the root inside old_roots/<ts>
	b.drift("--boot-id", "next-boot")
	if !slices.Contains(a.tree(), "subvol old_roots/"+retired+"/root") {
		t.Errorf("the seed's script did not nest the root (C15): %q", a.tree())
	}
	tb := b.tree()
	if !slices.Contains(tb, "entry old_roots/"+driftRetired+".1") || slices.Contains(tb, "subvol old_roots/"+driftRetired+"/root") {
		t.Errorf("drift wipe on a collision: %q, want old_roots/%s.1", tb, driftRetired)
	}
}

// TestRootsOrder: drift roots lists old roots by real time (2026-11-10 after
// 2026-11-9, a .1 after its twin), with the nested subvolumes of each, and
// says which ones the next wipe deletes.
func TestRootsOrder(t *testing.T) {
	if !driftChild(t) {
		return // the test ran in a private mount namespace
	}
	w := newWipeImage(t, "roots")
	testutil.Must(t, os.Mkdir(filepath.Join(w.top, "old_roots"), 0o755))
	for _, n := range []string{"2026-11-10_08:00:00", "2026-11-9_08:00:00.1", "2026-11-9_08:00:00", "2026-10-1_08:00:00"} {
		w.subvol("old_roots/"+n, time.Time{})
	}
	w.subvol("old_roots/2026-10-1_08:00:00/var-tmp", time.Time{})
	w.subvol("root", time.Date(2026, 11, 29, 19, 0, 0, 0, time.UTC))
	out, err := command(os.Getenv(envDrift), "roots", "--top", w.top, "--now", "2026-11-29T20:00:00Z").CombinedOutput()
	t.Logf("drift roots:\n%s", out)
	testutil.Must(t, err)
	var order []string
	for _, l := range strings.Split(string(out), "\n") {
		switch f := strings.Fields(strings.ReplaceAll(l, "│", " ")); { // cells of the table; borders are one field
		case len(f) == 1:
		case len(f) > 1 && f[0] == "└":
			order = append(order, "└ "+f[1])
		case len(f) > 2 && f[0] != "OLD":
			order = append(order, f[0]+" "+f[2])
		}
	}
	want := []string{"2026-10-1_08:00:00 delete", "└ var-tmp", "2026-11-9_08:00:00 keep", "2026-11-9_08:00:00.1 keep", "2026-11-10_08:00:00 keep", "2026-11-29_19:00:00 keep"}
	if !slices.Equal(order, want) {
		t.Errorf("drift roots order:\n  %q\nwant\n  %q", order, want)
	}
}

// TestWipeLongUptime: a root whose mtime is 42 days old (a server up for
// six weeks) is retired under that old name, kept by this boot's wipe and —
// unlike with the seed's rule, which counts from the name — by the next
// boot's too, since drift counts from the retirement it recorded. An old
// root drift did not retire still goes by the seed's rule. Also what a user
// sees right after the wipe: a second dry run says why it has nothing to
// do, and drift roots lists the retired root as kept.
func TestWipeLongUptime(t *testing.T) {
	if !driftChild(t) {
		return // the test ran in a private mount namespace
	}
	w := newWipeImage(t, "uptime")
	now := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	ago := func(d int) time.Time { return now.Add(-time.Duration(d) * 24 * time.Hour) }
	name := func(t time.Time) string { return t.Format("2006-01-2_15:04:05") } // the seed's spelling
	driftName := func(t time.Time) string { return btrfs.FormatName(t, 0) }    // drift wipe's
	testutil.Must(t, os.Mkdir(filepath.Join(w.top, "old_roots"), 0o755))
	w.subvol("old_roots/"+name(ago(60)), ago(60)) // retired by the seed's script
	w.subvol("root", time.Time{})
	testutil.Must(t, os.WriteFile(filepath.Join(w.top, "root", "uptime-log"), []byte("six weeks"), 0o644))
	testutil.Must(t, os.Chtimes(filepath.Join(w.top, "root"), ago(42), ago(42)))
	retired := "old_roots/" + driftName(ago(42))

	w.drift("--boot-id", "boot-a", "--now", now.Format(time.RFC3339))
	if got, want := w.tree(), []string{"entry " + retired, "subvol " + retired, "subvol root"}; !slices.Equal(got, want) {
		t.Fatalf("after the first boot's wipe: %q, want %q", got, want)
	}
	out := w.drift("--boot-id", "boot-a", "--now", now.Format(time.RFC3339), "--dry-run")
	if !strings.Contains(out, "0 steps") || !strings.Contains(out, "note: already wiped at this boot") {
		t.Errorf("a second dry run at the same boot does not say why it does nothing:\n%s", out)
	}
	// the fresh root's mtime in the same second as the retired root's name:
	// the preview names it .1 without warning about a collision it does not
	// make now
	testutil.Must(t, os.Chtimes(filepath.Join(w.top, "root"), ago(42), ago(42)))
	roots, err := command(os.Getenv(envDrift), "roots", "--top", w.top, "--now", now.Add(time.Minute).Format(time.RFC3339)).CombinedOutput()
	t.Logf("drift roots:\n%s", roots)
	testutil.Must(t, err)
	if !regexp.MustCompile(regexp.QuoteMeta(driftName(ago(42))) + `\s*│\s*0d\s*│\s*keep`).Match(roots) {
		t.Errorf("drift roots right after the wipe does not list %s as kept, 0 days old", retired)
	}
	if strings.Contains(string(roots), "exists already") || strings.Contains(string(roots), "delete") {
		t.Errorf("drift roots right after the wipe warns of a collision or plans a deletion")
	}
	if strings.Contains(string(roots), name(ago(60))) {
		t.Errorf("drift roots right after the wipe lists %s, which the wipe deleted", name(ago(60)))
	}
	if !strings.Contains(string(roots), driftName(ago(42))+".1") {
		t.Errorf("drift roots does not name the root now %s.1 (the collision this check is about did not happen)", driftName(ago(42)))
	}

	// the next boot, a day later
	testutil.Must(t, os.WriteFile(filepath.Join(w.top, "root", "day2"), []byte("x"), 0o644))
	next := now.Add(24 * time.Hour)
	testutil.Must(t, os.Chtimes(filepath.Join(w.top, "root"), next.Add(-time.Hour), next.Add(-time.Hour)))
	w.drift("--boot-id", "boot-b", "--now", next.Format(time.RFC3339), "--keep-min", "1")
	tb := w.tree()
	if !slices.Contains(tb, "subvol "+retired) {
		t.Errorf("the next boot deleted %s, retired a day before (its name is 43 days old): %q", retired, tb)
	}
	if b, err := os.ReadFile(filepath.Join(w.top, retired, "uptime-log")); err != nil || string(b) != "six weeks" {
		t.Errorf("%s/uptime-log: %q, %v", retired, b, err)
	}
	if !slices.Contains(tb, "subvol old_roots/"+driftName(next.Add(-time.Hour))) {
		t.Errorf("the second boot's root was not retired: %q", tb)
	}
}
