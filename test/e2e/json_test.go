package e2e

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// checkReport is the part of drift's JSON report (schema version 1) this test
// relies on.
type checkReport struct {
	Version int    `json:"version"`
	Root    string `json:"root"`
	Summary struct {
		Lost       struct{ Entries int64 } `json:"lost"`
		Categories map[string]struct {
			Entries int64 `json:"entries"`
			Bytes   int64 `json:"bytes"`
		} `json:"categories"`
		Scanned int64 `json:"scanned"`
		Errors  int   `json:"errors"`
	} `json:"summary"`
	Items []struct {
		Path       string `json:"path"`
		PathBase64 string `json:"pathBase64"`
		Category   string `json:"category"`
		Type       string `json:"type"`
		Entries    int64  `json:"entries"`
		Bytes      int64  `json:"bytes"`
	} `json:"items"`
}

// TestCheckJSONOnBtrfs runs `drift check --format json` on the same system as
// TestWipePredictsLoss (before any wipe) and checks the categories it reports
// and that the JSON summary agrees with --format paths0.
func TestCheckJSONOnBtrfs(t *testing.T) {
	if !namespace.IsChild(t) {
		if harnessOnly() {
			t.Skip(envHarnessOnly + "=1: no drift binary")
		}
		runInNamespace(t)
		return
	}
	s := newSystem(t)
	s.populate()
	paths := parsePaths0(t, s.drift(1, "check", "--root", s.root, "--persist", s.declPath(), "--format", "paths0"))
	out := s.drift(1, "check", "--root", s.root, "--persist", s.declPath(), "--format", "json")
	var r checkReport
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("drift check --format json: %v\n%s", err, tail(string(out), 2000))
	}
	if r.Version != 1 {
		t.Errorf("version = %d, want 1", r.Version)
	}
	if r.Summary.Errors != 0 {
		t.Errorf("summary.errors = %d, want 0", r.Summary.Errors)
	}
	if r.Summary.Lost.Entries != int64(len(paths)) {
		t.Errorf("summary.lost.entries = %d, but --format paths0 printed %d paths", r.Summary.Lost.Entries, len(paths))
	}
	count := func(c string) int64 { return r.Summary.Categories[c].Entries }
	var sum int64
	for c, tot := range r.Summary.Categories {
		if c != "recreated" {
			sum += tot.Entries
		}
	}
	if sum != r.Summary.Lost.Entries {
		t.Errorf("lost categories add up to %d, summary.lost.entries = %d", sum, r.Summary.Lost.Entries)
	}
	// Lower bounds from the layout (system_test.go).
	for c, atLeast := range map[string]int64{
		"unpersisted":       30,
		"declared-unbacked": 4, // /srv/declared-unmounted/{data.txt,sub,sub/more.txt}, /etc/adjtime
		"unmounted":         5, // /opt/old-state and the 4 entries below it
		"recreated":         4, // /bin/sh, /usr/bin/env, /etc/static, /etc/hostname (+ parents)
	} {
		if count(c) < atLeast {
			t.Errorf("summary.categories[%q].entries = %d, want >= %d", c, count(c), atLeast)
		}
	}
	t.Logf("summary: lost %d, categories %+v, scanned %d", r.Summary.Lost.Entries, r.Summary.Categories, r.Summary.Scanned)

	// Items: lost rows only, each path (or a grouping ancestor) in the
	// expected category.
	rowFor := func(p string) (string, bool) {
		best, cat := "", ""
		for _, it := range r.Items {
			ip := it.Path
			if it.PathBase64 != "" {
				b, err := base64.StdEncoding.DecodeString(it.PathBase64)
				if err != nil {
					t.Errorf("item %q: bad pathBase64: %v", it.Path, err)
					continue
				}
				ip = string(b)
			}
			if (ip == p || strings.HasPrefix(p, strings.TrimSuffix(ip, "/")+"/")) && len(ip) > len(best) {
				best, cat = ip, it.Category
			}
		}
		return cat, best != ""
	}
	for _, it := range r.Items {
		if it.Category == "recreated" {
			t.Errorf("item %q listed as recreated; recreated paths are counted, never listed", it.Path)
		}
	}
	for p, want := range map[string]string{
		"/imperm_test/testfile":             "unpersisted",
		"/srv/nested-subvol/inner/deep.txt": "unpersisted",
		"/root/.nix-profile-link":           "unpersisted",
		nameBadUTF8:                         "unpersisted",
		"/srv/declared-unmounted/data.txt":  "declared-unbacked",
		"/etc/adjtime":                      "declared-unbacked",
		"/opt/old-state/state.db":           "unmounted",
	} {
		got, ok := rowFor(p)
		switch {
		case !ok:
			t.Errorf("no item covers %q", p)
		case got != want:
			t.Errorf("item covering %q has category %q, want %q", p, got, want)
		}
	}
	for _, p := range []string{"/bin/sh", "/usr/bin/env", "/etc/hostname", "/var/log/x", "/etc/nixos/configuration.nix"} {
		if cat, ok := rowFor(p); ok {
			t.Errorf("item covering %q (category %q) listed, but it survives", p, cat)
		}
	}
}
