package mounts

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// allocated is the bytes f allocates: a count of work that other processes
// on the machine do not change, unlike time.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// mountinfoShapes make mount tables of n mounts, in the shapes that could
// make the index or the hiding of over-mounts superlinear.
var mountinfoShapes = map[string]func(n int) string{
	"flat": func(n int) string {
		var b strings.Builder
		b.WriteString("1 0 0:1 / / rw - btrfs /dev/vda2 rw,subvol=/root\n")
		for i := 2; i <= n; i++ {
			fmt.Fprintf(&b, "%d 1 0:31 /persist/var/lib/d%d /var/lib/d%d rw,relatime shared:%d - btrfs /dev/vda2 rw,subvol=/persist\n", i, i, i, i)
		}
		return b.String()
	},
	"stacked on one mount point": func(n int) string {
		var b strings.Builder
		b.WriteString("1 0 0:1 / / rw - btrfs /dev/vda2 rw\n")
		for i := 2; i <= n; i++ {
			fmt.Fprintf(&b, "%d %d 0:%d / /mnt rw - tmpfs none rw\n", i, max(1, i-1), i)
		}
		return b.String()
	},
	"a chain of parents": func(n int) string {
		var b strings.Builder
		b.WriteString("1 0 0:1 / / rw - btrfs /dev/vda2 rw\n")
		for i := 2; i <= n; i++ {
			fmt.Fprintf(&b, "%d %d 0:%d / /m%d rw - tmpfs none rw\n", i, i-1, i, i)
		}
		return b.String()
	},
}

// TestParseCostLinear: doubling the mounts at most 2.5× the bytes
// allocated parsing and indexing them.
func TestParseCostLinear(t *testing.T) {
	for name, gen := range mountinfoShapes {
		t.Run(name, func(t *testing.T) {
			cost := func(n int) uint64 {
				text := gen(n)
				return allocated(func() {
					if _, err := Parse(strings.NewReader(text), "mi"); err != nil {
						t.Fatal(err)
					}
				})
			}
			const n = 5000
			cost(n)
			a, b := cost(n), cost(2*n)
			if r := float64(b) / float64(a); r > 2.5 {
				t.Errorf("n=%d: %d bytes; 2n: %d bytes: ×%.2f, want at most ×2.5", n, a, b, r)
			}
		})
	}
}

// BenchmarkParseBudget parses a 200,000-line mount table and fails when
// the table kept (live heap after a collection) is more than 10× the
// input's text; it reports that ratio (heap/input) and the bytes
// allocated per input byte.
func BenchmarkParseBudget(b *testing.B) {
	text := mountinfoShapes["flat"](200_000)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		t, err := Parse(strings.NewReader(text), "mi")
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(t)
		kept := float64(after.HeapAlloc-before.HeapAlloc) / float64(len(text))
		b.ReportMetric(kept, "heap/input")
		b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(len(text)), "alloc/input")
		if kept > 10 {
			b.Errorf("the table kept %.1f× the input's %d bytes, budget 10×", kept, len(text))
		}
	}
}
