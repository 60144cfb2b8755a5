package diff

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/nix-drift/drift/internal/persist"
)

// BenchmarkCheckUnmountedCopy checks a root whose declared directory
// /srv/app is not mounted: its $DRIFT_BENCH_COPY_FILES files (default
// 20,000, in directories of 100) lie on the ephemeral root and are
// compared with the persistent copy, which has 1% of them with other
// bytes. "lockstep" is what Check does (copiesSame: one walk of the copy
// against the live directory), "lookups" each path looked up one by one
// (what it did before), "diff" Compare of the same two trees (drift
// diff), the bar: the check should cost no more than that.
func BenchmarkCheckUnmountedCopy(b *testing.B) {
	n := 20000
	if s := os.Getenv("DRIFT_BENCH_COPY_FILES"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatalf("DRIFT_BENCH_COPY_FILES=%q: %v", s, err)
		}
	}
	root := b.TempDir()
	live, cp := filepath.Join(root, "srv/app"), filepath.Join(root, "nix/persist/srv/app")
	for i := range n {
		rel := fmt.Sprintf("d%03d/f%05d", i/100, i)
		body := []byte(fmt.Sprintf("%0*d", 200+i%3000, i))
		for _, dir := range []string{live, cp} {
			p := filepath.Join(dir, rel)
			if i%100 == 0 && dir == cp {
				body = append([]byte("old "), body[4:]...)
			}
			if i%100 == 0 {
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					b.Fatal(err)
				}
			}
			if err := os.WriteFile(p, body, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	cfg := Config{Root: root, Mounts: table(b, btrfsSystem), Decls: &persist.Set{Entries: []persist.Entry{dir("/srv/app")}}}
	for _, mode := range []string{"lockstep", "lookups", "diff"} {
		b.Run(mode, func(b *testing.B) {
			defer func(m int) { copyLockstepMin = m }(copyLockstepMin)
			if mode == "lookups" {
				copyLockstepMin = 1 << 30
			}
			for b.Loop() {
				if mode == "diff" {
					c, err := Compare(context.Background(), cp, live, CompareOptions{})
					if err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(float64(len(c.Diffs)), "diffs/op")
					continue
				}
				a, err := Check(context.Background(), cfg)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(a.Totals[Copied].Count), "copied/op")
			}
		})
	}
}
