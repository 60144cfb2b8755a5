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
	got := moduleItemsText(t, text)
	// common, a list bound by let, is read where b's modules list names
	// it (at its own place in the source), not as a modules list itself.
	want := "path ./common.nix|path ./configuration.nix|path ./machine-extra.nix|input impermanence.nixosModules.impermanence|inline|path ./inline-import.nix|" +
		"path ./hosts/b|input inputs.hm.nixosModules.home-manager|other 4:120|other 4:141"
	if got != want {
		t.Errorf("ModuleItems:\n got %s\nwant %s", got, want)
	}
}

// TestModuleItemsResolvesAVariableAsNixDoes: a modules list named by a
// variable is read when Nix's scoping binds the variable to a list there
// (let, rec, a let inside a let, a variable bound to another), read once
// when two hosts name it; not when the name is a function's argument or
// bound by an inner let or inherit to what is not known (the list the
// outer let binds is then not the one evaluated), nor when only a with
// can bind it. A with never hides a let's name. Before, every variable
// was an item not known, so a flake written this way was not read whole.
func TestModuleItemsResolvesAVariableAsNixDoes(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{`let mods = [ ./a.nix ]; in { nixosConfigurations.h = nixosSystem { modules = mods; }; }`, "path ./a.nix"},
		{`{ outputs = { nixpkgs, ... }: let base = [ ./a.nix ]; mods = base ++ [ ./b.nix ]; in { nixosConfigurations.h = nixpkgs.lib.nixosSystem { modules = mods; }; nixosConfigurations.g = nixpkgs.lib.nixosSystem { modules = [ ./g.nix ] ++ mods; }; }; }`,
			"path ./a.nix|path ./b.nix|path ./g.nix"},
		{`rec { mods = [ ./a.nix ]; nixosConfigurations.h = nixosSystem { modules = mods; }; }`, "path ./a.nix"},
		{`let mods = [ ./a.nix ]; in with lib; { nixosConfigurations.h = nixosSystem { modules = mods; }; }`, "path ./a.nix"},
		{`let mods = [ ./a.nix ]; in { outputs = { mods, ... }: { nixosConfigurations.h = nixosSystem { modules = mods; }; }; }`, "other 1:105"},
		{`let mods = [ ./a.nix ]; in { outputs = mods: { nixosConfigurations.h = nixosSystem { modules = mods; }; }; }`, "other 1:96"},
		{`let mods = [ ./a.nix ]; in let mods = f 1; in { nixosConfigurations.h = nixosSystem { modules = mods; }; }`, "other 1:39"},
		{`let mods = [ ./a.nix ]; in let inherit (x) mods; in { nixosConfigurations.h = nixosSystem { modules = mods; }; }`, "other 1:103"},
		{`with { mods = [ ./a.nix ]; }; { nixosConfigurations.h = nixosSystem { modules = mods; }; }`, "other 1:81"},
		{`let a = b; b = a; in { nixosConfigurations.h = nixosSystem { modules = a; }; }`, "other 1:16"},
		{`{ mods = [ ./a.nix ]; nixosConfigurations.h = nixosSystem { modules = mods; }; }`, "other 1:71"},
	} {
		if got := moduleItemsText(t, c.text); got != c.want {
			t.Errorf("ModuleItems(%s) = %q, want %q", c.text, got, c.want)
		}
	}
}

// TestModuleItemsReadsAVariableOnce: lists doubled through variables
// (m0 = m1 ++ m1; m1 = m2 ++ m2; …), named by many hosts, cost their
// text: each variable's list is read once. Read at every use, 14 levels
// cost 2^14 times the list, for each host.
func TestModuleItemsReadsAVariableOnce(t *testing.T) {
	work := func(depth int) (int, int) {
		var b strings.Builder
		b.WriteString("let\n")
		for i := 0; i < depth; i++ {
			fmt.Fprintf(&b, "  m%d = m%d ++ m%d;\n", i, i+1, i+1)
		}
		fmt.Fprintf(&b, "  m%d = [ ./a.nix ];\nin {\n", depth)
		for h := 0; h < 8; h++ {
			fmt.Fprintf(&b, "  nixosConfigurations.h%d = nixosSystem { modules = m0; };\n", h)
		}
		b.WriteString("}\n")
		src, ast := parseFlake(t, b.String())
		before := src.Ticks
		items := ModuleItems(src, ast)
		return len(items), src.Ticks - before
	}
	n7, w7 := work(7)
	n14, w14 := work(14)
	if n7 != 1 || n14 != 1 {
		t.Errorf("items %d and %d, want ./a.nix once", n7, n14)
	}
	if ratio := float64(w14) / float64(w7); ratio > 3 {
		t.Errorf("depth 7: %d steps, depth 14: %d steps: ×%.1f, want at most ×3 (linear)", w7, w14, ratio)
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
		src, ast := parseFlake(t, c.text)
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

// parseFlake parses text as a flake.nix (Nix syntax), failing t when it
// cannot be parsed.
func parseFlake(t *testing.T, text string) (*Source, Node) {
	t.Helper()
	src := NewSource("flake.nix", []byte(text), true)
	src.Nix = true
	ast, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	return src, ast
}

// moduleItemsText is ModuleItems of text, each item as "path P",
// "input I", "inline" or "other LINE:COL", joined by "|".
func moduleItemsText(t *testing.T, text string) string {
	t.Helper()
	src, ast := parseFlake(t, text)
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
	return strings.Join(got, "|")
}
