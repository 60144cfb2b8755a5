//go:build linux

package scan

import (
	"context"
	"os"
	"strconv"
	"testing"
)

// BenchmarkWalk walks the tree at $DRIFT_BENCH_ROOT (build one with
// scripts/bench.sh, or go run tools/gen-tree.go) with a Visitor that keeps
// nothing. $DRIFT_BENCH_WORKERS overrides Options.Workers.
func BenchmarkWalk(b *testing.B) {
	root := os.Getenv("DRIFT_BENCH_ROOT")
	if root == "" {
		b.Skip("DRIFT_BENCH_ROOT is not set; run scripts/bench.sh, or point it at a tree from tools/gen-tree.go")
	}
	opts := Options{}
	if s := os.Getenv("DRIFT_BENCH_WORKERS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("DRIFT_BENCH_WORKERS: %v", err)
		}
		opts.Workers = n
	}
	visit := func(parent any, e *Entry) (any, bool) { return nil, true }
	var entries int64
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		st, err := Walk(context.Background(), root, opts, visit)
		if err != nil {
			b.Fatal(err)
		}
		if st.Errors != 0 {
			b.Fatalf("%d errors", st.Errors)
		}
		entries += st.Entries
	}
	b.ReportMetric(float64(entries)/b.Elapsed().Seconds(), "entries/s")
	b.ReportMetric(float64(entries)/float64(b.N), "entries/op")
}
