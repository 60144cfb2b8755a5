package lint

import (
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
	"duplicates": func(n int) string {
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
				if fs := Check(c, sel); len(fs) < n/2 {
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

// TestMaxPerRule: with Config.MaxPerRule, 2,500 copies of one entry give
// that many duplicate findings and one more saying how many were left out,
// at the first left out and as severe; without it, all 2,499.
func TestMaxPerRule(t *testing.T) {
	src := lintShapes["duplicates"](2500)
	s, err := persist.ParseNix([]byte(src), "f.nix", persist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := Config{Sets: []*persist.Set{s}, Sources: map[string][]byte{"f.nix": []byte(src)}}
	if got := len(only(Check(c, nil), "duplicate")); got != 2499 {
		t.Errorf("uncapped: %d duplicate findings, want 2499", got)
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
		if strings.HasPrefix(dups[i].Message, "1499 more duplicate findings not shown") {
			summary = &dups[i]
		}
	}
	if summary == nil {
		t.Fatalf("no summary finding among %v…", dups[:3])
	}
	col := strings.Index(src, `"/var/lib/same"`) + 16*1001 + 1 // the 1,002nd copy
	if summary.Severity != sev("duplicate") || summary.Pos.Line != 1 || summary.Pos.Col != col {
		t.Errorf("summary %+v: want the duplicate's severity at the 1,002nd copy (1:%d)", *summary, col)
	}
}
