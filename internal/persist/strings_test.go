package persist

import (
	"slices"
	"testing"
)

// TestStringsHoldEveryPathOfAnyLiteral: every absolute path inside a
// string literal of a module is in Config.Strings, wherever the literal
// is (a "name:path" credential, a tmpfiles rule, an `or` default, the
// literal part of an interpolation, a let binding never used, a function
// body, a string attribute name), cut at field separators too; the
// persistence declarations' own strings are not (they are declarations).
// What drift prune must never take for a stray (issue 12, fresh-user
// tester).
func TestStringsHoldEveryPathOfAnyLiteral(t *testing.T) {
	src := `{ config, lib, ... }:
let unused = "/p/unused/thing"; f = x: "${x}/p/in-function"; in {
  systemd.services.app.serviceConfig.LoadCredential = [ "token:/p/secrets/token" ];
  systemd.tmpfiles.rules = [ "L+ /var/lib/linked - - - - /p/var/lib/linked" ];
  services.restic.backups.home.passwordFile = config.sops.secrets.restic.path or "/p/secrets/restic";
  environment.etc."app.conf".text = ''
    dirs = ${config.x}:/p/a:/p/b,/p/c
  '';
  environment.variables.X = "PATH=/p/bin:''${PATH}";
  fileSystems."/p/mounted".device = "none";
  environment.persistence."/p".directories = [ "/var/lib/declared" ];
  home-manager.users.alice = { home.persistence."/p/home/alice".directories = [ "declared-too" ]; xdg.configFile.x.source = "/p/hm/x"; };
}
`
	s, err := ParseNix([]byte(src), "m.nix", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range s.Config.Strings {
		got = append(got, r.Path)
	}
	for _, want := range []string{"/p/unused/thing", "/p/in-function", "/p/secrets/token", "/var/lib/linked", "/p/var/lib/linked",
		"/p/secrets/restic", "/p/a", "/p/b", "/p/c", "/p/bin", "/p/mounted", "/p/hm/x"} {
		if !slices.Contains(got, want) {
			t.Errorf("%s not among the strings' paths %q", want, got)
		}
	}
	for _, not := range []string{"/var/lib/declared", "/p", "/p/home/alice"} {
		if slices.Contains(got, not) {
			t.Errorf("%s, a declaration's, among the strings' paths %q", not, got)
		}
	}
}

// TestPathsInCutsAtSeparators: pathsIn finds each path where it starts
// (never inside a name: "a/b" holds none) and cuts it at each field
// separator as well as at white space.
func TestPathsInCutsAtSeparators(t *testing.T) {
	for text, want := range map[string][]string{
		"token:/p/s/t":       {"/p/s/t"},
		"/p/a:b":             {"/p/a", "/p/a:b"},
		"a/b c/d":            nil,
		"x=/p/q/ /p/r//s":    {"/p/q", "/p/r/s"},
		"https://host/p/x":   {"/host/p/x"},
		"(/p/y)":             {"/p/y", "/p/y)"},
		"/":                  nil,
		"L+ /a - - - - /p/b": {"/a", "/p/b"},
	} {
		if got := pathsIn(text); !slices.Equal(got, want) {
			t.Errorf("pathsIn(%q) = %q, want %q", text, got, want)
		}
	}
}
