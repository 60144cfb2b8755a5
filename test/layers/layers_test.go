package layers

import (
	"bufio"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/nix-drift/drift"

// layers lists drift's packages from the bottom up. A package's non-test
// files import drift packages of lower layers only: never one of its own
// layer, never one above.
var layers = []struct {
	name string
	pkgs []string
}{
	{"leaf", []string{"internal/buildinfo", "internal/escape", "internal/fsys", "internal/hashindex", "internal/jsonschema", "internal/knowledge", "internal/partial", "internal/pathx", "internal/persist/nix", "internal/testutil", "internal/units"}},
	{"files", []string{"internal/fsys/fsystest", "internal/safefile", "internal/scan"}},
	{"mounts", []string{"internal/mounts"}},
	{"sources", []string{"internal/btrfs", "internal/persist"}},
	{"rules", []string{"internal/diff", "internal/lint"}},
	{"model", []string{"internal/audit", "internal/lint/input", "internal/lint/output"}},
	{"readers", []string{"internal/restore", "internal/suggest"}},
	{"actions", []string{"internal/adopt", "internal/prune"}},
	{"rehearse", []string{"internal/rehearse"}},
	{"render", []string{"internal/report"}},
	{"command", []string{"cmd/drift"}},
}

// onlyFrom names packages that only the listed packages may import (from
// their non-test files).
var onlyFrom = map[string][]string{
	"internal/report": {"cmd/drift"},
}

// testOnly names packages that no non-test file may import.
var testOnly = []string{"internal/fsys/fsystest", "internal/testutil"}

// pkgImports is what one package's files import, of drift's own packages.
type pkgImports struct {
	code, tests map[string][]string // imported package -> importing files
	hasCode     bool                // the directory has non-test files
}

// readImports parses the import clauses of every .go file below root
// (testdata, vendor and hidden directories skipped), by package directory
// relative to root. Build constraints are ignored: a file for any system
// counts.
func readImports(root string) (map[string]*pkgImports, error) {
	out := map[string]*pkgImports{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") || d.Name() == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		pi := out[rel]
		if pi == nil {
			pi = &pkgImports{code: map[string][]string{}, tests: map[string][]string{}}
			out[rel] = pi
		}
		for _, im := range f.Imports {
			ip, err := strconv.Unquote(im.Path.Value)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			dep, ok := strings.CutPrefix(ip, module+"/")
			if !ok {
				continue
			}
			m := pi.tests
			if !strings.HasSuffix(p, "_test.go") {
				m, pi.hasCode = pi.code, true
			}
			m[dep] = append(m[dep], filepath.Base(p))
		}
		if !strings.HasSuffix(p, "_test.go") {
			pi.hasCode = true
		}
		return nil
	})
	return out, err
}

// violations checks the packages below root against the layers and returns
// one message per import that breaks a rule, sorted.
func violations(root string) ([]string, error) {
	all, err := readImports(root)
	if err != nil {
		return nil, err
	}
	r := map[string]int{}
	for i, l := range layers {
		for _, p := range l.pkgs {
			r[p] = i
		}
	}
	var out []string
	bad := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	for dir, pi := range all {
		if !pi.hasCode || !strings.HasPrefix(dir, "internal/") && !strings.HasPrefix(dir, "cmd/") {
			continue // tests (test/e2e, test/nix, this one) and tools stand outside the layers
		}
		mine, ok := r[dir]
		if !ok {
			bad("%s has no layer: add it to the table in test/layers and ARCHITECTURE.md", dir)
			continue
		}
		for dep, files := range pi.code {
			in := strings.Join(files, ", ")
			d, ok := r[dep]
			switch {
			case slices.Contains(testOnly, dep):
				bad("%s imports %s in %s, not a _test.go file: it is for tests only", dir, dep, in)
			case !ok:
				bad("%s imports %s (%s), which has no layer", dir, dep, in)
			case mine == 0:
				bad("%s imports %s (%s): a leaf package imports no drift package", dir, dep, in)
			case d >= mine:
				bad("%s (layer %s) imports %s (layer %s) in %s: a package imports only lower layers", dir, layers[mine].name, dep, layers[d].name, in)
			}
			if by, ok := onlyFrom[dep]; ok && !slices.Contains(by, dir) {
				bad("%s imports %s (%s): only %s may", dir, dep, in, strings.Join(by, ", "))
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestLayers(t *testing.T) {
	vs, err := violations(repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		t.Error(v)
	}
}

// TestLayersFailOnBadImports: a tree breaking each rule once gives one
// message per broken rule (the fixture is parsed, not built).
func TestLayersFailOnBadImports(t *testing.T) {
	dir := t.TempDir()
	for rel, src := range map[string]string{
		"internal/pathx/x.go":      "package pathx\nimport _ \"" + module + "/internal/units\"\n",
		"internal/pathx/x_test.go": "package pathx\nimport _ \"" + module + "/internal/diff\"\n",
		"internal/btrfs/m.go":      "package btrfs\nimport _ \"" + module + "/internal/testutil\"\n",
		"internal/btrfs/m_test.go": "package btrfs\nimport _ \"" + module + "/internal/testutil\"\n",
		"internal/persist/p.go":    "package persist\nimport _ \"" + module + "/internal/btrfs\"\n",
		"internal/safefile/s.go":   "package safefile\nimport _ \"" + module + "/internal/persist\"\n",
		"internal/suggest/s.go":    "package suggest\nimport (\n_ \"" + module + "/internal/report\"\n_ \"fmt\"\n)\n",
		"internal/report/r.go":     "package report\nimport _ \"" + module + "/internal/suggest\"\n",
		"internal/newthing/n.go":   "package newthing\n",
		"test/e2e/e_test.go":       "package e2e\nimport _ \"" + module + "/cmd/drift\"\n",
		"cmd/drift/main.go":        "package main\nimport _ \"" + module + "/internal/report\"\n",
	} {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := violations(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"internal/btrfs imports internal/testutil in m.go, not a _test.go file: it is for tests only",
		"internal/newthing has no layer: add it to the table in test/layers and ARCHITECTURE.md",
		"internal/pathx imports internal/units (x.go): a leaf package imports no drift package",
		"internal/persist (layer sources) imports internal/btrfs (layer sources) in p.go: a package imports only lower layers",
		"internal/safefile (layer files) imports internal/persist (layer sources) in s.go: a package imports only lower layers",
		"internal/suggest (layer readers) imports internal/report (layer render) in s.go: a package imports only lower layers",
		"internal/suggest imports internal/report (s.go): only cmd/drift may",
	}
	if !slices.Equal(got, want) {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestLayersDocumented: ARCHITECTURE.md's "Layers" table lists the same
// layers with the same packages, in the same order, as this test.
func TestLayersDocumented(t *testing.T) {
	f, err := os.Open(filepath.Join(repoRoot(t), "ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	row := regexp.MustCompile(`^\| (\d+) \| ([a-z]+) \| ([^|]+) \|`)
	code := regexp.MustCompile("`([^`]+)`")
	var doc []string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == "## Layers"
			continue
		}
		if m := row.FindStringSubmatch(line); in && m != nil {
			var pkgs []string
			for _, c := range code.FindAllStringSubmatch(m[3], -1) {
				pkgs = append(pkgs, c[1])
			}
			doc = append(doc, fmt.Sprintf("%s %s %s", m[1], m[2], strings.Join(pkgs, " ")))
		}
	}
	var want []string
	for i, l := range layers {
		want = append(want, fmt.Sprintf("%d %s %s", i, l.name, strings.Join(l.pkgs, " ")))
	}
	if !slices.Equal(doc, want) {
		t.Errorf("ARCHITECTURE.md's Layers table says\n%s\nthe test's table is\n%s", strings.Join(doc, "\n"), strings.Join(want, "\n"))
	}
}
