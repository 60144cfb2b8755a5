package lint

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeListsRules: every rule has a row in the README's rules table
// (its reason and source), and every row names a rule.
func TestReadmeListsRules(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	i := strings.Index(s, "### Rules")
	if i < 0 {
		t.Fatal("README has no Rules section")
	}
	s = s[i:]
	if j := strings.Index(s, "\n## "); j >= 0 {
		s = s[:j] // up to the next section
	}
	rows := map[string]bool{}
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "| `") {
			id := strings.TrimPrefix(l, "| `")
			id = id[:strings.IndexByte(id, '`')]
			rows[id] = true
			if _, ok := LookupRule(id); !ok {
				t.Errorf("README row for unknown rule %q", id)
			}
		}
	}
	for _, r := range Rules() {
		if !rows[r.ID] {
			t.Errorf("README has no row for rule %s", r.ID)
		}
	}
}
