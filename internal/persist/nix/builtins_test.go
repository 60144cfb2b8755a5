package nix

import "testing"

// eval evaluates the Nix expression text with `lib`, `config` and `pkgs`
// unknown (module arguments), as the reader evaluates a module.
func eval(t *testing.T, text string) *Value {
	t.Helper()
	src := NewSource("t.nix", []byte(text), true)
	src.Nix = true
	ast, err := Parse(src)
	if err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	ev := &Evaluator{Src: src}
	v := ev.Eval(ast, &Env{Vars: map[string]*Lazy{}})
	if v.Kind == KindFunc {
		v = ev.Apply(v, Known(UnknownAt(0, "the module arguments")))
	}
	return v
}

// The string and path functions are evaluated where their arguments are
// known (a field report: vault's storagePath by concatStrings, gitea's
// stateDir by concatStringsSep, lib.path.append, taken for strays).
func TestStringBuiltins(t *testing.T) {
	for _, tt := range []struct{ expr, want string }{
		{`{ lib, ... }: lib.concatStrings [ "/nix/persist" "/vault" ]`, "/nix/persist/vault"},
		{`{ lib, ... }: let base = "/nix/persist"; in builtins.concatStringsSep "/" [ base "gitea" ]`, "/nix/persist/gitea"},
		{`{ lib, ... }: lib.path.append /nix/persist "hass"`, "/nix/persist/hass"},
		{`{ lib, ... }: lib.path.append /nix/persist "a/./b/"`, "/nix/persist/a/b"},
		{`{ lib, ... }: with lib; concatMapStrings (x: "/" + x) [ "srv" "www" ]`, "/srv/www"},
		{`{ lib, ... }: lib.concatMapStringsSep ":" (x: "/p/${x}") [ "a" "b" ]`, "/p/a:/p/b"},
		{`{ lib, ... }: /nix/persist + "/vault"`, "/nix/persist/vault"},
		{`{ lib, ... }: toString /nix/persist + "/x"`, "/nix/persist/x"},
		{`{ lib, ... }: builtins.toString [ "a" 1 true null ]`, "a 1 1 "},
		{`{ lib, ... }: baseNameOf "/var/lib/x/"`, "x"},
		{`{ lib, ... }: dirOf "/var/lib/x"`, "/var/lib"},
		{`{ lib, ... }: dirOf "/var"`, "/"},
		{`{ lib, ... }: lib.removePrefix "/persist" "/persist/srv"`, "/srv"},
		{`{ lib, ... }: lib.strings.removeSuffix "/" "/srv/"`, "/srv"},
		{`{ lib, ... }: lib.toLower "/SRV"`, "/srv"},
		{`{ lib, ... }: builtins.replaceStrings [ "@" ] [ "/" ] "@nix@persist"`, "/nix/persist"},
		{`{ lib, ... }: lib.concatLines [ "a" "b" ]`, "a\nb\n"},
		{`{ lib, ... }: if true then "/a" else "/b"`, "/a"},
		{`{ lib, ... }: if lib.hasPrefix "/nix" "/srv" then "/a" else "/b"`, "/b"},
		{`{ lib, ... }: lib.optionalString false "/a" + "/b"`, "/b"},
	} {
		v := eval(t, tt.expr)
		if v.Kind != KindString || v.Str != tt.want {
			t.Errorf("%s = %s %q (%s), want %q", tt.expr, v.Kind, v.Str, v.Why, tt.want)
		}
	}
}

// A function of the file's own named like a builtin is the file's.
func TestStringBuiltinShadowed(t *testing.T) {
	v := eval(t, `{ lib, ... }: let concatStrings = l: "/mine"; in concatStrings [ "/a" ]`)
	if v.Kind != KindString || v.Str != "/mine" {
		t.Errorf("got %s %q, want the file's own function's /mine", v.Kind, v.Str)
	}
}

// What cannot be evaluated keeps its known text, each unknown part
// written ${…}: a string that may be a path below a storage path is told
// apart from one that is not.
func TestPartlyKnownStrings(t *testing.T) {
	for _, tt := range []struct{ expr, text string }{
		{`{ config, lib, ... }: lib.concatStrings [ "/nix/persist" config.x ]`, "/nix/persist${…}"},
		{`{ config, lib, ... }: lib.concatStringsSep "/" [ "/nix/persist" config.x ]`, "/nix/persist/${…}"},
		{`{ config, lib, ... }: "/nix/persist/" + config.x`, "/nix/persist/${…}"},
		{`{ config, lib, ... }: "${lib.concatStrings [ "/nix/persist/" config.x ]}/data"`, "/nix/persist/${…}/data"},
		{`{ config, lib, ... }: lib.path.append /nix/persist config.x`, "/nix/persist/${…}"},
		{`{ config, lib, ... }: lib.mkPersistPath "/nix/persist" "vault"`, "/nix/persist${…}vault${…}"},
		{`{ config, lib, ... }: baseNameOf ("/nix/persist/" + config.x)`, "/nix/persist/${…}${…}"},
	} {
		v := eval(t, tt.expr)
		if v.Kind != KindUnknown || v.Text != tt.text {
			t.Errorf("%s = %s %q text %q, want unknown with text %q", tt.expr, v.Kind, v.Str, v.Text, tt.text)
		}
	}
}

// A condition known statically decides: lib.mkIf false … defines
// nothing, lib.mkIf true … is unconditional; one that is not known keeps
// the value, marked conditional.
func TestStaticConditions(t *testing.T) {
	for _, tt := range []struct {
		expr  string
		items int
		conds bool
	}{
		{`{ lib, ... }: lib.mkIf false [ "/opt" ]`, 0, false},
		{`{ lib, ... }: lib.mkIf true [ "/opt" ]`, 1, false},
		{`{ lib, ... }: lib.optionals false [ "/opt" ]`, 0, false},
		{`{ lib, ... }: lib.optional false "/opt"`, 0, false},
		{`{ lib, ... }: lib.optional (!false || true) "/opt"`, 1, false},
		// Negations and the boolean operators on what is known fold (field
		// case: lib.mkIf (!true) was read as unknown, its paths declared).
		{`{ lib, ... }: lib.mkIf (!true) [ "/opt" ]`, 0, false},
		{`{ lib, ... }: lib.mkIf (!false) [ "/opt" ]`, 1, false},
		{`{ lib, ... }: lib.mkIf (!(!true)) [ "/opt" ]`, 1, false},
		{`{ lib, ... }: let on = true; in lib.mkIf (!on) [ "/opt" ]`, 0, false},
		{`{ lib, ... }: lib.mkIf (true && false) [ "/opt" ]`, 0, false},
		{`{ lib, ... }: lib.mkIf (true && true) [ "/opt" ]`, 1, false},
		{`{ lib, config, ... }: lib.mkIf (config.x.enable && false) [ "/opt" ]`, 0, false},
		{`{ lib, config, ... }: lib.mkIf (config.x.enable && true) [ "/opt" ]`, 1, true},
		{`{ lib, config, ... }: lib.mkIf (config.x.enable || true) [ "/opt" ]`, 1, false},
		{`{ lib, ... }: lib.mkIf (false || false) [ "/opt" ]`, 0, false},
		{`{ lib, config, ... }: lib.mkIf (!config.x.enable) [ "/opt" ]`, 1, true},
		{`{ lib, ... }: lib.mkIf ("a" == "a") [ "/opt" ]`, 1, false},
		{`{ lib, ... }: lib.mkIf ("a" == "b") [ "/opt" ]`, 0, false},
		{`{ lib, ... }: lib.mkIf ("a" != "b") [ "/opt" ]`, 1, false},
		{`{ lib, ... }: lib.mkIf (1 == 1.0) [ "/opt" ]`, 1, false},
		{`{ lib, ... }: lib.mkIf (null == false) [ "/opt" ]`, 0, false},
		{`{ lib, ... }: let host = "laptop"; in lib.mkIf (host == "desktop") [ "/opt" ]`, 0, false},
		{`{ lib, config, ... }: lib.mkIf (config.networking.hostName == "desktop") [ "/opt" ]`, 1, true},
		{`{ lib, ... }: lib.mkIf (/etc == "/etc") [ "/opt" ]`, 1, true},
		{`{ lib, ... }: let on = false; in lib.mkIf on [ "/opt" ]`, 0, false},
		{`{ lib, config, ... }: lib.mkIf config.x.enable [ "/opt" ]`, 1, true},
		{`{ lib, ... }: [ "/a" ] ++ lib.mkIf false [ "/opt" ]`, 1, false},
	} {
		v := eval(t, tt.expr)
		if v.Kind != KindList || ListLen(v) != tt.items || (len(v.Conds) > 0) != tt.conds {
			t.Errorf("%s = %s with %d items, conds %v (%s); want a list of %d, conditional %v", tt.expr, v.Kind, ListLen(v), v.Conds, v.Why, tt.items, tt.conds)
		}
	}
	if v := eval(t, `{ lib, ... }: lib.mkIf false { a = 1; }`); v.Kind != KindAttrs || len(v.Attrs.Keys) != 0 {
		t.Errorf("mkIf false on a set = %s %v, want an empty set", v.Kind, v.Attrs)
	}
}

// A legacy `let { … }` is its body attribute, in any position.
func TestLegacyLetIsItsBody(t *testing.T) {
	for _, expr := range []string{`let { x = "/a"; body = x; }`, `{ lib, ... }: let { body = "/a"; }`} {
		if v := eval(t, expr); v.Kind != KindString || v.Str != "/a" {
			t.Errorf("%s = %s %q (%s), want \"/a\"", expr, v.Kind, v.Str, v.Why)
		}
	}
}
