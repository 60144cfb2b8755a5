package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/pathx"
)

// TestSuggestJSONLeftNamesEveryPath: drift suggest --format json named at
// most 3 paths of a "left" reason (examples), so a script could not match
// every path the count stood for (field case). Its paths are every one of
// them, in path order (count of them, the examples among them); the text
// still names the first few.
func TestSuggestJSONLeftNamesEveryPath(t *testing.T) {
	args := []string{"suggest", "--root", "../../fixtures/demo/root", "--mountinfo", "../../fixtures/demo/mountinfo", "--persist", "../../fixtures/demo/impermanence.nix"}
	code, out, errs := runDrift(t, append(args, "--format", "json")...)
	if code != 0 {
		t.Fatalf("drift suggest: exit %d: %s", code, errs)
	}
	var rep struct {
		Left []struct {
			Reason          string
			Count           int
			Examples, Paths []string
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	more := false
	for _, l := range rep.Left {
		if len(l.Paths) != l.Count || !slices.IsSortedFunc(l.Paths, pathx.Compare) {
			t.Errorf("%.40s…: count %d, paths %q: want every one, in path order", l.Reason, l.Count, l.Paths)
		}
		for _, e := range l.Examples {
			if !slices.Contains(l.Paths, e) {
				t.Errorf("%.40s…: example %s not among the paths %q", l.Reason, e, l.Paths)
			}
		}
		if l.Count > len(l.Examples) {
			more = true
		}
	}
	if !more {
		t.Fatalf("the demo has no reason with more paths than examples: the test proves nothing: %+v", rep.Left)
	}
	_, text, _ := runDrift(t, args...)
	if !strings.Contains(text, "left to you: 4 paths (/srv/data, /srv/data/app.sqlite, /srv/www, …)") {
		t.Errorf("the text names more than the first few paths:\n%s", text)
	}
}
