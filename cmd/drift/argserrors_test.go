package main

import (
	"strings"
	"testing"
)

// TestArgErrorsNameTheCommandAndItsUsage: a wrong argument, or a wrong
// number of them, is an error naming the command (its whole path, drift
// prune empty), with its usage line and help command as the hint, exit 2;
// a first argument that names no command is "unknown command" with what
// it is close to. drift's own validators (noArgs, exactArgs) say it, not
// a regexp over cobra's text; the hint of drift prune empty said "drift
// empty --help".
func TestArgErrorsNameTheCommandAndItsUsage(t *testing.T) {
	for _, c := range []struct {
		args      []string
		err, hint string
	}{
		{[]string{"check", "extra", "more"}, `drift check takes no argument "extra"`, "usage: drift check [flags] (drift check --help)"},
		{[]string{"check", `a"b`}, `drift check takes no argument "a\"b"`, "usage: drift check [flags] (drift check --help)"},
		{[]string{"diff", "a"}, "drift diff takes 2 arguments, got 1", "usage: drift diff A B [flags] (drift diff --help)"},
		{[]string{"restore"}, "drift restore takes 1 argument, got 0", "usage: drift restore PATH --from latest|NAME|DIR [flags] (drift restore --help)"},
		{[]string{"prune", "x"}, `drift prune takes no argument "x"`, "usage: drift prune [flags] (drift prune --help)"},
		{[]string{"prune", "empty", "x"}, `drift prune empty takes no argument "x"`, "usage: drift prune empty --older-than AGE [flags] (drift prune empty --help)"},
		{[]string{"chek"}, `unknown command "chek"`, "did you mean drift check?"},
		{[]string{"nope"}, `unknown command "nope"`, "drift --help lists the commands"},
	} {
		code, _, errs := runDrift(t, c.args...)
		want := "drift: error: " + c.err + "\ndrift: hint: " + c.hint + "\n"
		if code != 2 || !strings.HasPrefix(errs, want) {
			t.Errorf("drift %q: exit %d\n%s\nwant:\n%s", c.args, code, errs, want)
		}
	}
}
