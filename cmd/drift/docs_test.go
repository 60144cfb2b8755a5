package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// repoRoot is the repository's top directory, seen from cmd/drift.
const repoRoot = "../.."

// docPages lists the Markdown files a user reads: the top-level ones and
// everything under docs/.
func docPages(t *testing.T) []string {
	t.Helper()
	var pages []string
	top, err := filepath.Glob(filepath.Join(repoRoot, "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	pages = append(pages, top...)
	err = filepath.WalkDir(filepath.Join(repoRoot, "docs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".md") {
			pages = append(pages, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(pages)
	return pages
}

// mdLink matches an inline Markdown link's target: ](target).
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// anchors returns the GitHub heading anchors of a Markdown file: each
// heading lower-cased, punctuation but '-' and '_' dropped, spaces as '-'.
// Headings inside fenced code blocks do not count.
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	fence := false
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "```") {
			fence = !fence
			continue
		}
		if fence || !strings.HasPrefix(l, "#") {
			continue
		}
		h := strings.TrimSpace(strings.TrimLeft(l, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(h) {
			switch {
			case r == ' ':
				b.WriteByte('-')
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
				b.WriteRune(r)
			}
		}
		a := b.String()
		if out[a] { // GitHub numbers repeated headings: a-1, a-2, …
			i := 1
			for out[a+"-"+strconv.Itoa(i)] {
				i++
			}
			a += "-" + strconv.Itoa(i)
		}
		out[a] = true
	}
	return out
}

// withoutCode drops fenced code blocks and inline code spans, where a
// "](x)" is not a link.
func withoutCode(text string) string {
	var b strings.Builder
	fence := false
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "```") {
			fence = !fence
			continue
		}
		if !fence {
			b.WriteString(regexp.MustCompile("`[^`]*`").ReplaceAllString(l, ""))
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// TestDocsLinksResolve: every relative link of README.md, the other
// top-level pages and docs/ names a file of the repository, and its
// #anchor a heading of that file (of the page itself for "#anchor").
func TestDocsLinksResolve(t *testing.T) {
	for _, page := range docPages(t) {
		data, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdLink.FindAllStringSubmatch(withoutCode(string(data)), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, anchor, _ := strings.Cut(target, "#")
			dest := page
			if file != "" {
				dest = filepath.Join(filepath.Dir(page), file)
			}
			st, err := os.Stat(dest)
			if err != nil {
				t.Errorf("%s: link %s: %v", page, target, err)
				continue
			}
			if anchor == "" || st.IsDir() {
				continue
			}
			text, err := os.ReadFile(dest)
			if err != nil {
				t.Fatal(err)
			}
			if !anchors(string(text))[anchor] {
				t.Errorf("%s: link %s: %s has no heading #%s", page, target, dest, anchor)
			}
		}
	}
}

// TestDocsPageListsEveryFlag: each command's page, docs/NAME.md, mentions
// every flag the command has (--name), so a flag added to a command is
// documented where users look.
func TestDocsPageListsEveryFlag(t *testing.T) {
	root := newRootCmd(Streams{})
	root.InitDefaultVersionFlag()
	v, err := os.ReadFile(filepath.Join(repoRoot, "docs", "version.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range commandFlags(root) { // drift --version
		if !strings.Contains(string(v), "--"+f) {
			t.Errorf("docs/version.md does not mention drift's flag --%s", f)
		}
	}
	for _, c := range root.Commands() {
		name := c.Name()
		if name == "help" || name == "completion" || name == "man" {
			continue // drift version's page covers completion and man
		}
		page := filepath.Join(repoRoot, "docs", name+".md")
		data, err := os.ReadFile(page)
		if err != nil {
			t.Errorf("drift %s has no page: %v", name, err)
			continue
		}
		for _, cc := range append([]*cobra.Command{c}, c.Commands()...) { // drift prune empty too
			for _, f := range commandFlags(cc) {
				if !strings.Contains(string(data), "--"+f) {
					t.Errorf("%s does not mention drift %s's flag --%s", page, cc.CommandPath(), f)
				}
			}
		}
	}
}

// commandFlags returns the names of c's own and inherited flags, help
// excluded.
func commandFlags(c *cobra.Command) []string {
	var out []string
	seen := map[string]bool{}
	add := func(f *pflag.Flag) {
		if f.Name != "help" && !f.Hidden && !seen[f.Name] {
			seen[f.Name] = true
			out = append(out, f.Name)
		}
	}
	c.LocalFlags().VisitAll(add)
	c.InheritedFlags().VisitAll(add)
	return out
}

// outsideRef matches a citation of something outside the repository: a
// field case id, the project's issue numbers, its design, style and research
// notes.
var outsideRef = regexp.MustCompile(`(?i)field[ -]cases?|\bC\d\d\b|\bissue \d+|research/|research §|persistence-formats|\bDESIGN\.md|\bSTYLE\.md|/work/shared`)

// TestNoOutsideReferences: nothing a user or a reader of the code meets
// cites what is not in the repository: no field case ids, issue numbers or
// design and research notes in the pages, the code and its comments, help
// and messages, the knowledge base, the Nix files and the scripts. Tests
// (_test.go files and testdata/) may cite field cases.
func TestNoOutsideReferences(t *testing.T) {
	n := 0
	err := filepath.WalkDir(repoRoot, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(repoRoot, p)
		if d.IsDir() {
			switch d.Name() {
			case ".git", "testdata", "bin":
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || strings.HasSuffix(p, "_test.go") || rel == "drift" ||
			strings.HasSuffix(p, ".test") || strings.HasSuffix(p, ".img") {
			return nil // tests, and what .gitignore leaves out (the built binary)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.IndexByte(data, 0) >= 0 {
			return nil // not text
		}
		n++
		for i, line := range strings.Split(string(data), "\n") {
			if m := outsideRef.FindString(line); m != "" {
				t.Errorf("%s:%d: %q refers outside the repository", rel, i+1, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 100 {
		t.Errorf("%d files read; the repository has more", n)
	}
}

// TestDocsAlertRulesPromtool: the Prometheus alert rules docs/nixos.md
// gives pass promtool check rules.
func TestDocsAlertRulesPromtool(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "docs", "nixos.md"))
	if err != nil {
		t.Fatal(err)
	}
	var rules string
	for _, block := range fencedBlocks(string(data), "yaml") {
		if strings.HasPrefix(block, "groups:") {
			rules = block
		}
	}
	if rules == "" {
		t.Fatal("docs/nixos.md has no yaml block of alert rules (groups:)")
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("DRIFT_REQUIRE_PROMTOOL") == "1" {
			t.Fatal("promtool not found and DRIFT_REQUIRE_PROMTOOL=1")
		}
		t.Skip("promtool not installed (DRIFT_REQUIRE_PROMTOOL=1 makes this a failure)")
	}
	p := filepath.Join(t.TempDir(), "drift-rules.yml")
	if err := os.WriteFile(p, []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", p).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "4 rules found") {
		t.Errorf("promtool found another number of rules than the 4 written:\n%s", out)
	}
}

// fencedBlocks returns the contents of the ```lang blocks of a Markdown text.
func fencedBlocks(text, lang string) []string {
	var out []string
	var cur *strings.Builder
	for _, l := range strings.Split(text, "\n") {
		switch {
		case cur == nil && strings.TrimSpace(l) == "```"+lang:
			cur = &strings.Builder{}
		case cur != nil && strings.TrimSpace(l) == "```":
			out = append(out, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(l + "\n")
		}
	}
	return out
}

// TestDocsExamplesRun: every example of the docs that runs offline (a line
// of a ```sh block starting with "drift " and naming fixtures/demo, the demo
// system, or drift version, which needs no system) runs: exit status 0 or 1 (1: something would be lost, or a
// lint finding), and something on standard output.
func TestDocsExamplesRun(t *testing.T) {
	n := 0
	for _, page := range docPages(t) {
		data, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, block := range fencedBlocks(string(data), "sh") {
			for _, line := range strings.Split(block, "\n") {
				line, _, _ = strings.Cut(line, " #")
				if !strings.HasPrefix(line, "drift ") || !strings.Contains(line, "fixtures/demo") && !strings.HasPrefix(line, "drift version") {
					continue
				}
				if strings.ContainsAny(line, "|<>;&$'\"`") {
					t.Errorf("%s: %q: an offline example is one plain command", page, line)
					continue
				}
				var args []string
				for _, a := range strings.Fields(line)[1:] {
					if strings.HasPrefix(a, "fixtures/") {
						a = filepath.Join(repoRoot, a)
					}
					args = append(args, a)
				}
				n++
				code, out, stderr := runDrift(t, args...)
				if code > 1 || out == "" {
					t.Errorf("%s: %s: exit %d, %d bytes out\n%s", page, line, code, len(out), stderr)
				}
			}
		}
	}
	if n < 5 {
		t.Errorf("%d offline examples found in the docs, want the demo tour's (at least 5)", n)
	}
}

// TestVersionFlag: drift --version prints exactly what drift version
// prints, and exits 0.
func TestVersionFlag(t *testing.T) {
	code, flag, stderr := runDrift(t, "--version")
	if code != 0 {
		t.Fatalf("drift --version: exit %d: %s", code, stderr)
	}
	_, cmd, _ := runDrift(t, "version")
	if flag != cmd || !strings.HasPrefix(flag, "drift ") {
		t.Errorf("drift --version = %q, drift version = %q", flag, cmd)
	}
}

// TestReadmeSetUpCommands: the README gives the two set-up commands, make
// demo and make test, in a sh block; the Makefile has both targets, and CI
// (.ci/run) runs make test.
func TestReadmeSetUpCommands(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(repoRoot, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	readme := strings.Join(fencedBlocks(read("README.md"), "sh"), "")
	makefile, ci := read("Makefile"), read(".ci/run")
	for _, target := range []string{"demo", "test"} {
		if !regexp.MustCompile(`(?m)^make ` + target + `\b`).MatchString(readme) {
			t.Errorf("README.md has no sh block line 'make %s'", target)
		}
		if !regexp.MustCompile(`(?m)^` + target + `:`).MatchString(makefile) {
			t.Errorf("Makefile has no target %s", target)
		}
	}
	if !regexp.MustCompile(`(?m)^\s*make test\b`).MatchString(ci) {
		t.Error(".ci/run does not run make test")
	}
}

// TestHelpNamesItsPage: each command's --help names its docs page, where
// the rest of what a user needs is.
func TestHelpNamesItsPage(t *testing.T) {
	for _, c := range newRootCmd(Streams{}).Commands() {
		name := c.Name()
		if name == "help" || name == "completion" || name == "man" {
			continue
		}
		if !strings.Contains(c.Long, "docs/"+name+".md") {
			t.Errorf("drift %s --help does not name docs/%s.md", name, name)
		}
	}
}

// TestHelpIsShort: each command's --help text (its Long) fits a terminal,
// at most 30 lines: what the command answers, its key flags, its exit
// status; the rest is on its docs page (TestHelpNamesItsPage).
func TestHelpIsShort(t *testing.T) {
	const most = 30
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if n := strings.Count(c.Long, "\n") + 1; c.Long != "" && n > most {
			t.Errorf("%s --help: %d lines of text, more than %d; move the detail to its page", c.CommandPath(), n, most)
		}
		for _, cc := range c.Commands() {
			walk(cc)
		}
	}
	walk(newRootCmd(Streams{}))
}

// TestReadmeTourPrintsWhatMakeDemoPrints: the README tour's first command
// is the one make demo runs (the Makefile's recipe, $(DEMO) expanded), and
// the summary line the README quotes is what it prints, as is the total it
// gives without --ignore-file (the tour's total differed from make demo's:
// the tour left the ignore file out).
func TestReadmeTourPrintsWhatMakeDemoPrints(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(repoRoot, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	m := regexp.MustCompile(`(?ms)^demo:[^\n]*\n\t\./drift (check [^;]*?);`).FindStringSubmatch(read("Makefile"))
	if m == nil {
		t.Fatal("Makefile: no demo recipe running ./drift check")
	}
	demo := strings.Fields(strings.ReplaceAll(strings.ReplaceAll(m[1], "\\\n", " "), "$(DEMO)", "fixtures/demo"))
	readme := read("README.md")
	_, tour, _ := strings.Cut(readme, "## A 5-minute tour")
	var first string
	for _, b := range fencedBlocks(tour, "sh") {
		if strings.HasPrefix(b, "drift check ") {
			first = strings.TrimSpace(b)
			break
		}
	}
	if got := strings.Fields(first)[1:]; !slices.Equal(got, demo) {
		t.Fatalf("README tour runs drift %q, make demo drift %q", got, demo)
	}
	abs := func(args []string) []string {
		var out []string
		for _, a := range args {
			if strings.HasPrefix(a, "fixtures/") {
				a = filepath.Join(repoRoot, a)
			}
			out = append(out, a)
		}
		return out
	}
	summary := func(args []string) string {
		code, out, errs := runDrift(t, abs(args)...)
		if code != 1 {
			t.Fatalf("drift %q: exit %d, want 1: %s", args, code, errs)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		return lines[len(lines)-1]
	}
	got := summary(demo)
	if !regexp.MustCompile("`drift check` exits 1 when something would be lost").MatchString(tour) {
		t.Errorf("README tour does not say drift check exits 1 when something would be lost, as it does on the demo")
	}
	if !strings.Contains(strings.Join(fencedBlocks(tour, "text"), ""), got+"\n") {
		t.Errorf("README tour does not quote make demo's summary line %q", got)
	}
	i := slices.Index(demo, "--ignore-file")
	without := summary(slices.Delete(slices.Clone(demo), i, i+2))
	n, _, _ := strings.Cut(without, " (")
	if !strings.Contains(tour, "counts as lost too: "+n+")") {
		t.Errorf("README tour does not give the total without --ignore-file, %q (%s)", n, without)
	}
}

// TestReadmeMakeDemoExitStatus: the exit status the README gives for make
// demo is the one it exits with, its recipe run as written (make, with
// ./drift this test binary run as drift). A fresh user read "exit status
// 1 means something would be lost" next to make demo, which exits 0: its
// recipe takes drift check's 1 as success.
func TestReadmeMakeDemoExitStatus(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		testutil.SkipOrFatal(t, testutil.RequireHost, "no make")
	}
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("`make demo` exits (\\d+)").FindStringSubmatch(string(b))
	if m == nil {
		t.Fatal("README.md does not say what make demo exits with")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	repo, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(self, filepath.Join(dir, "drift")); err != nil {
		t.Fatal(err)
	}
	// -o build: ./drift is made already (the build target would go build it).
	cmd := exec.Command("make", "-s", "-f", filepath.Join(repo, "Makefile"), "-o", "build", "demo", "DEMO="+filepath.Join(repo, "fixtures/demo"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DRIFT_MAIN_CHILD=1")
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "would be lost at the next boot") {
		t.Fatalf("make demo did not run drift check:\n%s", out)
	}
	if strconv.Itoa(code) != m[1] {
		t.Errorf("make demo exits %d; README.md says %s", code, m[1])
	}
}
