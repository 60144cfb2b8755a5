package persist

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// samplePath is the path of a copy of shared/samples/nix-eval/NAME (real
// module output for real host files) kept in testdata/nix-eval.
func samplePath(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join("testdata", "nix-eval", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("sample %s: %v", name, err)
	}
	return p
}

// brief renders an entry's values (not its position) for comparisons:
// "dir /home/bird/.ssh @/nix/persist bird:users:0700 owner=bird impermanence".
func brief(e Entry) string {
	k := "dir"
	if e.Kind == File {
		k = "file"
	}
	s := fmt.Sprintf("%s %s @%s %s:%s:%s", k, e.Path, e.StoragePath, e.User, e.Group, e.Mode)
	if e.Method != "" {
		s += " method=" + e.Method
	}
	if e.Owner != "" {
		s += " owner=" + e.Owner
	}
	if e.SourcePath() != "" {
		s += " src=" + e.SourcePath()
	}
	return s + " " + e.Module
}

func briefs(s *Set) []string {
	var out []string
	for _, e := range s.Entries {
		out = append(out, brief(e))
	}
	return out
}

func diags(s *Set) []string {
	var out []string
	for _, d := range s.Diagnostics {
		out = append(out, d.String())
	}
	return out
}

func wantLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// hasDiag reports whether some diagnostic's String contains all parts.
func hasDiag(s *Set, parts ...string) bool {
	for _, d := range s.Diagnostics {
		str := d.String() + " hint: " + d.Hint
		ok := true
		for _, p := range parts {
			if !strings.Contains(str, p) {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func mustNix(t *testing.T, text string, opts Options) *Set {
	t.Helper()
	s, err := ParseNix([]byte(text), "decl.nix", opts)
	if err != nil {
		t.Fatalf("ParseNix: %v", err)
	}
	return s
}

func mustJSON(t *testing.T, text string, opts Options) *Set {
	t.Helper()
	s, err := ParseJSON([]byte(text), "x.json", opts)
	if err != nil {
		t.Fatalf("ParseJSON: %v", err)
	}
	return s
}
