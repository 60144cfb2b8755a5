package diff

import (
	"context"
	"os"
	"testing"

	"github.com/nix-drift/drift/internal/mounts"
)

// BenchmarkCheck classifies the tree at $DRIFT_BENCH_ROOT (make bench
// generates a 1,000,000-entry one with tools/gen-tree.go) as a wholly
// ephemeral root. "expanded": every entry is walked, stat'ed, classified and
// put in order (what --format paths needs); "collapsed" (Config.Collapse,
// what drift check --format json and table do without a previous root):
// the directories lost whole are counted instead.
func BenchmarkCheck(b *testing.B) {
	root := os.Getenv("DRIFT_BENCH_ROOT")
	if root == "" {
		b.Skip("DRIFT_BENCH_ROOT is not set: make bench generates the tree and sets it")
	}
	t := mounts.New([]mounts.Mount{{ID: 1, MountPoint: "/", Root: "/", FSType: "ext4", Source: "/dev/bench"}})
	for _, collapse := range []bool{false, true} {
		name := "expanded"
		if collapse {
			name = "collapsed"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				a, err := Check(context.Background(), Config{Root: root, Mounts: t, Ephemeral: []string{"/"}, Collapse: collapse})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(a.Scanned), "entries/op")
			}
		})
	}
}
