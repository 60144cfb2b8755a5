package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/persist"
)

// TestDeclFlagsResolve: the checks drift check and drift restore share,
// with their messages, and good flags.
func TestDeclFlagsResolve(t *testing.T) {
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
		{declFlags{Root: dir, Persist: []string{"-", decl, "-"}}, "--persist -: standard input can be read only once: give it to one input, name a file for the others"},
		{declFlags{Root: filepath.Join(dir, "missing")}, "--root: stat " + filepath.Join(dir, "missing") + ": no such file or directory"},
		{declFlags{Root: file}, "--root " + file + ": not a directory"},
		{declFlags{Root: dir, Homes: []string{"alice"}}, `--home "alice": expected NAME=/absolute/path`},
		{declFlags{Root: dir, Homes: []string{"alice=rel"}}, `--home "alice=rel": expected NAME=/absolute/path`},
	} {
		if _, _, err := tc.flags.resolve(); err == nil || err.Error() != tc.want {
			t.Errorf("%+v: %v, want %q", tc.flags, err, tc.want)
		}
	}
	f := declFlags{Root: dir + "/.", Persist: []string{decl}, Homes: []string{"alice=/srv/alice"}}
	root, homes, err := f.resolve()
	if err != nil {
		t.Fatal(err)
	}
	if root != dir || len(homes) != 1 || homes["alice"] != "/srv/alice" {
		t.Errorf("resolve: root %q, homes %v", root, homes)
	}
}

// TestRestoreSays: drift restore shows the declarations' warnings with
// their hints and the model's warnings, never a note (it has no
// --verbose); nothing with --quiet.
func TestRestoreSays(t *testing.T) {
	said := []audit.Said{
		{Diagnostic: &persist.Diagnostic{Severity: persist.Warning, Message: "cannot read x", Hint: "use --flake"}},
		{Diagnostic: &persist.Diagnostic{Severity: persist.Info, Message: "read y"}},
		{Note: true, Warning: diff.Warning{Message: "declarations from z"}},
		{Warning: diff.Warning{Kind: diff.WarnUnreadable, Message: "/etc/fstab: permission denied"}},
	}
	for _, tc := range []struct {
		quiet bool
		want  string
	}{
		{false, "drift: warning: cannot read x\ndrift: hint: use --flake\ndrift: warning: /etc/fstab: permission denied\n"},
		{true, ""},
	} {
		var b bytes.Buffer
		say := (&RestoreOptions{Quiet: tc.quiet}).say(Streams{Err: &b})
		for _, s := range said {
			say(s)
		}
		if b.String() != tc.want {
			t.Errorf("quiet %v: %q, want %q", tc.quiet, b.String(), tc.want)
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
