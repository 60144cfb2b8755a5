package audit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/diff"
	"golang.org/x/sys/unix"
)

// BenchmarkJudgeRegen: judgeRegen over 100,000 lost paths the same in
// the previous root (1,000 directories of 100 files, a quarter of them in
// a home), half of them the previous root's copy (same modification
// time), no older root: the catalogue and the modification times, the
// work check does for every such path of a big tree.
func BenchmarkJudgeRegen(b *testing.B) {
	benchOnce.Do(func() { benchLost, benchErr = regenFixture() })
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	lost := benchLost
	m := &Model{Root: filepath.Join(benchDir, "live"), OldRoots: btrfs.Recent{Roots: []btrfs.OldRoot{{Name: "prev", Dir: filepath.Join(benchDir, "prev")}}}}
	a := &diff.Audit{PreviousRoot: &m.OldRoots.Roots[0], Lost: lost}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for _, it := range lost {
			it.Regen = diff.RegenUnknown
		}
		if err := m.judgeRegen(context.Background(), a, nil, 1); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	n := map[diff.Regen]int{}
	for _, it := range lost {
		n[it.Regen]++
	}
	if n[diff.RegenCopied] != 50000 || n[diff.RegenYes] != 50000 {
		b.Fatalf("Regen counts %v, want 50,000 copied and 50,000 made again", n)
	}
}

// The benchmark's trees, made once per test binary (TestMain removes
// them): two roots of 100,000 files each take a while to write.
var (
	benchOnce sync.Once
	benchDir  string
	benchLost []*diff.Item
	benchErr  error
)

// TestMain removes BenchmarkJudgeRegen's trees once every test has run.
func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// regenFixture writes BenchmarkJudgeRegen's trees into benchDir and
// returns their lost paths, in path order.
func regenFixture() ([]*diff.Item, error) {
	dir, err := os.MkdirTemp("", "drift-regen-bench-")
	if err != nil {
		return nil, err
	}
	benchDir = dir
	live, prev := filepath.Join(dir, "live"), filepath.Join(dir, "prev")
	boot := time.Date(2026, 11, 12, 9, 0, 0, 0, time.UTC)
	var lost []*diff.Item
	for d := range 1000 {
		rel := fmt.Sprintf("srv/app%03d/data", d)
		if d%4 == 0 {
			rel = fmt.Sprintf("home/alice/.local/share/app%03d", d)
		}
		for _, r := range []string{live, prev} {
			if err := os.MkdirAll(filepath.Join(r, rel), 0o755); err != nil {
				return nil, err
			}
		}
		for f := range 100 {
			p := filepath.Join(rel, fmt.Sprintf("f%03d", f))
			at := boot
			for _, r := range []string{prev, live} {
				if err := os.WriteFile(filepath.Join(r, p), []byte("x"), 0o644); err != nil {
					return nil, err
				}
				if err := os.Chtimes(filepath.Join(r, p), at, at); err != nil {
					return nil, err
				}
				if f%2 == 0 {
					at = boot.Add(time.Hour) // made again: a newer time in the live root
				}
			}
			lost = append(lost, &diff.Item{Path: "/" + p, Category: diff.Unpersisted, History: diff.HistorySame,
				Mode: unix.S_IFREG | 0o644, Size: 1, Mtime: at.UnixNano(), Decl: -1})
		}
	}
	slices.SortFunc(lost, func(a, b *diff.Item) int { return strings.Compare(a.Path, b.Path) })
	return lost, nil
}
