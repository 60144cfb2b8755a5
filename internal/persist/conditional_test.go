package persist

import (
	"fmt"
	"strings"
	"testing"
)

// TestKnownFalseConditionDeclaresNothing: lib.mkIf false and lib.mkIf
// (false) around a declaration of each kind (impermanence's
// environment.persistence, preservation.preserveAt, a home-manager user's
// home.persistence) declare nothing and say nothing; a condition the
// reader cannot know (config.x.enable) declares every path it guards,
// with one "conditional" diagnostic at the condition, not one per path.
func TestKnownFalseConditionDeclaresNothing(t *testing.T) {
	const module = `{ config, lib, ... }: {
  environment.persistence."/nix/persist" = lib.mkIf %[1]s { directories = [ "/var/lib/a" "/var/lib/b" ]; };
  preservation.preserveAt."/nix/persist" = lib.mkIf %[1]s { directories = [ "/var/lib/c" ]; files = [ "/etc/d" ]; };
  home-manager.users.alice = { home.persistence."/nix/persist" = lib.mkIf %[1]s { directories = [ "docs" ]; }; };
}
`
	for _, cond := range []string{"false", "(false)", "(!true)", "(true && !true)", `("a" == "b")`} {
		s, err := Read("m.nix", strings.NewReader(fmt.Sprintf(module, cond)), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Entries) != 0 || len(s.Diagnostics) != 0 {
			t.Errorf("lib.mkIf %s: entries %q, diagnostics %q; want none", cond, briefs(s), diags(s))
		}
	}
	s, err := Read("m.nix", strings.NewReader(fmt.Sprintf(module, "config.x.enable")), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, e := range s.Entries {
		paths = append(paths, e.Path)
	}
	wantLines(t, "lib.mkIf config.x.enable: paths", paths, []string{"/var/lib/a", "/var/lib/b", "/home/alice/docs", "/var/lib/c", "/etc/d"})
	var conds []string
	for _, d := range s.Diagnostics {
		if d.Code == "conditional" {
			conds = append(conds, d.Pos.String())
		}
	}
	wantLines(t, "lib.mkIf config.x.enable: conditional diagnostics", conds, []string{"m.nix:2:44", "m.nix:4:66", "m.nix:3:44"})
}
