package suggest

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestChooseModuleFile: the module is to be saved as persist-suggested.nix
// beside the first .nix file --persist names, else in a local --flake's
// directory, else in the root's etc/nixos; a name that holds something
// (a file of an earlier round, a symlink even dangling) is passed over for
// the next, persist-suggested-2.nix, -3, …, and named as taken; an empty
// file (a shell's > redirection made it) is free, as it holds nothing to
// lose.
func TestChooseModuleFile(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "cfg")
	if err := os.MkdirAll(cfg, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(cfg, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	persistArgs := []string{"--persist", filepath.Join(dir, "decls.json"), "--persist", filepath.Join(cfg, "impermanence.nix")}
	check := func(what string, args []string, wantPath string, wantTaken ...string) {
		t.Helper()
		got := ChooseModuleFile(filepath.Join(dir, "root"), args)
		if got.Path != wantPath || !slices.Equal(got.Taken, wantTaken) || got.Err != nil {
			t.Errorf("%s: %+v, want %s with %q taken", what, got, wantPath, wantTaken)
		}
	}
	check("no file yet", persistArgs, filepath.Join(cfg, "persist-suggested.nix"))
	check("a local flake", []string{"--flake", "path:" + cfg + "?dir=x#host"}, filepath.Join(cfg, "persist-suggested.nix"))
	check("none named", nil, filepath.Join(dir, "root/etc/nixos/persist-suggested.nix"))
	write("persist-suggested.nix", "")
	check("an empty file", persistArgs, filepath.Join(cfg, "persist-suggested.nix"))
	write("persist-suggested.nix", "{ }\n")
	check("round 1 saved", persistArgs, filepath.Join(cfg, "persist-suggested-2.nix"), filepath.Join(cfg, "persist-suggested.nix"))
	if err := os.Symlink("nowhere", filepath.Join(cfg, "persist-suggested-2.nix")); err != nil {
		t.Fatal(err)
	}
	check("a dangling symlink as round 2", persistArgs, filepath.Join(cfg, "persist-suggested-3.nix"),
		filepath.Join(cfg, "persist-suggested.nix"), filepath.Join(cfg, "persist-suggested-2.nix"))
	check("round 1 named with --persist", []string{"--persist", filepath.Join(cfg, "persist-suggested.nix")}, filepath.Join(cfg, "persist-suggested-3.nix"),
		filepath.Join(cfg, "persist-suggested.nix"), filepath.Join(cfg, "persist-suggested-2.nix"))
}
