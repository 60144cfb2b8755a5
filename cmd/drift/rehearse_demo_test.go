package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestRehearseDemoReasonsAreAboutTheirPaths: on the demo (docs/rehearse.md's
// example), each path left to the user carries drift suggest's reason for
// that path. /opt, a directory never suggested whole, holds /opt/old-app,
// a mount from persistent storage no longer declared (its own row, step
// redeclare): the next line said "left to you: /opt (… mounted from
// persistent storage, no longer declared …)", /opt/old-app's reason.
func TestRehearseDemoReasonsAreAboutTheirPaths(t *testing.T) {
	demo := filepath.Join(repoRoot, "fixtures/demo")
	code, out, stderr := runDrift(t, "rehearse", "--reports", demo+"/reports", "--root", demo+"/root", "--mountinfo", demo+"/mountinfo", "--persist", demo+"/impermanence.nix", "--format", "json")
	if code != 1 {
		t.Fatalf("drift rehearse on the demo: exit %d, want 1 (not ready)\n%s", code, stderr)
	}
	var doc struct {
		Rehearsal struct {
			Paths []struct{ Path, Step string } `json:"paths"`
			Left  []struct{ Path, Why string }  `json:"left"`
			Next  string                        `json:"next"`
		} `json:"rehearsal"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	r := doc.Rehearsal
	why := map[string]string{}
	for _, l := range r.Left {
		why[l.Path] = l.Why
	}
	if w, ok := why["/opt"]; !ok || strings.Contains(w, "no longer declared") || !strings.Contains(w, "never suggested whole") {
		t.Errorf("left /opt: %q (listed %v); want drift suggest's reason for /opt (never suggested whole), not /opt/old-app's", w, ok)
	}
	found := false
	for _, p := range r.Paths {
		if p.Path == "/opt/old-app" {
			found = true
			if p.Step != "redeclare" {
				t.Errorf("/opt/old-app: step %q, want redeclare", p.Step)
			}
		}
	}
	if !found {
		t.Errorf("/opt/old-app has no row of its own; want one, step redeclare")
	}
	if strings.Contains(r.Next, "left to you: /opt (drift suggest leaves it to you: mounted from persistent storage") {
		t.Errorf("next: %q gives /opt the reason of /opt/old-app", r.Next)
	}
}
