package nix

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// dupForms are attribute definitions Nix's parser accepts (err "") or
// rejects (err: the start of the reader's error), each checked against
// `nix-instantiate --parse` by TestDuplicatesAgreeWithNix. A field report:
// environment.persistence."/p" = { … files = …; }; followed by
// environment.persistence."/p".files = …; passed drift lint while
// nixos-rebuild refused the file ("attribute … already defined").
var dupForms = []struct{ nix, err string }{
	{`{ a.b = 1; a.c = 2; }`, ""},
	{`{ a = { b = 1; }; a.c = 2; }`, ""},
	{`{ a.c = 2; a = { b = 1; }; }`, ""},
	{`{ a = { b = 1; }; a = { c = 2; }; }`, ""},
	{`{ a = { b.x = 1; }; a.b.y = 2; }`, ""},
	{`{ a = rec { b = 1; }; a.c = 2; }`, ""},
	{`{ a = ({ b = 1; }); a.c = 2; }`, ""},
	{`{ a = { b = 1; }; a = rec { c = 2; }; }`, ""},
	{`{ a = { b = {}; }; a.b.c = 1; }`, ""},
	{`{ a = {}; a = {}; }`, ""},
	{`{ a = {}; a.b.c = 1; a.b = { d = 1; }; }`, ""},
	{`{ a = 1; b.a = 1; }`, ""},
	{`{ a = 1; } // { a = 2; }`, ""},
	{`let a.b = 1; a.c = 2; in a`, ""},
	{`let a = { b = 1; }; a.c = 2; in a`, ""},
	{`let x = "a"; in { a = 1; "${x}" = 2; }`, ""},
	{`{ a = 1; "${"a"}" = 2; }`, ""},
	{`{ a = 1; ${"a" + ""} = 2; }`, ""},
	{`let x = "k"; in { a.${x} = 1; a.${x} = 2; }`, ""},
	{`{ environment.persistence."/p".directories = [ "/a" ]; environment.persistence."/p".files = [ "/etc/x" ]; }`, ""},

	{`{ environment.persistence."/p" = { directories = [ "/a" ]; files = [ "/etc/x" ]; };` + "\n" +
		`  environment.persistence."/p".files = [ "/etc/y" ]; }`,
		`t.nix:2:3: attribute 'environment.persistence."/p".files' already defined at line 1, column 60`},
	{`{ a = { b = 1; }; a = { b = 2; }; }`, `t.nix:1:25: attribute 'b' already defined at line 1, column 9`},
	{`{ a = { b.x = 1; }; a = { b.y = 2; }; }`, `t.nix:1:27: attribute 'b' already defined`},
	{`{ a.b.x = 1; a = { b.y = 2; }; }`, `t.nix:1:20: attribute 'b' already defined at line 1, column 3`},
	{`{ a = 1; a.b = 2; }`, `t.nix:1:10: attribute 'a' already defined at line 1, column 3`},
	{`{ a.b = 2; a = 1; }`, `t.nix:1:12: attribute 'a' already defined`},
	{`{ a = 1; a = 2; }`, `t.nix:1:10: attribute 'a' already defined`},
	{`{ a = 1; "a" = 2; }`, `t.nix:1:10: attribute 'a' already defined`},
	{`{ a = 1; ${"a"} = 2; }`, `t.nix:1:10: attribute 'a' already defined`},
	{`{ "a b" = 1; "a b" = 2; }`, `t.nix:1:14: attribute '"a b"' already defined`},
	{`{ a."b" = 1; a.b = 2; }`, `t.nix:1:14: attribute 'a.b' already defined`},
	{`{ a.${"b"} = 1; a.b = 2; }`, `t.nix:1:17: attribute 'a.b' already defined`},
	{`let x = 1; in { inherit x; x = 2; }`, `t.nix:1:28: attribute 'x' already defined at line 1, column 25`},
	{`let x = 1; in { x = 2; inherit x; }`, `t.nix:1:32: attribute 'x' already defined`},
	{`let x = {}; in { inherit x; x.b = 2; }`, `t.nix:1:29: attribute 'x' already defined`},
	{`let x = {}; in { inherit x; inherit x; }`, `t.nix:1:37: attribute 'x' already defined`},
	{`let x = {}; in { inherit (x) a; a = 1; }`, `t.nix:1:33: attribute 'a' already defined`},
	{`let x = {}; in let inherit (x) a; a = 1; in a`, `t.nix:1:35: attribute 'a' already defined`},
	{`{ a = let b = 1; in { c = b; }; a.d = 2; }`, `t.nix:1:33: attribute 'a' already defined`},
	{`{ a = with {}; { b = 1; }; a.c = 2; }`, `t.nix:1:28: attribute 'a' already defined`},
	{`{ a = assert true; { b = 1; }; a.c = 2; }`, `t.nix:1:32: attribute 'a' already defined`},
	{`let a = 1; a = 2; in a`, `t.nix:1:12: attribute 'a' already defined`},
	{`rec { a = 1; a = 2; }`, `t.nix:1:14: attribute 'a' already defined`},
	{`{ a = { inherit b; }; a.b = 1; b = 2; }`, `t.nix:1:23: attribute 'a.b' already defined`},
	{`{ a = { x = 1; }; a = { y = 1; }; a = { x = 2; }; }`, `t.nix:1:41: attribute 'x' already defined`},
	{`let { a = 1; a = 2; body = a; }`, `t.nix:1:14: attribute 'a' already defined`},
	{`{ a = let { body = {}; }; a.b = 1; }`, `t.nix:1:27: attribute 'a' already defined`},
	{`{ a = { b = 1; }; a.b.c = 1; }`, `t.nix:1:19: attribute 'a.b' already defined`},
	{`{ a = {}; a = 1; }`, `t.nix:1:11: attribute 'a' already defined`},
	{`{ a = { b = 1; }; a = { }; a.b = 2; }`, `t.nix:1:28: attribute 'a.b' already defined`},
	{`{ x ? { a = 1; a = 2; } }: x`, `t.nix:1:16: attribute 'a' already defined`},
	{`[ { a = 1; a = 2; } ]`, `t.nix:1:12: attribute 'a' already defined`},
	{`{ f = x: x; y = 1 + { a = 1; a = 2; }.a; }`, `t.nix:1:30: attribute 'a' already defined`},
	{`let x = "k"; in { inherit ${x}; }`, `t.nix:1:27: dynamic attributes not allowed in inherit`},
	{`let x = "k"; in { inherit "${x}"; }`, `t.nix:1:27: dynamic attributes not allowed in inherit`},
	{`{ a, a }: a`, `t.nix:1:6: duplicate formal function argument 'a'`},
	{`a@{ a }: a`, `t.nix:1:5: duplicate formal function argument 'a'`},
	{`{ x = { b ? {}, b }: 1; }`, `t.nix:1:17: duplicate formal function argument 'b'`},
}

// The static reader refuses a duplicate definition where Nix's parser
// does, at the later definition, naming the earlier one.
func TestDuplicateAttributes(t *testing.T) {
	for _, tt := range dupForms {
		src := NewSource("t.nix", []byte(tt.nix), true)
		src.Nix = true
		_, err := Parse(src)
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%s: %v, want no error (Nix accepts it)", tt.nix, err)
		case tt.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.err)):
			t.Errorf("%s: error %v, want %q", tt.nix, err, tt.err)
		}
	}
}

// TestDuplicatesAgreeWithNix asks nix-instantiate --parse about every form
// of dupForms: it must accept the ones the reader accepts and reject the
// others.
func TestDuplicatesAgreeWithNix(t *testing.T) {
	bin, err := exec.LookPath("nix-instantiate")
	if err != nil {
		if os.Getenv("DRIFT_REQUIRE_NIX") == "1" {
			t.Fatal("nix-instantiate not installed and DRIFT_REQUIRE_NIX=1 (apt-get install nix-bin)")
		}
		t.Skip("nix-instantiate not installed (apt-get install nix-bin)")
	}
	dir := t.TempDir()
	for i, tt := range dupForms {
		p := filepath.Join(dir, "t.nix")
		if err := os.WriteFile(p, []byte(tt.nix), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "--parse", p)
		cmd.Env = append(os.Environ(), "NIX_CONFIG=build-users-group =")
		out, err := cmd.CombinedOutput()
		if ok := err == nil; ok != (tt.err == "") {
			t.Errorf("form %d %s: nix-instantiate --parse ok=%v, the reader's want %q\n%s", i, tt.nix, ok, tt.err, out)
		}
	}
}
