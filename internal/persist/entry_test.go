package persist

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
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
// modules set), a module two modules import is reached by each, and the
// reader of the system's configuration follows them again: the parse is
// the command's (Parses). persist.nix, imported by configuration.nix and
// by extra.nix, was parsed 6 times by a discovered Load (the walk,
// reach, withImports twice, the configuration reader), 3 at 189cc97
// (the walk, discovery's imports, the configuration reader); now once.
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
	for _, f := range []string{"configuration.nix", "extra.nix", "persist.nix"} {
		if n := parsed[f]; n != 1 {
			t.Errorf("%s parsed %d times, want once (all: %v)", f, n, parsed)
		}
	}
}

// TestLoadReadsAndParsesEachModuleOnce: every module of a flake's
// configuration (the flake lists configuration.nix and hosts/desk.nix;
// configuration.nix imports hardware-configuration.nix, persist.nix and
// users.nix, hosts/desk.nix imports ../common.nix) is read and parsed
// once per command, whether the declarations are discovered or persist.nix
// is named with --persist: the walk of etc/nixos, discovery's imports
// (keepImported's reach, withImports), the imports of a named file and
// the reader of the system's configuration share one Parses. Before, a
// discovered Load read each imported module 3 or 4 times (strace: 23 reads
// of the 7 files by drift check) and parsed most 3 times; the file named
// with --persist was read and parsed again by the walk. A second Load
// sharing the Parses (Options.Parses, with the same Homes) reads and
// parses nothing again, and reads the same; one with other Homes reads
// on its own.
func TestLoadReadsAndParsesEachModuleOnce(t *testing.T) {
	for _, named := range []bool{false, true} {
		t.Run(fmt.Sprintf("named=%v", named), func(t *testing.T) {
			root := t.TempDir()
			write := func(rel, text string) { testutil.WriteFile(t, filepath.Join(root, "etc/nixos", rel), text) }
			write("flake.nix", `{ outputs = { nixpkgs, ... }: {
  nixosConfigurations.desk = nixpkgs.lib.nixosSystem { modules = [ ./configuration.nix ./hosts/desk.nix ]; };
}; }`)
			write("configuration.nix", `{ ... }: { imports = [ ./hardware-configuration.nix ./persist.nix ./users.nix ]; }`)
			write("hardware-configuration.nix", `{ ... }: { fileSystems."/".fsType = "tmpfs"; }`)
			write("persist.nix", `{ environment.persistence."/nix/persist".directories = [ "/var/lib/nixos" ]; environment.persistence."/nix/persist".users.alice.directories = [ "notes" ]; }`)
			write("users.nix", `{ ... }: { users.users.alice = { isNormalUser = true; home = "/srv/alice"; }; }`)
			write("hosts/desk.nix", `{ ... }: { imports = [ ../common.nix ]; }`)
			write("common.nix", `{ ... }: { services.openssh.enable = true; }`)
			parsed, read := map[string]int{}, map[string]int{}
			parsedHook = func(name string, _ bool) { parsed[filepath.Base(name)]++ }
			readHook = func(name string) { read[filepath.Base(name)]++ }
			t.Cleanup(func() { parsedHook, readHook = nil, nil })
			var files []string
			if named {
				files = []string{filepath.Join(root, "etc/nixos/persist.nix")}
			}
			p := NewParses()
			set, _, err := Load(context.Background(), root, files, "", nil, Options{Parses: p})
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"/srv/alice/notes", "/var/lib/nixos"}
			if got := entryPaths(set); !slices.Equal(got, want) {
				t.Errorf("declared %v, want %v", got, want)
			}
			if whole, why := set.Whole(); !whole {
				t.Errorf("configuration not read whole: %s", why)
			}
			for _, f := range []string{"flake.nix", "configuration.nix", "hardware-configuration.nix", "persist.nix", "users.nix", "desk.nix", "common.nix"} {
				if read[f] != 1 || parsed[f] != 1 {
					t.Errorf("%s read %d times, parsed %d; want once each (read %v, parsed %v)", f, read[f], parsed[f], read, parsed)
				}
			}
			clear(read)
			clear(parsed)
			again, _, err := Load(context.Background(), root, files, "", nil, Options{Parses: p})
			if err != nil {
				t.Fatal(err)
			}
			if got := entryPaths(again); !slices.Equal(got, want) || again.Configuration.Entry != set.Configuration.Entry {
				t.Errorf("again: declared %v (entry %s), want %v (entry %s)", got, again.Configuration.Entry, want, set.Configuration.Entry)
			}
			if len(read) > 0 || len(parsed) > 0 {
				t.Errorf("again: read %v, parsed %v; want nothing", read, parsed)
			}
			other, _, err := Load(context.Background(), root, files, "", nil, Options{Parses: p, Homes: map[string]string{"alice": "/home/alice"}})
			if err != nil {
				t.Fatal(err)
			}
			// --home wins over users.users.alice.home.
			if got := entryPaths(other); !slices.Equal(got, []string{"/home/alice/notes", "/var/lib/nixos"}) || parsed["users.nix"] != 1 {
				t.Errorf("other homes: declared %v, users.nix parsed %d times; want /home/alice/notes, it parsed on its own", got, parsed["users.nix"])
			}
		})
	}
}

// entryPaths are the paths set declares, sorted.
func entryPaths(set *Set) []string {
	var out []string
	for _, e := range set.Entries {
		out = append(out, e.Path)
	}
	slices.Sort(out)
	return out
}
