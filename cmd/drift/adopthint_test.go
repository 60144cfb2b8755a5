package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCheckAdoptHintRuns: the drift adopt command a check row names (the
// README tour's step 1 on the demo) carries the declarations and mount
// table check was given, and runs: as printed, with --dry-run, it plans
// the copy instead of failing with "no persistence declarations". It
// failed so when the command held --root alone (fresh-user finding).
func TestCheckAdoptHintRuns(t *testing.T) {
	code, out, errs := runDrift(t, append(demoCheck(t), "--format", "json")...)
	if code != 1 {
		t.Fatalf("check: exit %d, %s", code, errs)
	}
	var r struct {
		Items []struct {
			Adopt string `json:"adopt"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	var hint string
	for _, it := range r.Items {
		if it.Adopt != "" {
			hint = it.Adopt
			break
		}
	}
	if hint == "" {
		t.Fatal("no row names drift adopt")
	}
	if !strings.Contains(hint, " --persist ") || !strings.Contains(hint, " --mountinfo ") {
		t.Errorf("hint %q lacks the flags check was given", hint)
	}
	words := strings.Fields(strings.TrimPrefix(hint, "drift ")) // the demo's paths hold no space
	code, out, errs = runDrift(t, append(words, "--dry-run")...)
	if code != 0 {
		t.Fatalf("%s --dry-run: exit %d\n%s%s", hint, code, out, errs)
	}
}

// TestAdoptArgsSayWhatIsMissing: adopt with neither a path nor --pending
// says that nothing was named (it said "…, not both"); with both, "not
// both". Either is a usage error (exit 2).
func TestAdoptArgsSayWhatIsMissing(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"adopt", "--dry-run"}, "no path to adopt"},
		{[]string{"adopt", "--dry-run", "--pending", "/srv"}, "not both"},
	} {
		code, _, errs := runDrift(t, c.args...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("drift %s: exit %d, %q; want 2 and %q", strings.Join(c.args, " "), code, errs, c.want)
		}
	}
}
