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

// UnlistedHosts names the hosts whose value binds no modules list (built
// by a function elsewhere), in every way nixosConfigurations is written,
// and not those that bind one.
func TestUnlistedHosts(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{`{ outputs = { nixpkgs, mylib, ... }: { nixosConfigurations.a = nixpkgs.lib.nixosSystem { modules = [ ./a.nix ]; }; nixosConfigurations.desk = mylib.lib.mkHost "desk"; }; }`, "desk"},
		{`{ outputs = { nixpkgs, mylib, ... }: { nixosConfigurations = { a = nixpkgs.lib.nixosSystem { system = "x"; modules = [ ./a.nix ]; }; b = mylib.mkHost "b"; c = mylib.mkHost "c"; }; }; }`, "b|c"},
		{`{ outputs = { mylib, ... }: { nixosConfigurations = mylib.mkHosts [ "a" "b" ]; }; }`, "(all)"},
		{`{ outputs = { nixpkgs, ... }: { nixosConfigurations = nixpkgs.lib.genAttrs [ "a" ] (h: nixpkgs.lib.nixosSystem { modules = [ ./a.nix ]; }); }; }`, ""},
		{`{ outputs = { nixpkgs, ... }: { nixosConfigurations.a = nixpkgs.lib.nixosSystem { modules = [ ./a.nix ]; }; packages.x = 1; }; }`, ""},
	} {
		src := NewSource("flake.nix", []byte(c.text), true)
		src.Nix = true
		ast, err := Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, h := range UnlistedHosts(src, ast) {
			if h.Name == "" {
				h.Name = "(all)"
			}
			got = append(got, h.Name)
		}
		if strings.Join(got, "|") != c.want {
			t.Errorf("UnlistedHosts(%s) = %q, want %q", c.text, strings.Join(got, "|"), c.want)
		}
	}
}
