package diff

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"path"
	"runtime"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
)

// mountShapes are tables of n mounts (after btrfsSystem) and declarations
// that make Check ask something of every mount: bind mounts from the
// storage path that nothing declares, the same declared, bind mounts from
// the root (each with a declaration inside: the warning names it), tmpfs
// mounts made ephemeral by a declaration below each, and mounts hidden by
// a later mount of their parent directory, each declared.
var mountShapes = []struct {
	name string
	gen  func(n int) (string, []persist.Entry)
}{
	{"undeclared", func(n int) (string, []persist.Entry) {
		return mountLines(n, "%[1]d 22 0:31 /persist/var/lib/m%[2]d /var/lib/m%[2]d rw - btrfs /dev/vda2 rw,subvol=/persist"), []persist.Entry{dir("/etc")}
	}},
	{"declared", func(n int) (string, []persist.Entry) {
		return mountLines(n, "%[1]d 22 0:31 /persist/var/lib/m%[2]d /var/lib/m%[2]d rw - btrfs /dev/vda2 rw,subvol=/persist"), entries(n, "/var/lib/m%d")
	}},
	{"from the root", func(n int) (string, []persist.Entry) {
		return mountLines(n, "%[1]d 22 0:31 /root/srv/d%[2]d /var/lib/m%[2]d rw - btrfs /dev/vda2 rw,subvol=/root"), entries(n, "/var/lib/m%d/sub")
	}},
	{"tmpfs", func(n int) (string, []persist.Entry) {
		return mountLines(n, "%[1]d 22 0:%[1]d / /var/lib/t%[2]d rw - tmpfs tmpfs rw"), entries(n, "/var/lib/t%d/x")
	}},
	{"hidden", func(n int) (string, []persist.Entry) {
		mi := mountLines(n, "%[1]d 22 0:31 /persist/var/lib/m%[2]d /var/lib/m%[2]d rw - btrfs /dev/vda2 rw,subvol=/persist")
		return mi + fmt.Sprintf("%d 22 0:77 / /var/lib rw - tmpfs tmpfs rw\n", 100+n), entries(n, "/var/lib/m%d")
	}},
}

// mountLines formats n mountinfo lines from format, given the mount ID
// (100 on) and the line's number (0 on).
func mountLines(n int, format string) string {
	var b strings.Builder
	b.WriteString(btrfsSystem)
	for i := range n {
		fmt.Fprintf(&b, format+"\n", 100+i, i)
	}
	return b.String()
}

func entries(n int, format string) []persist.Entry {
	es := make([]persist.Entry, n)
	for i := range es {
		es[i] = dir(fmt.Sprintf(format, i))
	}
	return es
}

// checkCost runs Check on an empty root with the n-mount table of shape g
// and returns the lookups through the indexes and the bytes allocated.
func checkCost(t testing.TB, root string, n int, gen func(int) (string, []persist.Entry)) (probes int64, bytes uint64) {
	mi, decls := gen(n)
	cfg := Config{Root: root, Mounts: table(t, mi), Decls: &persist.Set{Entries: decls}}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	indexProbes.Store(0)
	if _, err := Check(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	return indexProbes.Load(), after.TotalAlloc - before.TotalAlloc
}

// TestCheckMountsLinear (issue 13): what Check asks of each mount is
// answered from indexes, never by comparing it with every mount or every
// declaration. A table four times as large costs at most 5.5 times the
// lookups and the bytes allocated (n log n is 4.7 times from 2,000 to
// 8,000; n² 16: drift check took 6 s for 16,000 mounts that way, and
// 100,000 did not finish).
func TestCheckMountsLinear(t *testing.T) {
	root := t.TempDir()
	for _, g := range mountShapes {
		t.Run(g.name, func(t *testing.T) {
			checkCost(t, root, 500, g.gen) // warm up
			p1, b1 := checkCost(t, root, 2000, g.gen)
			p4, b4 := checkCost(t, root, 8000, g.gen)
			if p1 == 0 {
				t.Fatalf("2,000 mounts: no lookup counted")
			}
			if r := float64(p4) / float64(p1); r > 5.5 {
				t.Errorf("lookups: %d for 2,000 mounts, %d for 8,000: ×%.1f, want at most ×5.5", p1, p4, r)
			}
			if r := float64(b4) / float64(b1); r > 5.5 {
				t.Errorf("bytes allocated: %d for 2,000 mounts, %d for 8,000: ×%.1f, want at most ×5.5", b1, b4, r)
			}
		})
	}
}

// TestCheckStopsOnCancelAmongMounts: Check looks at its context while it
// sorts the mounts (every pollEvery of them), so a signal stops it within
// a fraction of a second, not after the whole table.
func TestCheckStopsOnCancelAmongMounts(t *testing.T) {
	mi, decls := mountShapes[2].gen(50000)
	cfg := Config{Root: t.TempDir(), Mounts: table(t, mi), Decls: &persist.Set{Entries: decls}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	indexProbes.Store(0)
	_, err := Check(ctx, cfg)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Check with a cancelled context: %v, want context.Canceled", err)
	}
	// A mount of this shape costs a handful of lookups; the whole table
	// hundreds of thousands.
	if p := indexProbes.Load(); p > 20*pollEvery {
		t.Errorf("%d lookups before stopping, want at most %d (pollEvery mounts)", p, 20*pollEvery)
	}
}

// BenchmarkCheckMounts is Check of an empty root with 2,000 and 16,000
// mounts of each shape of mountShapes (the budget of issue 13: linear).
func BenchmarkCheckMounts(b *testing.B) {
	root := b.TempDir()
	for _, g := range mountShapes {
		for _, n := range []int{2000, 16000} {
			b.Run(fmt.Sprintf("%s/%d", g.name, n), func(b *testing.B) {
				mi, decls := g.gen(n)
				cfg := Config{Root: root, Mounts: table(b, mi), Decls: &persist.Set{Entries: decls}}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Check(context.Background(), cfg); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// The indexes answer what the scans they replace answered: the first
// ephemeral mount in table order holding a mount's root (rootBind), the
// storage path a mount shows a part of (undeclaredBind), the mount points
// stacked on a mount (shadowPoints), the declarations at, above and
// below a path. Checked on random tables over a few names, where roots,
// mount points, storage paths and declarations nest and repeat.
func TestMountIndexesAgreeWithScans(t *testing.T) {
	r := rand.New(rand.NewSource(13))
	names := []string{"a", "b", "a b", "..", "c"}
	randPath := func() string {
		p := ""
		for range r.Intn(4) {
			p += "/" + names[r.Intn(len(names))]
		}
		if p == "" {
			return "/"
		}
		return p
	}
	for round := range 300 {
		var lines []string
		n := 1 + r.Intn(12)
		for i := range n {
			parent := 1
			if i > 0 {
				parent = 100 + r.Intn(i)
			}
			root, mp := randPath(), pathx.Clean(randPath())
			if i == 0 {
				mp = "/"
			}
			fs, src := fmt.Sprintf("0:%d", 30+r.Intn(2)), "/dev/vda2"
			typ := "btrfs"
			if r.Intn(6) == 0 {
				typ, src = "fuse.bindfs", randPath()
			}
			lines = append(lines, fmt.Sprintf("%d %d %s %s %s rw - %s %s rw", 100+i, parent, fs, octal(root), octal(mp), typ, octal(src)))
		}
		tab := table(t, strings.Join(lines, "\n"))
		eph := map[*mounts.Mount]bool{}
		var storage, paths []string
		for i := range tab.Mounts {
			if r.Intn(3) == 0 {
				eph[&tab.Mounts[i]] = true
			}
		}
		for range r.Intn(4) {
			storage = append(storage, randPath())
		}
		for range r.Intn(6) {
			paths = append(paths, randPath())
		}
		c := &classifier{}
		c.ephIx = newFSIndex(tab, func(i int) bool { return eph[&tab.Mounts[i]] })
		c.storeIx = newStorageIndex(tab, storage)
		pix := pathx.NewIndex(paths)
		for i := range tab.Mounts {
			m := &tab.Mounts[i]
			ctx := fmt.Sprintf("round %d, mount %d of\n%s\nstorage %q", round, m.ID, strings.Join(lines, "\n"), storage)
			if got, want := c.ephIx.holding(m), scanHolding(tab, m, eph); got != want {
				t.Fatalf("%s: holding %v, the scan %v", ctx, got, want)
			}
			gs, gok := c.storeIx.sourceOf(m)
			ws, wok := scanSourceOf(tab, m, storage)
			if gs != ws || gok != wok {
				t.Fatalf("%s: sourceOf %q %v, the scan %q %v", ctx, gs, gok, ws, wok)
			}
			if got, want := c.shadowPoints(tab, m), scanShadowPoints(tab, m); strings.Join(got, "\x00") != strings.Join(want, "\x00") {
				t.Fatalf("%s: shadowPoints %q, the scan %q", ctx, got, want)
			}
			p := m.MountPoint
			want := -1
			var below []string
			for k, q := range paths {
				if pathx.Contains(q, p) && want < 0 {
					want = k
				}
				if pathx.Contains(p, q) && !containsString(below, pathx.Clean(q)) {
					below = append(below, pathx.Clean(q))
				}
			}
			if got := pix.Above(p); got != want {
				t.Fatalf("round %d: above(%q) in %q: %d, the scan %d", round, p, paths, got, want)
			}
			got := pix.Below(p)
			if len(got) != len(below) {
				t.Fatalf("round %d: below(%q) in %q: %q, the scan %q", round, p, paths, got, below)
			}
			for _, q := range got {
				if !containsString(below, q) {
					t.Fatalf("round %d: below(%q) in %q: %q, the scan %q", round, p, paths, got, below)
				}
			}
		}
	}
}

// octal escapes a space and a backslash as mountinfo does.
func octal(s string) string {
	return strings.NewReplacer(`\`, `\134`, " ", `\040`).Replace(s)
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// scanHolding is what rootBind asked before the index: the first mount of
// eph in table order, other than m, of m's filesystem whose root holds m's.
func scanHolding(t *mounts.Table, m *mounts.Mount, eph map[*mounts.Mount]bool) *mounts.Mount {
	for i := range t.Mounts {
		em := &t.Mounts[i]
		if em == m || !eph[em] || !mounts.SameFS(em, m) {
			continue
		}
		if _, ok := pathx.Rel(em.Root, m.Root); ok {
			return em
		}
	}
	return nil
}

// scanSourceOf is undeclaredBind's loop over the storage paths before the
// index.
func scanSourceOf(t *mounts.Table, m *mounts.Mount, storage []string) (string, bool) {
	for _, s := range storage {
		if pathx.Contains(s, m.MountPoint) {
			return "", false
		}
		if strings.HasPrefix(m.FSType, "fuse") {
			if path.IsAbs(m.Source) && pathx.Contains(s, pathx.Clean(m.Source)) {
				return pathx.Clean(m.Source), true
			}
			continue
		}
		sm := t.Shows(s)
		if sm == nil || sm == m || !mounts.SameFS(sm, m) {
			continue
		}
		if rest, ok := pathx.Rel(sm.SourcePath(s), m.Root); ok {
			return path.Join(s, rest), true
		}
	}
	return "", false
}

// scanShadowPoints is shadowPoints before the index.
func scanShadowPoints(t *mounts.Table, e *mounts.Mount) []string {
	var points []string
	for j := range t.Mounts {
		m := &t.Mounts[j]
		if !t.Visible(j) || m.MountPoint == e.MountPoint || !pathx.Contains(e.MountPoint, m.MountPoint) {
			continue
		}
		if t.Shows(path.Dir(m.MountPoint)) == t.ByID(e.ID) {
			points = append(points, m.MountPoint)
		}
	}
	return points
}
