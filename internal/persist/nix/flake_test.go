package nix

import (
	"fmt"
	"strings"
	"testing"
)

// ModuleItems reads a flake's modules lists (and imports lists) of every
// host: path literals, an input's module, a module in place, and what
// cannot be read statically.
func TestModuleItems(t *testing.T) {
	text := `{
  outputs = { self, nixpkgs, impermanence, ... }@inputs: let common = [ ./common.nix ]; in {
    nixosConfigurations.a = nixpkgs.lib.nixosSystem { modules = [ ./configuration.nix ./machine-extra.nix impermanence.nixosModules.impermanence ({ ... }: { imports = [ ./inline-import.nix ]; }) ]; };
    nixosConfigurations.b = nixpkgs.lib.nixosSystem { modules = [ ./hosts/b ] ++ [ inputs.hm.nixosModules.home-manager self.nixosModules.x (import ./gen.nix { }) ] ++ common; };
  };
}`
	src := NewSource("flake.nix", []byte(text), true)
	src.Nix = true
	ast, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range ModuleItems(src, ast) {
		switch {
		case it.Path != "":
			got = append(got, "path "+it.Path)
		case it.Input != "":
			got = append(got, "input "+it.Input)
		case it.Inline:
			got = append(got, "inline")
		default:
			got = append(got, fmt.Sprintf("other %d:%d", src.Pos(it.Off).Line, src.Pos(it.Off).Col))
		}
	}
	// common, a list bound by let, is not read: not a modules list.
	want := "path ./configuration.nix|path ./machine-extra.nix|input impermanence.nixosModules.impermanence|inline|path ./inline-import.nix|" +
		"path ./hosts/b|input inputs.hm.nixosModules.home-manager|other 4:120|other 4:141|other 4:168"
	if strings.Join(got, "|") != want {
		t.Errorf("ModuleItems:\n got %s\nwant %s", strings.Join(got, "|"), want)
	}
}
