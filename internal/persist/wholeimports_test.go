package persist

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestEveryImportIsFollowedOrTheConfigurationIsNotWhole guards drift
// prune's "whole configuration" rule against modules drift cannot read: an
// absolute import (resolved inside the root), `import ./x.nix` used as a
// module (in imports, as a home-manager user's module, and in its
// imports) are followed, and any import not followed makes the
// configuration not whole, named, with a Warning (field case: a second
// fresh user's prune quarantined a password file named in a module not
// read).
func TestEveryImportIsFollowedOrTheConfigurationIsNotWhole(t *testing.T) {
	const extra = `{ users.users.root.hashedPasswordFile = "/persist/abs/root.hash"; }`
	const home = `{ home.persistence."/persist/home/alice".directories = [ "Music" ]; }`
	for _, c := range []struct {
		name, conf string
		whole      bool
		ref, entry string // a path the configuration must name, an entry it must declare
		missing    string // what the refusal must name
		// beyond: whole when the configuration is named (--persist
		// follows imports beyond its directory, inside the root;
		// discovery only beneath /etc/nixos, as its walk decides what
		// declares)
		beyond bool
	}{
		{"absolute import", `{ imports = [ /etc/nixos/extra.nix ]; }`, true, "/persist/abs/root.hash", "", "", false},
		{"import expression", `{ imports = [ (import ./extra.nix) ]; }`, true, "/persist/abs/root.hash", "", "", false},
		{"home-manager user import", `{ home-manager.users.alice = import ./alice-home.nix; }`, true, "", "/home/alice/Music", "", false},
		{"home-manager user imports", `{ home-manager.users.alice = { imports = [ ./alice-home.nix ]; }; }`, true, "", "/home/alice/Music", "", false},
		{"absolute import outside the directory", `{ imports = [ /srv/extra.nix ]; }`, false, "", "", "/srv/extra.nix", true},
		{"relative import outside the directory", `{ imports = [ ../../srv/extra.nix ]; }`, false, "", "", "../../srv/extra.nix", true},
		{"relative import outside the root", `{ imports = [ ../../../extra.nix ]; }`, false, "", "", "../../../extra.nix", false},
		{"absolute import of a missing file", `{ imports = [ /etc/nixos/nothere.nix ]; }`, false, "", "", "/etc/nixos/nothere.nix", false},
		{"computed import", `{ pkgs, ... }: { imports = [ pkgs.extraModule ]; }`, false, "", "", "configuration.nix:1", false},
		{"computed home-manager user", `{ pkgs, ... }: { home-manager.users.alice = pkgs.aliceHome; }`, false, "", "", "configuration.nix:1", false},
		// A fresh user's prune moved /nix/persist/var/lib/cc, declared by a
		// list built with map that drift warned it could not read.
		{"declarations built with map", `{ imports = [ ./persist.nix ]; }`, false, "", "", "persist.nix:1:76: environment.persistence.\"/nix/persist\".directories: cannot read the result of calling `map` statically", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			conf := filepath.Join(root, "etc/nixos/configuration.nix")
			testutil.WriteFile(t, conf, c.conf)
			testutil.WriteFile(t, filepath.Join(root, "etc/nixos/extra.nix"), extra)
			testutil.WriteFile(t, filepath.Join(root, "etc/nixos/alice-home.nix"), home)
			testutil.WriteFile(t, filepath.Join(root, "srv/extra.nix"), extra)
			testutil.WriteFile(t, filepath.Join(root, "../extra.nix"), extra) // outside the system's root
			if strings.Contains(c.conf, "persist.nix") {
				testutil.WriteFile(t, filepath.Join(root, "etc/nixos/persist.nix"), `{ environment.persistence."/nix/persist".directories = [ "/var/lib/a" ] ++ map (x: "/var/lib/${x}") [ "cc" ]; }`)
			}
			for _, named := range [][]string{nil, {conf}} {
				set, _, err := Load(context.Background(), root, named, "", nil, Options{})
				if err != nil {
					t.Fatal(err)
				}
				whole, why := set.Whole()
				if want := c.whole || (c.beyond && named != nil); whole != want || (!want && !strings.Contains(why, c.missing)) {
					t.Errorf("named %q: Whole() = %v, %q; want %v naming %q", named, whole, why, want, c.missing)
				}
				if !whole && !slices.ContainsFunc(set.Diagnostics, func(d Diagnostic) bool { return d.Severity == Warning && d.Code == "not-static" }) {
					t.Errorf("named %q: no warning about what was not followed: %v", named, set.Diagnostics)
				}
				if c.ref != "" && (set.Config == nil || !slices.ContainsFunc(set.Config.References(), func(r Ref) bool { return r.Path == c.ref })) {
					t.Errorf("named %q: %s is not named: %+v", named, c.ref, set.Config)
				}
				if c.entry != "" && named != nil && !slices.ContainsFunc(set.Entries, func(e Entry) bool { return e.Path == c.entry }) {
					t.Errorf("named %q: %s is not declared: %v %v", named, c.entry, set.Entries, set.Diagnostics)
				}
			}
		})
	}
	// Naming the module an absolute import leads to counts as following it.
	root := t.TempDir()
	conf := filepath.Join(root, "etc/nixos/configuration.nix")
	testutil.WriteFile(t, conf, `{ imports = [ /srv/extra.nix ]; }`)
	testutil.WriteFile(t, filepath.Join(root, "srv/extra.nix"), extra)
	set, _, err := Load(context.Background(), root, []string{conf, filepath.Join(root, "srv/extra.nix")}, "", nil, Options{})
	if whole, why := set.Whole(); err != nil || !whole {
		t.Errorf("absolute import named too: Whole() = %v, %q (%v)", whole, why, err)
	}
}
