package persist

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestDiscover(t *testing.T) {
	root := t.TempDir()
	write := func(rel, text string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("etc/nixos/configuration.nix", `{ ... }: { imports = [ ./impermanence.nix ]; }`)
	write("etc/nixos/impermanence.nix", `{ environment.persistence."/persist".directories = [ "/var/lib/nixos" ]; }`)
	write("etc/nixos/hosts/a/default.nix", `{ preservation.enable = true; preservation.preserveAt."/persist".files = [ "/etc/machine-id" ]; }`)
	write("etc/nixos/.git/x.nix", `{ environment.persistence."/persist".directories = [ "/hidden" ]; }`)
	write("etc/nixos/a/b/c/d/e/deep.nix", `{ environment.persistence."/persist".directories = [ "/too-deep" ]; }`)
	if err := os.Symlink(filepath.Join(root, "etc/nixos/hosts"), filepath.Join(root, "etc/nixos/link")); err != nil {
		t.Fatal(err)
	}
	set, files, err := Discover(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(root, "etc/nixos/hosts/a/default.nix"), filepath.Join(root, "etc/nixos/impermanence.nix")}
	if !slices.Equal(files, want) {
		t.Errorf("files %q, want %q", files, want)
	}
	var paths []string
	for _, e := range set.Entries {
		paths = append(paths, e.Path)
	}
	slices.Sort(paths)
	if !slices.Equal(paths, []string{"/etc/machine-id", "/var/lib/nixos"}) {
		t.Errorf("paths %q", paths)
	}
	// No etc/nixos: an empty set, not an error.
	set, files, err = Discover(t.TempDir(), Options{})
	if err != nil || len(set.Entries) != 0 || len(files) != 0 {
		t.Errorf("empty root: %v %v %v", set, files, err)
	}
}
