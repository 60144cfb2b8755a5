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
	{"paths declared twice", "x.nix", func(n int) string {
		var b strings.Builder
		b.WriteString(`{ environment.persistence."/p".directories = [` + "\n")
		for i := range n {
			fmt.Fprintf(&b, "  \"/var/lib/d%d\"\n", i%max(1, n/2))
		}
		b.WriteString("]; }\n")
		return b.String()
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

// readBudget reads src as drift does (ReadData: the bytes read are the
// source's) and returns the bytes kept (live heap after a collection) and
// allocated, per input byte. Every byte the reader's peak heap holds was
// allocated while it read, so the second bounds the peak.
func readBudget(tb testing.TB, name, src string) (kept, alloc float64) {
	data := []byte(src)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s, err := ReadData(context.Background(), name, data, Options{})
	if err != nil {
		tb.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(s)
	n := float64(len(src))
	// data was allocated before: the source is counted as kept.
	return (float64(after.HeapAlloc-before.HeapAlloc) + n) / n, float64(after.TotalAlloc-before.TotalAlloc) / n
}

// budgetGens are the inputs of the memory budget (issue 13: a million
// declarations within 10× the memory of the input's text): a list of
// plain paths, in .nix and as JSON.
var budgetGens = []struct{ name, file string }{{"directories", "x.nix"}, {"JSON entries", "x.json"}}

func budgetGen(tb testing.TB, name string) func(int) string {
	for _, g := range costGens {
		if g.name == name {
			return g.gen
		}
	}
	tb.Fatalf("no cost generator %q", name)
	return nil
}

// BenchmarkReadBudget reads 1,000,000 declarations (about 21 MB of Nix,
// 20 MB of JSON) and fails when what the reader allocates, and so its peak
// heap, is more than 10× the input's text (alloc/input), or what it keeps
// is (heap/input, the source included).
func BenchmarkReadBudget(b *testing.B) {
	for _, g := range budgetGens {
		b.Run(g.name, func(b *testing.B) {
			src := budgetGen(b, g.name)(1_000_000)
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				kept, alloc := readBudget(b, g.file, src)
				b.ReportMetric(kept, "heap/input")
				b.ReportMetric(alloc, "alloc/input")
				if alloc > 10 || kept > 10 {
					b.Errorf("%d bytes read: %.1f× allocated, %.1f× kept; budget 10×", len(src), alloc, kept)
				}
			}
		})
	}
}

// TestReadAllocBound: reading 20,000 declarations (as .nix and as JSON)
// allocates at most 10× the input's text, which bounds the reader's peak
// heap: the budget of BenchmarkReadBudget at a size the test suite can
// afford. A value, an AST node or a copied string per list item (about 25×
// before) fails here.
func TestReadAllocBound(t *testing.T) {
	for _, g := range budgetGens {
		kept, alloc := readBudget(t, g.file, budgetGen(t, g.name)(20_000))
		if alloc > 10 {
			t.Errorf("%s: 20,000 declarations allocate %.1f× the input, budget 10× (%.1f× kept)", g.name, alloc, kept)
		} else {
			t.Logf("%s: %.1f× allocated, %.1f× kept", g.name, alloc, kept)
		}
	}
}

// TestReadDuplicatesBound: copies of one entry are counted, not kept:
// what the model keeps besides the text (one entry, one Duplicate with a
// few places, one diagnostic) does not grow from 30,000 copies to 60,000.
// It held an Entry and a Diagnostic per copy (176 bytes for a line of 16
// to 18), a million copies 1.1 GiB in drift check.
func TestReadDuplicatesBound(t *testing.T) {
	kept := func(n int) int64 {
		data := []byte(budgetGen(t, "duplicates")(n))
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s, err := ReadData(context.Background(), "x.nix", data, Options{})
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if len(s.Duplicates) != 1 || int(s.Duplicates[0].N) != n-1 {
			t.Fatalf("%d copies: duplicates %+v, want one counting %d", n, s.Duplicates, n-1)
		}
		runtime.KeepAlive(s)
		runtime.KeepAlive(data)
		return int64(after.HeapAlloc) - int64(before.HeapAlloc)
	}
	kept(30_000) // warm up
	a, b := kept(30_000), kept(60_000)
	if grew := b - a; grew > 16<<10 {
		t.Errorf("30,000 more copies keep %d bytes more, want none (%d and %d)", grew, a, b)
	}
}

// TestReadRepeatsBound: a path declared again costs at most 104 bytes
// kept and 310 allocated more than a new path would (its Duplicate
// record, in a slice that doubles, its place in the reader's table of
// them, and the warnings' work). 500,000 paths declared twice each took
// drift lint past its memory budget (10x the input, scripts/bench-decls.sh)
// when a record was an Entry with a count and a slice of places: 129 bytes
// kept and 342 allocated (88-byte records: 97 and 278).
func TestReadRepeatsBound(t *testing.T) {
	const n = 1 << 15 // declarations; a power of two: the doubling slices are full
	heap := func(gen string) (kept, alloc int64) {
		data := []byte(budgetGen(t, gen)(n))
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s, err := ReadData(context.Background(), "x.nix", data, Options{})
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if gen == "paths declared twice" && (len(s.Entries) != n/2 || len(s.Duplicates) != n/2) {
			t.Fatalf("%d entries, %d duplicates; want %d each", len(s.Entries), len(s.Duplicates), n/2)
		}
		runtime.KeepAlive(s)
		runtime.KeepAlive(data)
		return int64(after.HeapAlloc) - int64(before.HeapAlloc), int64(after.TotalAlloc - before.TotalAlloc)
	}
	heap("paths declared twice") // warm up
	k1, a1 := heap("directories")
	k2, a2 := heap("paths declared twice")
	kept, alloc := (k2-k1)/(n/2), (a2-a1)/(n/2)
	t.Logf("a repeat: %d bytes kept, %d allocated more than a new path", kept, alloc)
	if kept > 104 || alloc > 310 {
		t.Errorf("a repeat keeps %d bytes and allocates %d more than a new path; want at most 104 and 310", kept, alloc)
	}
}

// TestReadKeptBound: the declarations read from 20,000 entries keep at
// most 10× the input's text (the budget of BenchmarkReadBudget, at a size
// the test suite can afford), and an Entry stays small enough for that: a
// field added back per entry instead of in the shared Origin fails here.
func TestReadKeptBound(t *testing.T) {
	if size := unsafe.Sizeof(Entry{}); size > 88 {
		t.Errorf("an Entry is %d bytes, want at most 88 (shared fields belong in Origin, rare ones in more)", size)
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
