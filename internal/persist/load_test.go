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
