package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConditionalDeclarationsSaidOnce: declarations guarded by a condition
// drift cannot know without Nix (lib.mkIf config.x.enable) count as
// declared, and drift check says so once, by default and with -v: one
// warning naming the first three conditions' places and counting the
// others, never a line per condition or per path (it said it only with
// -v, a line per condition). A known-false condition declares nothing and
// is not in the warning.
func TestConditionalDeclarationsSaidOnce(t *testing.T) {
	dir, args := workstation(t)
	decl := `{ config, lib, ... }: {
  environment.persistence."/nix/persist" = lib.mkIf config.x.enable { directories = [ "/var/log" "/var/lib/svc-a" ]; };
  environment.persistence."/nix/p2" = lib.mkIf config.y.enable { directories = [ "/var/lib/y" ]; };
  environment.persistence."/nix/p3" = lib.mkIf config.z.enable { directories = [ "/var/lib/z" ]; };
  environment.persistence."/nix/p4".directories = lib.optionals config.w.enable [ "/var/lib/w" ];
  environment.persistence."/nix/p5" = lib.mkIf false { directories = [ "/var/lib/never" ]; };
}
`
	file := filepath.Join(dir, "cond.nix")
	if err := os.WriteFile(file, []byte(decl), 0o644); err != nil {
		t.Fatal(err)
	}
	check := replaceArg(t, forCommand("check", args), "--persist", file)
	for _, verbose := range []bool{false, true} {
		a := check
		if verbose {
			a = append(a, "-v")
		}
		_, _, stderr := runStdin(t, "", a...)
		var said []string
		for _, l := range strings.Split(stderr, "\n") {
			if strings.Contains(l, "conditional") {
				said = append(said, l)
			}
		}
		want := "drift: warning: 4 declarations are conditional on what drift cannot know without Nix (lib.mkIf or lib.optionals: " + file + ":2:44, " + file + ":3:39, " + file + ":4:39, 1 more): counted as declared"
		if len(said) != 1 || !strings.HasPrefix(said[0], want) {
			t.Errorf("-v %v: said %q, want one line starting %q; stderr:\n%s", verbose, said, want, stderr)
		}
		if verbose && !strings.Contains(stderr, "drift: 5 declared paths,") {
			t.Errorf("-v: the conditional paths are not all counted as declared (5, /var/lib/never not):\n%s", stderr)
		}
	}
}
