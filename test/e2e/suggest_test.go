package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSuggestOldRootsAuto: drift suggest on a real btrfs system reads the
// last --boots old roots through the private top-level mount of
// --old-roots auto (newest first by real time: 2026-11-10 after 2026-11-9;
// a plain directory, a name that is not an old root's and the live root
// never counted) and weighs each unpersisted path by them: state that
// changed at every boot, state regenerated identical at every boot (an
// ignore rule).
func TestSuggestOldRootsAuto(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	write := func(p, content string) {
		t.Helper()
		writeFile(t, p, content, 0o644)
	}
	write(s.M("/etc/myapp/state"), "now")
	write(s.M("/opt/regen/index"), "same")
	old := filepath.Join(s.top, "old_roots")
	must(t, os.MkdirAll(old, 0o755))
	for i, n := range []string{"2026-11-9_10:00:00", "2026-11-10_09:00:00", "2026-10-30_23:00:00", "manual-backup"} {
		run(t, "btrfs", "subvolume", "create", filepath.Join(old, n))
		write(filepath.Join(old, n, "etc/myapp/state"), "boot "+string(rune('a'+i)))
		write(filepath.Join(old, n, "opt/regen/index"), "same")
	}
	must(t, os.MkdirAll(filepath.Join(old, "2026-11-29_00:00:00/etc/myapp"), 0o755)) // a plain directory: not read by auto

	type sugg struct {
		Action, Path         string
		Boots, Seen, Changed int
	}
	suggestions := func(extra ...string) ([]string, map[string]sugg, string) {
		t.Helper()
		code, out, errOut := s.driftAll(append([]string{"suggest", "--root", s.root, "--persist", s.declPath(), "--format", "json", "--verbose"}, extra...)...)
		var r struct {
			OldRoots    []string `json:"oldRoots"`
			Suggestions []sugg   `json:"suggestions"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &r) != nil {
			t.Fatalf("drift suggest %q: exit %d\n%s\n%s", extra, code, out, errOut)
		}
		by := map[string]sugg{}
		for _, x := range r.Suggestions {
			by[x.Path] = x
		}
		return r.OldRoots, by, errOut
	}
	roots, by, errOut := suggestions()
	if got := strings.Join(roots, " "); got != "2026-11-10_09:00:00 2026-11-9_10:00:00 2026-10-30_23:00:00" {
		t.Errorf("old roots compared: %q\n%s", got, errOut)
	}
	if !strings.Contains(errOut, "comparing with 3 old roots in "+s.dev+":/old_roots, newest first") {
		t.Errorf("--verbose does not name the old roots:\n%s", errOut)
	}
	if x := by["/etc/myapp"]; x.Action != "persist" || x.Boots != 3 || x.Seen != 3 || x.Changed != 3 {
		t.Errorf("/etc/myapp: %+v, want persist, changed in 3 of 3", x)
	}
	if x := by["/opt/regen"]; x.Action != "ignore" || x.Boots != 3 || x.Seen != 3 || x.Changed != 0 {
		t.Errorf("/opt/regen: %+v, want ignore, identical in 3 of 3", x)
	}
	roots, by, _ = suggestions("--boots", "2")
	if got := strings.Join(roots, " "); got != "2026-11-10_09:00:00 2026-11-9_10:00:00" {
		t.Errorf("--boots 2: old roots compared: %q", got)
	}
	if x := by["/etc/myapp"]; x.Boots != 2 || x.Changed != 2 {
		t.Errorf("--boots 2: /etc/myapp %+v", x)
	}
	if roots, by, _ = suggestions("--old-roots", "none"); len(roots) != 0 || by["/opt/regen"].Action != "persist" {
		t.Errorf("--old-roots none: roots %q, /opt/regen %+v (no history: nothing says it is regenerated)", roots, by["/opt/regen"])
	}
}
