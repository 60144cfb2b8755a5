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
