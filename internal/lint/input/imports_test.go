package input

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/nix-drift/drift/internal/persist"
)

// TestLintFollowsModulesAsProneDoes guards the one-reader rule: drift lint
// follows the imports drift prune's whole configuration follows (an
// absolute path, `import ./x.nix` in imports and as a home-manager user's
// module, whose home.persistence is that user's), and warns, not informs,
// about one it cannot follow.
func TestLintFollowsModulesAsProneDoes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	extra := write("extra.nix", `{ environment.persistence."/persist".directories = [ "/srv" ]; }`)
	write("alice-home.nix", `{ home.persistence."/persist/home/alice".directories = [ "Music" ]; }`)
	for _, conf := range []string{
		`{ imports = [ ` + extra + ` ]; home-manager.users.alice = import ./alice-home.nix; }`,
		`{ imports = [ (import ./extra.nix) ]; home-manager.users.alice = { imports = [ ./alice-home.nix ]; }; }`,
	} {
		c := write("configuration.nix", conf)
		configs, _, errs, err := Load(context.Background(), []string{c}, Options{})
		if err != nil || len(errs) > 0 || len(configs) != 1 {
			t.Fatalf("%s: %v %v %d", conf, err, errs, len(configs))
		}
		var paths []string
		for _, s := range configs[0].Sets {
			for _, e := range s.Entries {
				paths = append(paths, e.Path)
			}
			for _, d := range s.Diagnostics {
				if d.Severity == persist.Error || d.Code == "not-static" {
					t.Errorf("%s: %v", conf, d)
				}
			}
		}
		slices.Sort(paths)
		if !slices.Equal(paths, []string{"/home/alice/Music", "/srv"}) {
			t.Errorf("%s: entries %q", conf, paths)
		}
	}
	c := write("configuration.nix", `{ pkgs, ... }: { home-manager.users.alice = pkgs.aliceHome; }`)
	configs, _, _, err := Load(context.Background(), []string{c}, Options{})
	if err != nil || len(configs) != 1 || !slices.ContainsFunc(configs[0].Sets[0].Diagnostics, func(d persist.Diagnostic) bool {
		return d.Code == "not-static" && d.Severity == persist.Warning
	}) {
		t.Errorf("a home-manager user's module not read is not a warning: %v", err)
	}
}

// TestImportNotFollowedOneWarning: an import that cannot be followed is
// one warning, in the same words whether drift lint or a command reading
// --persist meets it (persist.Set.NotFollowedImport; only the hint names
// each command's way to have it read), and in the set's NotFollowed for
// both. Before, lint said it in words of its own ("; the declarations in
// it are not read") and left NotFollowed empty.
func TestImportNotFollowedOneWarning(t *testing.T) {
	dir := t.TempDir()
	c := filepath.Join(dir, "configuration.nix")
	if err := os.WriteFile(c, []byte("{ ... }: {\n  imports = [ ./gone/module.nix ];\n  environment.persistence.\"/persist\".directories = [ \"/srv\" ];\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	notFollowed := func(s *persist.Set) (persist.Diagnostic, bool) {
		for _, d := range s.Diagnostics {
			if d.Code == "not-static" {
				return d, len(s.NotFollowed) == 1 && s.NotFollowed[0].Path == "./gone/module.nix"
			}
		}
		return persist.Diagnostic{}, false
	}
	configs, _, _, err := Load(context.Background(), []string{c}, Options{})
	if err != nil || len(configs) != 1 || len(configs[0].Sets) != 1 {
		t.Fatalf("lint: %v %d", err, len(configs))
	}
	lintD, lintOK := notFollowed(configs[0].Sets[0])
	set, _, err := persist.Load(context.Background(), dir, []string{c}, "", nil, persist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	loadD, loadOK := notFollowed(set)
	if !lintOK || !loadOK {
		t.Fatalf("not in NotFollowed with its warning: lint %v %+v, --persist %v %+v", lintOK, lintD, loadOK, loadD)
	}
	if lintD.Message != loadD.Message || lintD.Pos != loadD.Pos || lintD.Severity != loadD.Severity {
		t.Errorf("two warnings for one import not followed:\nlint:      %s %v %s\n--persist: %s %v %s", lintD.Pos, lintD.Severity, lintD.Message, loadD.Pos, loadD.Severity, loadD.Message)
	}
}
