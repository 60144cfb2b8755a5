package persist

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestLoad: named files (and "-" from the given reader) are merged in
// order and named as sources; with none, the declarations under root are
// discovered; an unreadable file is the error.
func TestLoad(t *testing.T) {
	root := t.TempDir()
	a := filepath.Join(root, "a.nix")
	testutil.WriteFile(t, a, `{ environment.persistence."/persist".directories = [ "/srv" ]; }`)
	testutil.WriteFile(t, filepath.Join(root, "etc/nixos/impermanence.nix"), `{ environment.persistence."/persist".directories = [ "/var/lib/nixos" ]; }`)
	stdin := strings.NewReader(`{ preservation.enable = true; preservation.preserveAt."/state".files = [ "/etc/machine-id" ]; }`)
	set, sources, err := Load(context.Background(), root, []string{a, "-"}, "", stdin, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sources, []string{a, "-"}) {
		t.Errorf("sources %q", sources)
	}
	var paths []string
	for _, e := range set.Entries {
		paths = append(paths, e.StoragePath+":"+e.Path)
	}
	if !slices.Equal(paths, []string{"/persist:/srv", "/state:/etc/machine-id"}) {
		t.Errorf("named: entries %q", paths)
	}

	set, sources, err = Load(context.Background(), root, nil, "", nil, Options{})
	if err != nil || len(set.Entries) != 1 || set.Entries[0].Path != "/var/lib/nixos" ||
		!slices.Equal(sources, []string{filepath.Join(root, "etc/nixos/impermanence.nix")}) {
		t.Errorf("discovered: %v %q %v", set, sources, err)
	}

	if _, _, err := Load(context.Background(), root, []string{a, filepath.Join(root, "missing.nix")}, "", nil, Options{}); err == nil || !strings.Contains(err.Error(), "missing.nix") {
		t.Errorf("missing file: %v", err)
	}
}

// TestLoadNamedFlakeReadsItsModules: --persist flake.nix reads the modules
// its hosts list, with their imports (what drift lint FLAKE.nix reads
// too: ReadConfigFile), not the flake as a module, which declares nothing.
func TestLoadNamedFlakeReadsItsModules(t *testing.T) {
	dir := t.TempDir()
	flake := filepath.Join(dir, "flake.nix")
	testutil.WriteFile(t, flake, `{ outputs = { nixpkgs, impermanence, ... }: {
  nixosConfigurations.desk = nixpkgs.lib.nixosSystem { modules = [ ./configuration.nix impermanence.nixosModules.impermanence ]; };
}; }`)
	testutil.WriteFile(t, filepath.Join(dir, "configuration.nix"), `{ imports = [ ./persist.nix ]; }`)
	testutil.WriteFile(t, filepath.Join(dir, "persist.nix"), `{ environment.persistence."/nix/persist".directories = [ "/var/log" ]; }`)
	set, sources, err := Load(context.Background(), t.TempDir(), []string{flake}, "", nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Entries) != 1 || set.Entries[0].Path != "/var/log" || len(sources) != 3 {
		t.Errorf("entries %v, sources %q", set.Entries, sources)
	}
	for _, d := range set.Diagnostics {
		if d.Code == "none-found" {
			t.Errorf("%v", d)
		}
	}
}
