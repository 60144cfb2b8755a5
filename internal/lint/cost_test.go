package lint

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/persist"
)

// lintShapes make declaration files of n entries in the shapes the rules
// compare entries across: duplicates (the duplicate rule), entries inside
// persisted directories (overlap), files and directories of one path.
var lintShapes = map[string]func(n int) string{
	// n/2 paths declared twice each, one a line: n/2 duplicate findings.
	"duplicates": func(n int) string {
		var b strings.Builder
		b.WriteString(`{ environment.persistence."/p".directories = [` + "\n")
		for i := range n {
			fmt.Fprintf(&b, "  \"/var/lib/d%d\"\n", i%max(1, n/2))
		}
		b.WriteString("]; }\n")
		return b.String()
	},
	// One path declared n times: one duplicate finding, counting them.
	"one path": func(n int) string {
		return `{ environment.persistence."/p".directories = [` + strings.Repeat(` "/var/lib/same"`, n) + " ]; }\n"
	},
	"nested": func(n int) string {
		var b strings.Builder
		b.WriteString(`{ environment.persistence."/p".directories = [ "/var/lib/a"` + "\n")
		for i := range n {
			fmt.Fprintf(&b, "  \"/var/lib/a/b%d\"\n", i)
		}
		b.WriteString("]; }\n")
		return b.String()
	},
	"file and directory": func(n int) string {
		var b strings.Builder
		b.WriteString(`{ environment.persistence."/p" = { directories = [`)
		for i := range n {
			fmt.Fprintf(&b, " \"/d%d\"", i)
		}
		b.WriteString(" ]; files = [")
		for i := range n {
			fmt.Fprintf(&b, " \"/d%d\"", i)
		}
		b.WriteString(" ]; }; }\n")
		return b.String()
	},
}

// TestCheckCostLinear: for each shape, doubling n at most 2.5× the bytes
// allocated by the rules (the declarations are read before counting).
func TestCheckCostLinear(t *testing.T) {
	sel, err := NewSelection([]string{"all"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, gen := range lintShapes {
		t.Run(name, func(t *testing.T) {
			cost := func(n int) uint64 {
				src := gen(n)
				s, err := persist.ParseNix([]byte(src), "f.nix", persist.Options{})
				if err != nil {
					t.Fatal(err)
				}
				c := Config{Sets: []*persist.Set{s}, Sources: map[string][]byte{"f.nix": []byte(src)}}
				var a, b runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&a)
				want := n / 2
				if name == "one path" {
					want = 1
				}
				if fs := Check(c, sel); len(fs) < want {
					t.Fatalf("n=%d: %d findings", n, len(fs))
				}
				runtime.ReadMemStats(&b)
				return b.TotalAlloc - a.TotalAlloc
			}
			const n = 4000
			cost(n)
			a, b := cost(n), cost(2*n)
			if r := float64(b) / float64(a); r > 2.5 {
				t.Errorf("n=%d: %d bytes; 2n: %d bytes: ×%.2f, want at most ×2.5", n, a, b, r)
			}
		})
	}
}

// checkAlloc is the bytes Check allocates on src (read first, as drift
// lint reads it).
func checkAlloc(tb testing.TB, name, src string) uint64 {
	data := []byte(src)
	s, err := persist.ReadData(context.Background(), name, data, persist.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	c := Config{Sets: []*persist.Set{s}, Sources: map[string][]byte{name: data}, MaxPerRule: DefaultMaxPerRule}
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	Check(c, nil)
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// budgetShapes are lint's inputs under the memory budget (issue 13): the
// reader keeps about 8× the input for a list of paths, so the rules have
// 2× left for their own work.
var budgetShapes = map[string]func(n int) string{
	"directories": func(n int) string {
		var b strings.Builder
		b.WriteString(`{ environment.persistence."/p".directories = [` + "\n")
		for i := range n {
			fmt.Fprintf(&b, "  \"/var/lib/d%d\"\n", i)
		}
		b.WriteString("]; }\n")
		return b.String()
	},
	"duplicates": lintShapes["duplicates"],
	"one path":   lintShapes["one path"],
	"nested":     lintShapes["nested"],
}

// TestCheckAllocBound: on each budget shape, the rules allocate at most 2×
// the text of the entries added from 20,000 to 40,000 (what a rule costs an
// entry, without the thousand findings shown, a constant). Maps of the
// entries' keys, a line index and a suppression lookup per finding, and a
// message built for each finding past the limit cost 35×.
func TestCheckAllocBound(t *testing.T) {
	for name, gen := range budgetShapes {
		a, b := gen(20_000), gen(40_000)
		checkAlloc(t, "f.nix", a) // warm up
		// As signed: a rule whose cost does not grow can cost less at 2n.
		if r := float64(max(0, int64(checkAlloc(t, "f.nix", b))-int64(checkAlloc(t, "f.nix", a)))) / float64(len(b)-len(a)); r > 2 {
			t.Errorf("%s: the rules allocate %.2f× the text of the entries added, budget 2×", name, r)
		} else {
			t.Logf("%s: %.2f× the text of the entries added", name, r)
		}
	}
}

// BenchmarkCheckBudget runs the rules on 1,000,000 entries of each budget
// shape and fails when they allocate more than 2× the input's text (what
// the reader leaves of the budget of 10×); it reports alloc/input.
func BenchmarkCheckBudget(b *testing.B) {
	for name, gen := range budgetShapes {
		b.Run(name, func(b *testing.B) {
			src := gen(1_000_000)
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				a := float64(checkAlloc(b, "f.nix", src)) / float64(len(src))
				b.ReportMetric(a, "alloc/input")
				if a > 2 {
					b.Errorf("the rules allocate %.2f× the input, budget 2×", a)
				}
			}
		})
	}
}

// TestMaxPerRule: with Config.MaxPerRule, 2,500 paths declared twice
// give that many duplicate findings and one more saying how many were
// left out, at the first left out (the 1,001st path's second declaration)
// and as severe; without it, all 2,500.
func TestMaxPerRule(t *testing.T) {
	src := lintShapes["duplicates"](5000)
	s, err := persist.ParseNix([]byte(src), "f.nix", persist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := Config{Sets: []*persist.Set{s}, Sources: map[string][]byte{"f.nix": []byte(src)}}
	if got := len(only(Check(c, nil), "duplicate")); got != 2500 {
		t.Errorf("uncapped: %d duplicate findings, want 2500", got)
	}
	c.MaxPerRule = 1000
	var dups []Finding
	for _, f := range Check(c, nil) {
		if f.Rule == "duplicate" {
			dups = append(dups, f)
		}
	}
	if len(dups) != 1001 {
		t.Fatalf("capped: %d duplicate findings, want 1001", len(dups))
	}
	var summary *Finding
	for i := range dups {
		if strings.HasPrefix(dups[i].Message, "1500 more duplicate findings not shown") {
			summary = &dups[i]
		}
	}
	if summary == nil {
		t.Fatalf("no summary finding among %v…", dups[:3])
	}
	// Line 1 opens the list; entry i is on line i+2.
	if summary.Severity != sev("duplicate") || summary.Pos.Line != 2500+1000+2 || summary.Pos.Col != 3 {
		t.Errorf("summary %+v: want the duplicate's severity at the 1,001st path's second declaration (%d:3)", *summary, 2500+1000+2)
	}
}

// TestDuplicateCountedAndCapped: one path declared 2,500 times is one
// finding, at its second declaration, that counts them and names the
// first few places (field: a million copies of one line printed a
// million findings).
func TestDuplicateCountedAndCapped(t *testing.T) {
	src := lintShapes["one path"](2500)
	s, err := persist.ParseNix([]byte(src), "f.nix", persist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var fs []Finding
	for _, f := range Check(Config{Sets: []*persist.Set{s}, Sources: map[string][]byte{"f.nix": []byte(src)}}, nil) {
		if f.Rule == "duplicate" {
			fs = append(fs, f)
		}
	}
	col := func(k int) int { return strings.Index(src, `"/var/lib/same"`) + 16*k + 1 } // the k+1st copy
	want := fmt.Sprintf("directory /var/lib/same is declared 2500 times; first at f.nix:1:%d; also at f.nix:1:%d, f.nix:1:%d and 2496 more", col(0), col(2), col(3))
	if len(fs) != 1 || fs[0].Message != want || fs[0].Pos.Col != col(1) {
		t.Errorf("findings %+v\nwant one at 1:%d: %s", fs, col(1), want)
	}
}
