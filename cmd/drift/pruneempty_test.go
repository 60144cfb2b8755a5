package main

import (
	"strings"
	"testing"
)

// TestPruneEmptyOlderThanZero: a fresh user's drift prune empty
// --older-than 0d, to empty every quarantine batch, was refused ("expected
// an age such as 30d"): 0d is every batch, even one made this second. A
// negative age is still refused.
func TestPruneEmptyOlderThanZero(t *testing.T) {
	root := testerMachine(t)
	args := []string{"--root", root}
	if code, out, errs := runDrift(t, "prune", "--root", root, "--ephemeral", "/"); code != 0 {
		t.Fatalf("drift prune: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs := runDrift(t, append([]string{"prune", "empty", "--older-than", "0d", "--dry-run", "--format", "json"}, args...)...)
	if code != 0 || !strings.Contains(out, "var/lib/oldapp") {
		t.Errorf("prune empty --older-than 0d: exit %d, want the batch just made listed\n%s\n%s", code, out, errs)
	}
	for _, age := range []string{"30d", "1h"} {
		code, out, _ = runDrift(t, append([]string{"prune", "empty", "--older-than", age, "--dry-run", "--format", "json"}, args...)...)
		if code != 0 || strings.Contains(out, "var/lib/oldapp") {
			t.Errorf("prune empty --older-than %s: exit %d, the batch just made listed:\n%s", age, code, out)
		}
	}
	if code, _, errs = runDrift(t, append([]string{"prune", "empty", "--older-than", "-1d"}, args...)...); code != 2 || !strings.Contains(errs, "expected an age") {
		t.Errorf("--older-than -1d: exit %d, %s; want refused", code, errs)
	}
}
