package persist

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// dupDiags are the messages of s's diagnostics with Code "duplicate", each
// after its position.
func dupDiags(s *Set) []string {
	var out []string
	for _, d := range s.Diagnostics {
		if d.Code == "duplicate" {
			out = append(out, d.Pos.String()+": "+d.Message)
		}
	}
	return out
}

// pairs is a module declaring n paths twice each, one a line (entry i on
// line i+2).
func pairs(n int) string {
	var b strings.Builder
	b.WriteString(`{ environment.persistence."/p".directories = [` + "\n")
	for i := range 2 * n {
		fmt.Fprintf(&b, "  \"/var/lib/d%d\"\n", i%n)
	}
	b.WriteString("]; }\n")
	return b.String()
}

// TestRepeatWarningCountedAndCapped: one path declared 2,500 times is one
// warning, at its second declaration, that counts them and names the
// first four places; 1,500 paths declared twice are RepeatWarnings
// warnings and one counting the other 500 (field: a million copies of one
// line printed a million warnings, 175 MB, from drift check).
func TestRepeatWarningCountedAndCapped(t *testing.T) {
	src := `{ environment.persistence."/p".directories = [` + strings.Repeat(` "/var/lib/same"`, 2500) + " ]; }\n"
	s, err := ReadData(context.Background(), "x.nix", []byte(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	col := func(k int) int { return strings.Index(src, `"/var/lib/same"`) + 16*k + 1 } // the k+1st copy
	want := fmt.Sprintf("x.nix:1:%d: directory /var/lib/same is declared 2500 times (first at x.nix:1:%d; also at x.nix:1:%d, x.nix:1:%d and 2496 more)", col(1), col(0), col(2), col(3))
	if got := dupDiags(s); len(got) != 1 || got[0] != want {
		t.Errorf("warnings %q\nwant one: %s", got, want)
	}

	s, err = ReadData(context.Background(), "x.nix", []byte(pairs(1500)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := dupDiags(s)
	if len(got) != RepeatWarnings+1 {
		t.Fatalf("%d warnings, want %d", len(got), RepeatWarnings+1)
	}
	if got[0] != "x.nix:1502:3: directory /var/lib/d0 is declared twice (first at x.nix:2:3)" ||
		got[RepeatWarnings] != ": 500 more paths are declared more than once" {
		t.Errorf("first and last warnings: %q, %q", got[0], got[RepeatWarnings])
	}
}

// TestRepeatAcrossFilesAndStoragePaths: Load warns once of a path that
// two files declare, and of one declared under two storage paths (the
// rule drift lint's duplicate rule reads too), naming both.
func TestRepeatAcrossFilesAndStoragePaths(t *testing.T) {
	root := t.TempDir()
	a, b := filepath.Join(root, "a.nix"), filepath.Join(root, "b.nix")
	testutil.WriteFile(t, a, `{ environment.persistence."/p".directories = [ "/srv" "/srv" ]; }`)
	testutil.WriteFile(t, b, `{ environment.persistence."/p".directories = [ "/srv" ];
  environment.persistence."/q".files = [ "/etc/k" ]; environment.persistence."/p".files = [ "/etc/k" ]; }`)
	set, _, err := Load(context.Background(), root, []string{a, b}, "", nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := dupDiags(set)
	want := []string{
		b + ":2:42: file /etc/k is declared twice, with the storage paths /p and /q (first at " + b + ":2:93)",
		a + ":1:55: directory /srv is declared 3 times (first at " + a + ":1:48; also at " + b + ":1:48)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestRepeatsCostLinear: finding the repeated paths among 10× the
// declarations allocates at most 20× (linear: 10×, and up to twice that
// where a table's size rounds up to the next power of two), for paths
// declared twice and for one path declared n times; a rule comparing
// every declaration with every other (lint's, once) costs 100×.
func TestRepeatsCostLinear(t *testing.T) {
	shapes := map[string]func(n int) string{
		"pairs": func(n int) string { return pairs(n / 2) },
		"one path": func(n int) string {
			return `{ environment.persistence."/p".directories = [` + strings.Repeat(` "/a"`, n) + " ]; }\n"
		},
	}
	for name, gen := range shapes {
		cost := func(n int) uint64 {
			s, err := ReadData(context.Background(), "x.nix", []byte(gen(n)), Options{})
			if err != nil {
				t.Fatal(err)
			}
			var a, b runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&a)
			reps, _ := s.Repeats(0)
			runtime.ReadMemStats(&b)
			if n := len(reps); n == 0 {
				t.Fatalf("%s: no repeated path", name)
			}
			return b.TotalAlloc - a.TotalAlloc
		}
		cost(2000)
		small, big := cost(2000), cost(20000)
		if r := float64(big) / float64(small); r > 20 {
			t.Errorf("%s: 2,000 declarations: %d bytes; 20,000: %d bytes: ×%.1f, want at most ×20", name, small, big, r)
		} else {
			t.Logf("%s: ×%.1f", name, r)
		}
	}
}
