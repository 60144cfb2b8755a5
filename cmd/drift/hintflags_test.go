package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// flagRe finds a long flag named in a message.
var flagRe = regexp.MustCompile(`--[a-z][a-z-]*[a-z]`)

// missingFlags says which of the flags text names the command c lacks
// (hidden flags count: they exist).
func missingFlags(c *cobra.Command, text string) []string {
	var out []string
	for _, f := range flagRe.FindAllString(text, -1) {
		name := strings.TrimPrefix(f, "--")
		if c.Flags().Lookup(name) == nil && c.InheritedFlags().Lookup(name) == nil {
			out = append(out, f)
		}
	}
	return out
}

// goCalls parses the non-test Go files of dir (those files only, when
// given) and returns the string arguments of every call of the function
// or method name ("" for one that is not a string literal or a string
// constant of those files).
func goCalls(t *testing.T, dir, name string, files ...string) [][]string {
	t.Helper()
	fset := token.NewFileSet()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	var calls [][]string
	var asts []*ast.File
	for _, fname := range names {
		base := filepath.Base(fname)
		if strings.HasSuffix(base, "_test.go") || len(files) > 0 && !contains(files, base) {
			continue
		}
		f, err := parser.ParseFile(fset, fname, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		asts = append(asts, f)
		ast.Inspect(f, func(n ast.Node) bool {
			if vs, ok := n.(*ast.ValueSpec); ok {
				for i, id := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							consts[id.Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			}
			return true
		})
	}
	str := func(e ast.Expr) string {
		switch e := e.(type) {
		case *ast.BasicLit:
			if e.Kind == token.STRING {
				s, _ := strconv.Unquote(e.Value)
				return s
			}
		case *ast.Ident:
			return consts[e.Name]
		}
		return ""
	}
	for _, f := range asts {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			fn := ""
			switch f := call.Fun.(type) {
			case *ast.Ident:
				fn = f.Name
			case *ast.SelectorExpr:
				fn = f.Sel.Name
			}
			if fn == name {
				var args []string
				for _, a := range call.Args {
					args = append(args, str(a))
				}
				calls = append(calls, args)
			}
			return true
		})
	}
	return calls
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// TestHintsNameTheirCommandsFlags: every hint drift adopt can print names
// only flags drift adopt has, and each of restore's hints that drift adopt
// also reaches (restore.Run and Merge copy for both) names only flags of
// the command it is printed for: req.hint(forRestore, forAdopt) is checked
// against drift restore's and drift adopt's flags, and a plain withHint in
// those files against both. The loser of two concurrent adopts was told
// "hint: --force replaces it", a flag drift adopt does not have
// (fresh-user finding). model.go and dest.go are drift restore's own.
func TestHintsNameTheirCommandsFlags(t *testing.T) {
	root := newRootCmd(Streams{})
	cmds := map[string]*cobra.Command{}
	for _, c := range root.Commands() {
		cmds[c.Name()] = c
	}
	adopt, restore := cmds["adopt"], cmds["restore"]
	check := func(where string, c *cobra.Command, text string) {
		if text == "" {
			return
		}
		if bad := missingFlags(c, text); len(bad) > 0 {
			t.Errorf("%s: drift %s has no %s: %q", where, c.Name(), strings.Join(bad, ", "), text)
		}
	}
	dir := filepath.Join(repoRoot, "internal", "restore")
	shared := []string{"restore.go", "copy.go", "merge.go", "data.go", "remove.go", "resolve.go", "checksum.go", "xattr.go", "mount.go"}
	n := 0
	for _, args := range goCalls(t, dir, "hint", shared...) {
		if len(args) == 2 {
			n++
			check("restore req.hint, for restore", restore, args[0])
			check("restore req.hint, for adopt", adopt, args[1])
		}
	}
	if n < 4 {
		t.Errorf("found %d req.hint calls in internal/restore, want the 4 of Run at least", n)
	}
	for _, args := range goCalls(t, dir, "withHint", shared...) {
		for _, a := range args {
			check("restore withHint (reached by both)", restore, a)
			check("restore withHint (reached by both)", adopt, a)
		}
	}
	for _, d := range []string{filepath.Join(repoRoot, "internal", "adopt")} {
		for _, name := range []string{"HintError", "Errorf", "New"} {
			for _, args := range goCalls(t, d, name) {
				for _, a := range args {
					check("internal/adopt "+name, adopt, a)
				}
			}
		}
	}
	for _, args := range goCalls(t, ".", "withHint", "adopt.go") {
		for _, a := range args {
			check("cmd/drift/adopt.go withHint", adopt, a)
		}
	}
}
