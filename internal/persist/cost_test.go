package persist

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"unsafe"
)

// costGens make declaration sources of size about n, one per shape an
// adversary can grow: each must cost work linear in n (n log n at most).
var costGens = []struct {
	name, file string
	gen        func(n int) string
	n          int // 0: 4000; below 1000 for operators that nest (maxDepth)
}{
	{"directories", "x.nix", func(n int) string {
		var b strings.Builder
		b.WriteString(`{ environment.persistence."/p".directories = [` + "\n")
		for i := range n {
			fmt.Fprintf(&b, "  \"/var/lib/d%d\"\n", i)
		}
		b.WriteString("]; }\n")
		return b.String()
	}, 0},
	{"duplicates", "x.nix", func(n int) string {
		return `{ environment.persistence."/p".directories = [` + strings.Repeat(` "/var/lib/same"`, n) + " ]; }\n"
	}, 0},
	{"application chain", "x.nix", func(n int) string {
		return `let f = x: x; in { environment.persistence."/p".directories = ` + strings.Repeat("f ", n) + `[ "/a" ]; }` + "\n"
	}, 0},
	{"arguments chain", "x.nix", func(n int) string {
		return `let f = x: y: x; in { environment.persistence."/p".directories = f [ "/a" ] ` + strings.Repeat("1 ", n) + "; }\n"
	}, 0},
	{"list concatenation", "x.nix", func(n int) string {
		return `{ environment.persistence."/p".directories = [ "/a" ]` + strings.Repeat(` ++ [ "/b" ]`, n) + "; }\n"
	}, 400},
	{"attribute updates", "x.nix", func(n int) string {
		return `{ environment.persistence = { "/p".directories = [ "/a" ]; }` + strings.Repeat(` // { "/q".files = [ "/f" ]; }`, n) + "; }\n"
	}, 400},
	{"string concatenation", "x.nix", func(n int) string {
		return `{ environment.persistence."/p".directories = [ ("/a"` + strings.Repeat(` + "b"`, n) + ") ]; }\n"
	}, 0},
	{"let bindings", "x.nix", func(n int) string {
		var b strings.Builder
		b.WriteString("let a0 = \"/a\";\n")
		for i := 1; i < n; i++ {
			fmt.Fprintf(&b, "  a%d = a%d;\n", i, i-1)
		}
		fmt.Fprintf(&b, "in { environment.persistence.\"/p\".directories = [ a%d ]; }\n", n-1)
		return b.String()
	}, 0},
	{"JSON entries", "x.json", func(n int) string {
		var b strings.Builder
		b.WriteString(`{"/p": {"directories": [`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"/var/lib/d%d"`, i)
		}
		b.WriteString("]}}")
		return b.String()
	}, 0},
	{"JSON duplicates", "x.json", func(n int) string {
		return `{"/p": {"directories": ["/a"` + strings.Repeat(`,"/a"`, n) + "]}}"
	}, 0},
}

// allocated is the bytes f allocates (runtime.MemStats.TotalAlloc): a
// count of work that, unlike time, the other processes on the machine do
// not change.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// TestReadCostLinear: for every shape, doubling n at most 2.5× the bytes
// allocated reading it (a quadratic step, such as prepending each of n
// arguments, gives 4×).
func TestReadCostLinear(t *testing.T) {
	for _, g := range costGens {
		t.Run(g.name, func(t *testing.T) {
			n := 4000
			if g.n != 0 {
				n = g.n
			}
			cost := func(n int) uint64 {
				src := g.gen(n)
				return allocated(func() {
					if _, err := ReadContext(context.Background(), g.file, strings.NewReader(src), Options{}); err != nil {
						t.Fatalf("n=%d: %v", n, err)
					}
				})
			}
			cost(n) // warm up
			a, b := cost(n), cost(2*n)
			if ratio := float64(b) / float64(a); ratio > 2.5 {
				t.Errorf("n=%d: %d bytes, 2n: %d bytes: ×%.2f, want at most ×2.5", n, a, b, ratio)
			}
		})
	}
}

// BenchmarkReadBudget reads 200,000 declarations (about 4 MB of Nix) and
// fails when the set kept (live heap after a collection) is more than 10×
// the input's text; it reports that ratio (heap/input) and the bytes
// allocated per input byte.
func BenchmarkReadBudget(b *testing.B) {
	src := costGens[0].gen(200_000)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s, err := ReadContext(context.Background(), "x.nix", strings.NewReader(src), Options{})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(s)
		kept := float64(after.HeapAlloc-before.HeapAlloc) / float64(len(src))
		b.ReportMetric(kept, "heap/input")
		b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(len(src)), "alloc/input")
		if kept > 10 {
			b.Errorf("the declarations kept %.1f× the input's %d bytes, budget 10×", kept, len(src))
		}
	}
}

// TestReadKeptBound: the declarations read from 20,000 entries keep at
// most 10× the input's text (the budget of BenchmarkReadBudget, at a size
// the test suite can afford), and an Entry stays small enough for that: a
// field added back per entry instead of in the shared Origin fails here.
func TestReadKeptBound(t *testing.T) {
	if size := unsafe.Sizeof(Entry{}); size > 144 {
		t.Errorf("an Entry is %d bytes, want at most 144 (shared fields belong in Origin)", size)
	}
	src := costGens[0].gen(20_000)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s, err := ReadContext(context.Background(), "x.nix", strings.NewReader(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if len(s.Entries) != 20_000 {
		t.Fatalf("%d entries, want 20000", len(s.Entries))
	}
	runtime.KeepAlive(s)
	if kept := float64(after.HeapAlloc-before.HeapAlloc) / float64(len(src)); kept > 10 {
		t.Errorf("20,000 declarations keep %.1f× the input's %d bytes, budget 10×", kept, len(src))
	} else {
		t.Logf("kept %.1f× the input", kept)
	}
}
