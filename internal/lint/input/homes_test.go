package input

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/nix-drift/drift/internal/persist"
)

// TestUsersHomeFromAnotherFile: users.users.<name>.home (and .group) set in
// one file of a configuration is the home of the users.<name> entries
// another file declares, as NixOS merges the modules into one users.users,
// for drift lint (a file, its directory) and for the commands that read
// the configuration with persist.Load alike. Before, each file was read
// with the users.users it set itself: carol's "data" declared in
// persist.nix, imported by the configuration.nix that sets her home to
// /srv/carol, was /home/carol/data (check then called /srv/carol not
// declared; lint warned about /home/carol/data).
func TestUsersHomeFromAnotherFile(t *testing.T) {
	const users = `{ users.users.carol = { isNormalUser = true; home = "/srv/carol"; group = "staff"; }; }`
	const persistNix = `{
  environment.persistence."/nix/persist".users.carol.directories = [ "data" ];
  preservation.enable = true;
  preservation.preserveAt."/state".users.carol.files = [ ".netrc" ];
  home-manager.users.carol = { home.persistence."/nix/persist/hm".directories = [ "Music" ]; };
}`
	want := []string{"/nix/persist/hm:/srv/carol/Music:", "/nix/persist:/srv/carol/data:staff", "/state:/srv/carol/.netrc:staff"}
	for name, files := range map[string]map[string]string{
		"home in the importer": {
			"configuration.nix": `{ imports = [ ./persist.nix ]; users.users.carol = { isNormalUser = true; home = "/srv/carol"; group = "staff"; }; }`,
			"persist.nix":       persistNix,
		},
		"home in a module imported after": {
			"configuration.nix": `{ imports = [ ./persist.nix ./users.nix ]; }`,
			"persist.nix":       persistNix,
			"users.nix":         users,
		},
	} {
		dir := t.TempDir()
		for f, text := range files {
			if err := os.WriteFile(filepath.Join(dir, f), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		conf := filepath.Join(dir, "configuration.nix")
		entries := func(sets []*persist.Set) []string {
			var got []string
			for _, s := range sets {
				for _, e := range s.Entries {
					got = append(got, e.StoragePath+":"+e.Path+":"+e.Group)
					if e.Raw() == e.Path {
						t.Errorf("%s: %s: Raw is the path, not as written", name, e.Path)
					}
				}
			}
			slices.Sort(got)
			return got
		}
		for _, arg := range []string{conf, dir} {
			configs, _, errs, err := Load(context.Background(), []string{arg}, Options{})
			if err != nil || len(errs) > 0 || len(configs) != 1 {
				t.Fatalf("%s: lint %s: %v %v %d configurations", name, arg, err, errs, len(configs))
			}
			if got := entries(configs[0].Sets); !slices.Equal(got, want) {
				t.Errorf("%s: lint %s: entries %q, want %q", name, arg, got, want)
			}
		}
		set, _, err := persist.Load(context.Background(), dir, []string{conf}, "", nil, persist.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := entries([]*persist.Set{set}); !slices.Equal(got, want) {
			t.Errorf("%s: persist.Load: entries %q, want %q", name, got, want)
		}
		// --home says where the home is, whatever the configuration sets.
		set, _, err = persist.Load(context.Background(), dir, []string{conf}, "", nil, persist.Options{Homes: map[string]string{"carol": "/home/c"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := entries([]*persist.Set{set}); !slices.Contains(got, "/nix/persist:/home/c/data:staff") {
			t.Errorf("%s: --home carol=/home/c: entries %q", name, got)
		}
	}
}
