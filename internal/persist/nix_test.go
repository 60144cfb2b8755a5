package persist

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func TestSeedImpermanenceNix(t *testing.T) {
	s, err := ReadFile("testdata/seed-impermanence.nix", Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, "entries", briefs(s), []string{
		"dir /etc @/nix/persist root:root:0755 impermanence",
		"dir /var/spool @/nix/persist root:root:0755 impermanence",
		"dir /srv @/nix/persist root:root:0755 impermanence",
		"dir /root @/nix/persist root:root:0755 impermanence",
	})
	var pos []string
	for _, e := range s.Entries {
		pos = append(pos, e.Pos.String())
	}
	wantLines(t, "positions", pos, []string{
		"testdata/seed-impermanence.nix:28:1",
		"testdata/seed-impermanence.nix:29:1",
		"testdata/seed-impermanence.nix:30:1",
		"testdata/seed-impermanence.nix:31:1",
	})
	if len(s.Diagnostics) != 0 {
		t.Errorf("diagnostics: %q", diags(s))
	}
}

// The host files read statically must give what the module produced.
func TestSampleHostsStaticEqualsEval(t *testing.T) {
	for _, tt := range []struct{ nix, json string }{
		{"impermanence.host.nix", "impermanence-current.json"},
		{"impermanence.host.nix", "impermanence-classic.json"},
		{"preservation.host.nix", "preservation.json"},
	} {
		t.Run(tt.nix+"="+tt.json, func(t *testing.T) {
			static, err := ReadFile(samplePath(t, tt.nix), Options{})
			if err != nil {
				t.Fatal(err)
			}
			eval, err := ReadFile(samplePath(t, tt.json), Options{})
			if err != nil {
				t.Fatal(err)
			}
			wantLines(t, "static vs eval", briefs(static), briefs(eval))
			if len(static.Diagnostics) != 0 {
				t.Errorf("diagnostics: %q", diags(static))
			}
		})
	}
}

func TestNixDeclarations(t *testing.T) {
	tests := []struct {
		name, nix string
		opts      Options
		want      []string
		diag      [][]string // each: substrings of one diagnostic
		pos       []string   // entry positions, when given
	}{{
		name: "nested environment = { persistence = …; } spelling",
		nix: `{ config, lib, pkgs, ... }:
{
  environment = {
    persistence = {
      "/nix/persist" = {
        directories = [ "/var/lib/nixos" ];
      };
    };
  };
}`,
		want: []string{"dir /var/lib/nixos @/nix/persist root:root:0755 impermanence"},
		pos:  []string{"decl.nix:6:25"},
	}, {
		name: "attribute paths merge, persistentStoragePath wins over the name, users, attrset entries with mode",
		nix: `{
  environment.persistence.main.persistentStoragePath = "/persist";
  environment.persistence.main.directories = [ { directory = "/var/lib/colord"; user = "colord"; group = "colord"; mode = "u=rwx,g=rx,o="; } ];
  environment.persistence.main.users.alice = {
    directories = [ { directory = ".gnupg"; mode = "0700"; } "Documents" ];
    files = [ { file = ".config/app/token"; parentDirectory = { mode = "0700"; }; } ];
  };
  users.users.alice = { isNormalUser = true; home = "/home/alice-h"; group = "staff"; };
}`,
		want: []string{
			"dir /var/lib/colord @/persist colord:colord:u=rwx,g=rx,o= impermanence",
			"dir /home/alice-h/.gnupg @/persist alice:staff:0700 owner=alice impermanence",
			"dir /home/alice-h/Documents @/persist alice:staff:0755 owner=alice impermanence",
			"file /home/alice-h/.config/app/token @/persist alice:staff:0700 owner=alice impermanence",
		},
		pos: []string{"decl.nix:3:62", "decl.nix:5:35", "decl.nix:5:62", "decl.nix:6:24"},
	}, {
		name: "let-bound lists, ++ of literals, rec, inherit, a local function",
		nix: `let
  common = [ "/var/log" ];
  home = "/home/bob";
  mk = d: { directory = d; mode = "0700"; };
in { lib, ... }: rec {
  dirs = common ++ [ "/var/lib/bluetooth" ];
  environment.persistence."/p" = {
    directories = dirs ++ [ (mk "/var/lib/secret") ];
    files = [ "${home}/.profile-not-a-user-entry" ];
  };
}`,
		want: []string{
			"dir /var/log @/p root:root:0755 impermanence",
			"dir /var/lib/bluetooth @/p root:root:0755 impermanence",
			"dir /var/lib/secret @/p root:root:0700 impermanence",
			"file /home/bob/.profile-not-a-user-entry @/p root:root:0755 impermanence",
		},
	}, {
		name: "mkIf, mkMerge, mkForce, mkAfter, optionals unwrap; conditional ones say so",
		nix: `{ config, lib, ... }:
with lib;
{
  config = mkIf config.impermanence.enable (mkMerge [
    { environment.persistence."/p".directories = mkForce [ "/a" ]; }
    { environment.persistence."/p".directories = lib.mkAfter ([ "/b" ] ++ lib.optionals config.x [ "/c" ]); }
  ]);
}`,
		want: []string{
			"dir /a @/p root:root:0755 impermanence",
			"dir /b @/p root:root:0755 impermanence",
			"dir /c @/p root:root:0755 impermanence",
		},
		diag: [][]string{{"decl.nix:4:12: info: config is conditional"}, {"decl.nix:6:75: info:", "is conditional"}},
	}, {
		name: "unreadable variable and map: warnings with positions and the flake hint, readable entries kept",
		nix: `{ config, lib, pkgs, ... }:
let
  extra = import ./extra.nix;
in {
  environment.persistence."/nix/persist" = {
    directories = [ "/var/log" ] ++ extra;
    files = map (f: "/etc/${f}") [ "a" "b" ];
    users.alice.directories = config.my.dirs;
  };
}`,
		want: []string{"dir /var/log @/nix/persist root:root:0755 impermanence"},
		diag: [][]string{
			{"decl.nix:3:11: warning: environment.persistence.\"/nix/persist\".directories: cannot read an `import` of another file statically; the entries it adds are missing", "hint: evaluate the real configuration with --flake REF#HOST"},
			{"decl.nix:7:13: warning: environment.persistence.\"/nix/persist\".files: cannot read the result of calling `map` statically", "--flake"},
			{"decl.nix:8:31: warning: environment.persistence.\"/nix/persist\".users.alice.directories: cannot read `config.my.dirs` statically"},
		},
	}, {
		name: "a variable entry and an interpolated path string",
		nix: `{ config, ... }: {
  environment.persistence."/p".directories = [ someDir "/ok" "${config.users.users.a.home}/x" ];
}`,
		want: []string{"dir /ok @/p root:root:0755 impermanence"},
		diag: [][]string{
			{"decl.nix:2:48: warning:", "cannot read the variable `someDir` statically"},
			{"decl.nix:2:62: warning:", "cannot read the interpolated string \"${…}/x\" (it uses `config.users.users.a.home`) statically"},
		},
	}, {
		name: "storage path from a variable",
		nix:  `{ persistDir, ... }: { environment.persistence.${persistDir}.directories = [ "/a" ]; }`,
		diag: [][]string{{"decl.nix:1:48: warning: environment.persistence: cannot read a dynamic attribute name (it uses the function argument `persistDir`) statically"}},
	}, {
		name: "disabled persistence path and disabled preservation",
		nix: `{ environment.persistence."/p" = { enable = false; directories = [ "/a" ]; };
  preservation.enable = false; preservation.preserveAt."/q".directories = [ "/b" ]; }`,
		diag: [][]string{{`"/p".enable = false`}, {"preservation.enable = false"}},
	}, {
		name: "home-manager module, current form (storage root without the home)",
		nix: `{ ... }: {
  home.username = "carol";
  home.homeDirectory = "/home/carol";
  home.persistence."/persistent" = { directories = [ "Music" ]; files = [ { file = ".zsh_history"; method = "symlink"; } ]; };
}`,
		want: []string{
			"dir /home/carol/Music @/persistent carol::0755 owner=carol home-manager",
			"file /home/carol/.zsh_history @/persistent carol::0755 method=symlink owner=carol home-manager",
		},
	}, {
		name: "no declarations",
		nix:  `{ lib, ... }: { boot.loader.grub.enable = lib.mkDefault true; imports = [ ./hw.nix ]; }`,
		diag: [][]string{{"decl.nix:1:1: warning: no persistence declarations found"}},
	}, {
		name: "syntax the reader must not choke on",
		nix: `args@{ lib, pkgs ? import <nixpkgs> {}, ... }:
let
  inherit (lib) mkIf optionalString;
  x = 1 + 2 * 3 - -4;
  y = !true || false && (1 < 2) -> 3 >= 2;
  s = ''
    echo ''${HOME} '''quoted''' ''\n
    ${toString x}
  '';
  u = https://example.org/a?b=c;
  p = ./relative/path;
  h = ~/.config;
  a = { inherit x; b.c = 1; } // { "d" = y; } ? b;
  f = { a, b ? 2, ... }@all: a;
  g = x: y: x;
  cond = if x == 7 then "seven" else "other";
  sel = a.b or null;
  /* block
     comment */
in assert true; {
  environment.persistence."/nix/persist" = lib.mkIf (cond != "other") {
    directories = lib.mkBefore [ "/srv" ];
  };
}`,
		want: []string{"dir /srv @/nix/persist root:root:0755 impermanence"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustNix(t, tt.nix, tt.opts)
			wantLines(t, "entries", briefs(s), tt.want)
			for _, d := range tt.diag {
				if !hasDiag(s, d...) {
					t.Errorf("no diagnostic with %q in:\n  %s", d, strings.Join(diags(s), "\n  "))
				}
			}
			if tt.pos != nil {
				var got []string
				for _, e := range s.Entries {
					got = append(got, e.Pos.String())
				}
				wantLines(t, "positions", got, tt.pos)
			}
		})
	}
}

func TestNixErrors(t *testing.T) {
	tests := []struct{ name, nix, want string }{
		{"unterminated string", "{\n  a = \"abc;\n}\n", `decl.nix:2:7: unterminated string: '"' without closing '"'`},
		{"unterminated indented string", "{\n  a = ''\n   abc;\n}\n", `decl.nix:2:7: unterminated indented string: "''" without closing "''"`},
		{"missing ';' at end of line", "{\n  a = 1\n  b = 2;\n}\n", `decl.nix:3:5: expected ';' after attribute value, found '=' (is a ';' missing before line 3?)`},
		{"missing ';' before '}'", "{\n  a = 1\n}\n", `decl.nix:3:1: expected ';' after attribute value, found '}'`},
		{"unbalanced braces: missing '}'", "{ a = { b = 1; };\n", `decl.nix:1:1: unterminated attribute set: '{' without '}'`},
		{"unbalanced braces: extra '}'", "{ a = 1; } }", `decl.nix:1:12: expected end of file after the expression, found '}'`},
		{"unterminated list", "{ a = [ 1 2 ; }", `decl.nix:1:13: expected a list element or ']', found ';'`},
		{"unterminated comment", "{ /* a = 1; }", `decl.nix:1:3: unterminated comment: '/*' without '*/'`},
		{"missing '='", "{ a 1; }", `decl.nix:1:5: expected '=' after the attribute name, found "1"`},
		{"bad character", "{ a = 1 ^ 2; }", `decl.nix:1:9: unexpected character '^'`},
		{"unterminated interpolation", `{ a = "${b"; }`, `decl.nix:1:11: unterminated string: '"' without closing '"'`},
		{"deep nesting", strings.Repeat("[", 100000), "decl.nix:1:999: expression nested deeper than 1000 levels"},
		{"deep parens", strings.Repeat("(", 100000), "decl.nix:1:"},
		{"deep attrs", strings.Repeat("{a=", 100000), "decl.nix:1:"},
		{"empty", "", "decl.nix:1:1: expected an expression, found end of file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseNix([]byte(tt.nix), "decl.nix", Options{})
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestReadFormatDetection(t *testing.T) {
	nix := []byte(`{ environment.persistence."/p".directories = [ "/a" ]; }`)
	js := []byte(`{"/p": {"directories": ["/a"]}}`)
	for _, tt := range []struct {
		name string
		data []byte
	}{{"-", nix}, {"-", js}, {"x.nix", nix}, {"x.json", js}, {"decl", nix}, {"decl", js}} {
		s, err := Read(tt.name, strings.NewReader(string(tt.data)), Options{})
		if err != nil {
			t.Errorf("Read(%s, %s): %v", tt.name, tt.data, err)
			continue
		}
		wantLines(t, "entries", briefs(s), []string{"dir /a @/p root:root:0755 impermanence"})
	}
	if _, err := ReadFile("testdata/does-not-exist.nix", Options{}); !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
	s, err := Read("-", strings.NewReader(`{ "/p" = { directories = [ "/a" ]; }; }`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Stdin positions name <stdin>.
	if len(s.Diagnostics) == 0 || s.Diagnostics[0].Pos.File != "<stdin>" {
		t.Errorf("diagnostics %q", diags(s))
	}
}

// Inputs that would take exponential time or memory are cut off with a
// diagnostic.
func TestNixBlowupBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("let\n")
	for i := range 60 {
		fmt.Fprintf(&b, "  a%d = a%d ++ a%d;\n", i, i+1, i+1)
	}
	b.WriteString("  a60 = [ \"/x\" ];\n  f = x: f x ++ f x;\nin { environment.persistence.\"/p\".directories = a0; environment.persistence.\"/q\".files = f 1; }")
	done := make(chan *Set)
	go func() {
		s, err := ParseNix([]byte(b.String()), "decl.nix", Options{})
		if err != nil {
			t.Error(err)
		}
		done <- s
	}()
	select {
	case s := <-done:
		if s == nil || !hasDiag(s, "environment.persistence.\"/p\".directories: cannot read a list with too many items") {
			t.Errorf("diagnostics: %q", diags(s))
		}
	case <-time.After(20 * time.Second):
		t.Fatal("ParseNix did not finish")
	}
}

// An invalid byte is named as the byte, never as U+FFFD.
func TestNixInvalidByteNamed(t *testing.T) {
	_, err := ParseNix([]byte("{ a = \xff; }"), "f.nix", Options{})
	if err == nil || err.Error() != `f.nix:1:7: unexpected character '\xff'` {
		t.Errorf("err = %v, want f.nix:1:7: unexpected character '\\xff'", err)
	}
}
