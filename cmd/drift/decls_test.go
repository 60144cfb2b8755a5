package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/persist"
)

// TestDeclFlagsLoad: the checks drift check and drift restore share, with
// their messages, and a good load.
func TestDeclFlagsLoad(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	decl := filepath.Join(dir, "decl.json")
	for p, s := range map[string]string{file: "", decl: `{"persistentStoragePath": "/nix/persist", "directories": ["/var/lib/x"], "users": {"alice": {"directories": ["src"]}}}`} {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		flags declFlags
		want  string
	}{
		{declFlags{Root: dir, Persist: []string{"-", decl, "-"}}, "--persist -: standard input can be read only once"},
		{declFlags{Root: filepath.Join(dir, "missing")}, "--root: stat " + filepath.Join(dir, "missing") + ": no such file or directory"},
		{declFlags{Root: file}, "--root " + file + ": not a directory"},
		{declFlags{Root: dir, Homes: []string{"alice"}}, `--home "alice": expected NAME=/absolute/path`},
		{declFlags{Root: dir, Homes: []string{"alice=rel"}}, `--home "alice=rel": expected NAME=/absolute/path`},
	} {
		if _, err := tc.flags.load(context.Background(), Streams{}); err == nil || err.Error() != tc.want {
			t.Errorf("%+v: %v, want %q", tc.flags, err, tc.want)
		}
	}
	f := declFlags{Root: dir + "/.", Persist: []string{decl}, Homes: []string{"alice=/srv/alice"}}
	l, err := f.load(context.Background(), Streams{})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, e := range l.Set.Entries {
		paths = append(paths, e.Path)
	}
	if l.Root != dir || strings.Join(l.Sources, ",") != decl || !strings.Contains(strings.Join(paths, ","), "/srv/alice/src") {
		t.Errorf("load: root %q, sources %q, paths %q", l.Root, l.Sources, paths)
	}
}

// TestPrintDiagnostics: warnings with their hints; notes only when verbose;
// nothing when quiet.
func TestPrintDiagnostics(t *testing.T) {
	l := &loadedDecls{Set: &persist.Set{Diagnostics: []persist.Diagnostic{
		{Severity: persist.Warning, Message: "cannot read x", Hint: "use --flake"},
		{Severity: persist.Info, Message: "read y"},
	}}}
	for _, tc := range []struct {
		verbose, quiet bool
		want           string
	}{
		{false, false, "drift: warning: cannot read x\ndrift: hint: use --flake\n"},
		{true, false, "drift: warning: cannot read x\ndrift: hint: use --flake\ndrift: " + l.Set.Diagnostics[1].String() + "\n"},
		{true, true, ""},
	} {
		var b bytes.Buffer
		l.printDiagnostics(Streams{Err: &b}, tc.verbose, tc.quiet)
		if b.String() != tc.want {
			t.Errorf("verbose %v quiet %v: %q, want %q", tc.verbose, tc.quiet, b.String(), tc.want)
		}
	}
}

// TestHomeValidatedOnceForEveryCommand: --home alice=/ (or a directory
// holding the system's state) is refused the same way by every command
// that takes --home, before anything is read: check, suggest, adopt,
// restore, prune and lint.
func TestHomeValidatedOnceForEveryCommand(t *testing.T) {
	dir := t.TempDir()
	for _, home := range []string{"alice=/", "alice=/var/lib/", "alice=/etc"} {
		for _, args := range [][]string{
			{"check"}, {"suggest"}, {"adopt", "--dry-run", "/.mozilla"}, {"restore", "--dry-run", "/.mozilla"}, {"prune", "--dry-run"}, {"lint", dir},
		} {
			if args[0] != "lint" {
				args = append(args, "--root", dir)
			}
			code, _, errs := runDrift(t, append(args, "--home", home)...)
			if code == 0 || !strings.Contains(errs, "--home "+home+": a home cannot be /") {
				t.Errorf("drift %s --home %s: exit %d, %s", args[0], home, code, errs)
			}
		}
	}
}
