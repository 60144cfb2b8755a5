package diff

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/zeebo/xxh3"
	"golang.org/x/sys/unix"

	ifsys "github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/scan"
)

// BenchmarkCompare compares the trees at $DRIFT_BENCH_A and $DRIFT_BENCH_B
// (scripts/bench.sh with DIFF=1 makes a 1,000,000-entry pair with 1% of the
// files changed), by content and with --quick.
func BenchmarkCompare(b *testing.B) {
	ta, tb := os.Getenv("DRIFT_BENCH_A"), os.Getenv("DRIFT_BENCH_B")
	if ta == "" || tb == "" {
		b.Skip("DRIFT_BENCH_A and DRIFT_BENCH_B are not set: DIFF=1 scripts/bench.sh makes the pair and sets them")
	}
	for _, quick := range []bool{false, true} {
		name := "content"
		if quick {
			name = "quick"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				c, err := Compare(context.Background(), ta, tb, CompareOptions{Quick: quick})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(len(c.Diffs)), "diffs/op")
				b.ReportMetric(float64(c.Hashed), "hashed/op")
			}
		})
	}
}

// BenchmarkHashFile hashes a 64 MiB file in the page cache as Compare does;
// BenchmarkXXH3Memory is xxh3-128 over the same bytes in memory. Their
// MB/s ratio is the hashing's share of xxh3's own speed.
func BenchmarkHashFile(b *testing.B) {
	const size = 64 << 20
	p := filepath.Join(b.TempDir(), "f")
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		b.Fatal(err)
	}
	root, err := openRoot(filepath.Dir(p))
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Close(root)
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		b.Fatal(err)
	}
	e := &scan.Entry{Path: "/f", Ino: st.Ino, Size: size}
	hs := newHasher(nil)
	b.SetBytes(size)
	for b.Loop() {
		if _, err := hs.file(root, e, true); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkXXH3Memory(b *testing.B) {
	data := make([]byte, 64<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		xxh3.Hash128(data)
	}
}

// BenchmarkSameFiles compares two identical files in the page cache the
// way Compare does (open both, fstat, compare the bytes side by side,
// close) and the way hashing would (xxh3-128 of each, as drift check's
// history does), for a small file and a big one. MB/s counts both files'
// bytes.
func BenchmarkSameFiles(b *testing.B) {
	for _, size := range []int{4 << 10, 64 << 20} {
		dir := b.TempDir()
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i * 7)
		}
		for _, side := range []string{"a", "b"} {
			if err := os.MkdirAll(filepath.Join(dir, side), 0o755); err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, side, "f"), data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
		var roots [2]int
		var es [2]scan.Entry
		for s, side := range []string{"a", "b"} {
			fd, err := openRoot(filepath.Join(dir, side))
			if err != nil {
				b.Fatal(err)
			}
			defer unix.Close(fd)
			roots[s] = fd
			var st unix.Stat_t
			if err := unix.Fstatat(fd, "f", &st, 0); err != nil {
				b.Fatal(err)
			}
			es[s] = scan.Entry{Path: "/f", Ino: st.Ino, Size: st.Size}
		}
		name := []byte("f\x00")
		b.Run(fmt.Sprintf("compare/%dKiB", size>>10), func(b *testing.B) {
			l := &comparer{fs: ifsys.Real{}}
			c := newContentCmp(ifsys.Real{})
			var st [2]unix.Stat_t
			b.SetBytes(2 * int64(size))
			for b.Loop() {
				var fds [2]int
				for s := range 2 {
					fd, err := l.openFile(roots[s], name)
					if err != nil {
						b.Fatal(err)
					}
					fds[s] = fd
					if err := unix.Fstat(fd, &st[s]); err != nil {
						b.Fatal(err)
					}
				}
				same, err := c.same(fds[0], fds[1], st[0].Size, &st[0], &st[1])
				if !same || err != nil {
					b.Fatal(same, err)
				}
				unix.Close(fds[0])
				unix.Close(fds[1])
			}
		})
		b.Run(fmt.Sprintf("xxh3/%dKiB", size>>10), func(b *testing.B) {
			hs := newHasher(nil)
			b.SetBytes(2 * int64(size))
			for b.Loop() {
				same, err := hs.sameFiles(roots[0], &es[0], roots[1], &es[1])
				if !same || err != nil {
					b.Fatal(same, err)
				}
			}
		})
	}
}
