package suggest

import (
	"fmt"
	"path"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/knowledge"
	"github.com/nix-drift/drift/internal/pathx"
)

// benchLost is a lost set shaped like scripts/bench.sh's tree: n paths in
// directories of about 20 entries, below application directories in
// /var/lib, /usr/share, /opt and a home, each directory lost with them.
func benchLost(n int) []*diff.Item {
	var lost []*diff.Item
	seen := map[string]bool{}
	dir := func(p string) {
		if !seen[p] {
			seen[p] = true
			lost = append(lost, item(p, 0))
		}
	}
	for _, p := range []string{"/var", "/var/lib", "/usr", "/usr/share", "/opt", "/home", "/home/user", "/home/user/.local"} {
		dir(p)
	}
	tops := []string{"/var/lib/docker/overlay2", "/usr/share/doc", "/opt/app.d1", "/home/user/src", "/home/user/.local/cache.d2"}
	for i := 0; len(lost) < n; i++ {
		top := tops[i%len(tops)]
		for q := top; q != "/"; q = path.Dir(q) {
			dir(q)
		}
		d := fmt.Sprintf("%s/d%d/e%d", top, i/64, i%64)
		dir(path.Dir(d))
		dir(d)
		for j := range 20 {
			lost = append(lost, item(fmt.Sprintf("%s/f%d.dat", d, j), int64(j+1)))
		}
	}
	slices.SortFunc(lost, func(x, y *diff.Item) int { return pathx.Compare(x.Path, y.Path) })
	return lost
}

// cpuTime is the process's CPU time so far (user and system).
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSuggest: Suggest's weighing of a 200,000-path lost set
// (benchLost): wall time and CPU time (on every core, which a shared
// machine shifts less) per path.
func BenchmarkSuggest(b *testing.B) {
	lost := benchLost(200000)
	in := Input{Audit: &diff.Audit{Lost: lost}, Root: b.TempDir(), Knowledge: knowledge.Builtin(), StoragePath: "/nix/persist"}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime(b)
	for range b.N {
		Suggest(in)
	}
	cpu = cpuTime(b) - cpu
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(lost)), "ns/path")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*len(lost)), "cpu-ns/path")
}
