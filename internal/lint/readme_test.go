package lint

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeListsRules: every rule has a row in the rules table of
// docs/lint.md (its reason and source), and every row names a rule.
func TestReadmeListsRules(t *testing.T) {
	for _, c := range []struct {
		file, heading string
		optional      bool
	}{
		{"../../docs/lint.md", "## Rules", false},
	} {
		data, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		s := string(data)
		i := strings.Index(s, "\n"+c.heading+"\n")
		if i < 0 {
			if !c.optional {
				t.Errorf("%s has no %s section", c.file, c.heading)
			}
			continue
		}
		s = s[i+1:]
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
					t.Errorf("%s: row for unknown rule %q", c.file, id)
				}
			}
		}
		for _, r := range Rules() {
			if !rows[r.ID] {
				t.Errorf("%s has no row for rule %s", c.file, r.ID)
			}
		}
	}
}
