package diff

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// TestIgnoreLongLine: a line longer than an ignore pattern can be (50 MB
// here) is an error naming file and line, read no further.
func TestIgnoreLongLine(t *testing.T) {
	var ig Ignore
	in := "/var/cache\n# comment\n" + strings.Repeat("x", 50<<20) + "\n/tmp\n"
	err := ig.AddReader(strings.NewReader(in), "ignore")
	want := "ignore:3: expected an ignore pattern of at most 1 MiB, found a longer line"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
}

// TestIgnoreCostLinear: doubling the patterns of an ignore file at most
// 2.5× the bytes allocated reading it.
func TestIgnoreCostLinear(t *testing.T) {
	cost := func(n int) uint64 {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "/var/cache/app%d\n*.tmp%d\n# comment %d\n", i, i, i)
		}
		text := b.String()
		var a, z runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&a)
		var ig Ignore
		if err := ig.AddReader(strings.NewReader(text), "ignore"); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&z)
		return z.TotalAlloc - a.TotalAlloc
	}
	const n = 20000
	cost(n)
	if a, b := cost(n), cost(2*n); float64(b)/float64(a) > 2.5 {
		t.Errorf("n=%d: %d bytes; 2n: %d bytes: ×%.2f, want at most ×2.5", n, a, b, float64(b)/float64(a))
	}
}
