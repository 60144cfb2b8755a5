package persist

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestLoadParsesTheEntryOnce: the module nixos-rebuild evaluates (the
// flake.nix, read for its hosts' modules, or configuration.nix) is read
// and parsed once per command, whether the declarations are discovered or
// named: discovery (which keeps the modules it imports) and the reader of
// the system's configuration (for the options in use) share the parse.
// Before, each read it: readFlakeModules ran twice when the declarations
// were discovered, and configuration.nix was parsed twice either way.
// Its text is read once too: discovery's walk reads every .nix file of
// etc/nixos, and flake.nix was read again by each reader (3 reads
// discovered, 2 named).
// What the command reads is the same: the declarations, and the entry
// read whole.
func TestLoadParsesTheEntryOnce(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flake bool
		named bool
	}{
		{"flake, discovered", true, false},
		{"flake, named", true, true},
		{"configuration.nix, discovered", false, false},
		{"configuration.nix, named", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			write := func(rel, text string) { testutil.WriteFile(t, filepath.Join(root, rel), text) }
			entry := "etc/nixos/configuration.nix"
			if tc.flake {
				entry = "etc/nixos/flake.nix"
				write(entry, `{ outputs = { nixpkgs, ... }: {
  nixosConfigurations.desk = nixpkgs.lib.nixosSystem { modules = [ ./configuration.nix ]; };
}; }`)
			}
			write("etc/nixos/configuration.nix", `{ ... }: { imports = [ ./persist.nix ]; }`)
			write("etc/nixos/persist.nix", `{ environment.persistence."/nix/persist".directories = [ "/var/lib/nixos" ]; }`)
			parsed, read := map[string]int{}, map[string]int{}
			parsedHook = func(name string, flake bool) { parsed[fmt.Sprintf("%s flake=%v", name, flake)]++ }
			readHook = func(name string) { read[name]++ }
			t.Cleanup(func() { parsedHook, readHook = nil, nil })
			var files []string
			if tc.named {
				files = []string{filepath.Join(root, "etc/nixos/persist.nix")}
			}
			set, _, err := Load(context.Background(), root, files, "", nil, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(set.Entries) != 1 || set.Entries[0].Path != "/var/lib/nixos" {
				t.Errorf("declared %v, want /var/lib/nixos", set.Entries)
			}
			if whole, why := set.Whole(); !whole || set.Configuration.Entry != filepath.Join(root, entry) {
				t.Errorf("configuration %+v not read whole: %s", set.Configuration, why)
			}
			for key, n := range parsed {
				if strings.HasPrefix(key, filepath.Join(root, entry)+" ") && n != 1 {
					t.Errorf("%s parsed %d times, want once (all: %v)", key, n, parsed)
				}
			}
			if key := filepath.Join(root, entry) + fmt.Sprintf(" flake=%v", tc.flake); parsed[key] != 1 {
				t.Errorf("%s parsed %d times, want once (all: %v)", key, parsed[key], parsed)
			}
			if n := read[filepath.Join(root, entry)]; n != 1 {
				t.Errorf("%s read %d times, want once (all: %v)", entry, n, read)
			}
		})
	}
}

// TestDiscoveryParsesAnImportOnce: discovery follows the imports of the
// entry twice (keepImported's reach, then withImports for what the
// modules set), and a module two modules import is reached by each: its
// parse is shared (nixosWalk.parseImport). persist.nix, imported by
// configuration.nix and by extra.nix, was parsed 6 times by a discovered
// Load (the walk, reach, withImports twice, the configuration reader);
// now 3: the walk, discovery's imports and the configuration reader,
// which read it each on their own.
func TestDiscoveryParsesAnImportOnce(t *testing.T) {
	root := t.TempDir()
	write := func(rel, text string) { testutil.WriteFile(t, filepath.Join(root, rel), text) }
	write("etc/nixos/configuration.nix", `{ ... }: { imports = [ ./persist.nix ./extra.nix ]; }`)
	write("etc/nixos/extra.nix", `{ ... }: { imports = [ ./persist.nix ]; }`)
	write("etc/nixos/persist.nix", `{ environment.persistence."/nix/persist".directories = [ "/var/lib/nixos" ]; }`)
	parsed := map[string]int{}
	parsedHook = func(name string, _ bool) { parsed[filepath.Base(name)]++ }
	t.Cleanup(func() { parsedHook = nil })
	set, _, err := Load(context.Background(), root, nil, "", nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Entries) != 1 || set.Entries[0].Path != "/var/lib/nixos" {
		t.Errorf("declared %v, want /var/lib/nixos", set.Entries)
	}
	if n := parsed["persist.nix"]; n != 3 {
		t.Errorf("persist.nix parsed %d times, want 3 (all: %v)", n, parsed)
	}
}
