package main

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// notesRef matches, in a test, a citation of the project's notes outside
// the repository (its design and style files, the field cases' file):
// a test says what they say instead. Product files may cite nothing
// outside the repository at all (TestNoOutsideReferences).
var notesRef = regexp.MustCompile(`\bDESIGN\.md|\bSTYLE\.md|field-cases\.md|/work/shared`)

// leadingCase matches, in a test, a comment or a quoted name that starts
// with a field-case id ("// C03: …", "C15 same-second collision"): the
// explanation in the test's own words comes first, the id after it.
var leadingCase = regexp.MustCompile("(//|\"|`)\\s*(field case )?C[0-9]{2}\\b")

// caseNamed matches a test function named by a field-case id
// (TestFieldCaseC02): its name says what it guards instead.
var caseNamed = regexp.MustCompile(`func Test\w*C[0-9]{2}`)

// self are this file and TestNoOutsideReferences', whose fixtures and
// patterns cite on purpose.
var self = []string{"cmd/drift/citations_test.go", "cmd/drift/docs_test.go"}

// testCitations lists, as "FILE:LINE: WHY: TEXT", the _test.go files below
// root that cite the notes outside the repository (notesRef), open a
// comment or a name with a field-case id instead of telling the case in
// the test's own words first, or name a test function by one. testdata and
// hidden directories, and the checks themselves (self), are skipped.
func testCitations(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != root && (name == "testdata" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if !strings.HasSuffix(name, "_test.go") || slices.Contains(self, rel) {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			bad := ""
			switch {
			case notesRef.MatchString(line):
				bad = "cites notes not in the repository: say what they say"
			case caseNamed.MatchString(line):
				bad = "a test named by a field-case id: name it for what it guards"
			case leadingCase.MatchString(line):
				bad = "opens with a field-case id: tell the case in the test's own words first, the id after"
			}
			if bad != "" {
				out = append(out, fmt.Sprintf("%s:%d: %s: %s", rel, n, bad, strings.TrimSpace(line)))
			}
		}
		return sc.Err()
	})
	return out, err
}

// TestTestsTellFieldCasesInTheirOwnWords: a test that cites a field case
// tells it in its own words first, the id after as a reference, and is
// named for what it guards; no test cites the design notes, which a reader
// of the repository cannot open.
func TestTestsTellFieldCasesInTheirOwnWords(t *testing.T) {
	got, err := testCitations(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range got {
		t.Error(c)
	}
}

// TestTestCitationsFound: each kind of citation in a fixture tree's tests
// is found, and what is allowed (an id after the test's own explanation,
// a product file, testdata) is not.
func TestTestCitationsFound(t *testing.T) {
	dir := t.TempDir()
	for rel, src := range map[string]string{
		"internal/x/x.go":               "package x\n\n// As C03 showed.\n",
		"internal/x/x_test.go":          "package x\n\n// C05: names.\n// An over-mount hides the bind mount (field case C03).\n// The layout of DESIGN.md §1.\nvar n = \"C15 collision\"\nvar m = \"collision (C15)\"\nfunc TestCaseC02(t *testing.T) {}\n",
		"internal/x/testdata/a_test.go": "package a // C03\n",
	} {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := testCitations(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"internal/x/x_test.go:3: opens with a field-case id: tell the case in the test's own words first, the id after: // C05: names.",
		"internal/x/x_test.go:5: cites notes not in the repository: say what they say: // The layout of DESIGN.md §1.",
		"internal/x/x_test.go:6: opens with a field-case id: tell the case in the test's own words first, the id after: var n = \"C15 collision\"",
		"internal/x/x_test.go:8: a test named by a field-case id: name it for what it guards: func TestCaseC02(t *testing.T) {}",
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("citations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
