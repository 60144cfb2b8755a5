package e2e

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/nix-drift/drift/internal/suggest"
)

// TestSuggestAccountsOnRealMounts: on the reference system on real btrfs
// (a path of every category drift check knows, what lies beneath real
// mounts among them), drift suggest accounts for every path drift check
// reports lost:
// the entries of its persist and ignore suggestions and the counts of what
// it leaves to the user add up to check's lost set. What lies on the root
// subvolume beneath the /home subvolume, in no declaration, is left to the
// user with how to reach it (suggest.LeftBeneath): suggest said nothing of
// it.
func TestSuggestAccountsOnRealMounts(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	s.populate()
	lost := parsePaths0(t, s.drift(1, "check", "--root", s.root, "--persist", s.declPath(), "--format", "paths0"))
	var rep struct {
		Suggestions []struct {
			Action  string `json:"action"`
			Path    string `json:"path"`
			Entries int    `json:"entries"`
		} `json:"suggestions"`
		Left []struct {
			Reason   string   `json:"reason"`
			Count    int      `json:"count"`
			Examples []string `json:"examples"`
		} `json:"left"`
	}
	out := s.drift(0, "suggest", "--root", s.root, "--persist", s.declPath(), "--format", "json")
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	n := 0
	for _, x := range rep.Suggestions {
		if x.Action == "persist" || x.Action == "ignore" {
			n += x.Entries
		}
	}
	for _, l := range rep.Left {
		n += l.Count
	}
	if n != len(lost) {
		t.Errorf("suggest accounts for %d paths, drift check reports %d lost:\n%s", n, len(lost), out)
	}
	i := slices.IndexFunc(rep.Left, func(l struct {
		Reason   string   `json:"reason"`
		Count    int      `json:"count"`
		Examples []string `json:"examples"`
	}) bool {
		return l.Reason == suggest.LeftBeneath
	})
	if !lost["/home/shadowed-home.txt"] || i < 0 || !slices.Contains(rep.Left[i].Examples, "/home/shadowed-home.txt") {
		t.Errorf("/home/shadowed-home.txt (lost %v) is not left to the user as %q:\n%s", lost["/home/shadowed-home.txt"], suggest.LeftBeneath, out)
	}
}
