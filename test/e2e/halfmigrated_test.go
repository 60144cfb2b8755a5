package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/testutil"
)

// extraDeclarations are declared on top of `declarations` in
// TestHalfMigratedCoveredShadowedPredictLoss: a directory on the ephemeral
// root that is not mounted yet, half copied into /nix/persist; a home
// directory on the /home subvolume, not mounted from its copy.
const extraDeclarations = `{
  "persistentStoragePath": "/nix/persist",
  "directories": [ "/srv/half" ],
  "users": { "alice": { "home": "/home/alice", "directories": [ ".mozilla" ] } }
}`

// TestHalfMigratedCoveredShadowedPredictLoss: on a real btrfs system,
//   - a half-migrated declared directory (not mounted; some files copied
//     into /nix/persist byte for byte, one with other bytes, some not at
//     all; a directory present in the copy);
//   - a declared home directory whose live data is on the /home subvolume,
//     not mounted from its copy (the next boot mounts the copy over it);
//   - a file shadowed under a bind mount, identical in the previous root;
//
// drift check's lost set (--format paths0) equals what a real drift wipe and
// the next boot's mounts removed from view: a regular file whose bytes
// changed (the older copy came back) counts as lost, objects hidden under
// mount points count as lost. The JSON names the categories (copied
// counted, covered with its size) and compares the shadowed file with the
// previous root beneath the mount: history "same", no "not compared".
func TestHalfMigratedCoveredShadowedPredictLoss(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	extra := filepath.Join(s.dir, "extra.json")
	testutil.Must(t, os.WriteFile(extra, []byte(extraDeclarations), 0o644))
	w := func(p, content string) { t.Helper(); writeFile(t, s.M(p), content, 0o644) }

	// Half migrated: live on the ephemeral root, partly in /nix/persist.
	w("/srv/half/same.txt", "copied byte for byte\n")
	w(storage+"/srv/half/same.txt", "copied byte for byte\n")
	w("/srv/half/other.txt", "live, newer\n")
	w(storage+"/srv/half/other.txt", "stale\n")
	hourAgo := time.Now().Add(-time.Hour)
	testutil.Must(t, os.Chtimes(s.M(storage+"/srv/half/other.txt"), hourAgo, hourAgo)) // older than the live file
	w("/srv/half/missing.txt", "never copied\n")
	w("/srv/half/sub/in-copy.txt", "in the copy\n")
	w(storage+"/srv/half/sub/in-copy.txt", "in the copy\n")
	w("/srv/half/sub/not-in-copy.txt", "only live\n")
	w("/srv/half/live-dir/f", "only live\n")
	w(storage+"/srv/half/copy-only.txt", "comes with the mount\n")

	// Covered: on the /home subvolume, declared, not mounted.
	w("/home/alice/.mozilla/prefs.js", "user_pref(1);\n")
	w("/home/alice/.mozilla/cache/entry", "cached\n")
	w("/home/alice/.mozilla/same.js", "copied already\n")
	w(storage+"/home/alice/.mozilla/same.js", "copied already\n")
	w("/home/alice/.bashrc", "not declared, on /home: kept\n")

	// Shadowed under the /etc/nixos bind mount, identical in the previous
	// boot's root.
	const hidden = "/etc/nixos/hidden-under-bind.txt"
	testutil.Must(t, os.WriteFile(filepath.Join(s.top, "root", hidden), []byte("hidden\n"), 0o644))
	old := filepath.Join(s.top, "old_roots", "2026-11-30_09:00:00")
	oldRoot(t, old)
	writeFile(t, filepath.Join(old, hidden), "hidden\n", 0o644)

	check := []string{"check", "--root", s.root, "--persist", s.declPath(), "--persist", extra}
	predicted := parsePaths0(t, s.drift(1, append(check, "--format", "paths0")...))

	out := s.drift(1, append(check, "--format", "json")...)
	var r struct {
		Summary struct {
			Categories map[string]struct{ Entries, Bytes int64 }
		}
		Items []struct {
			Path, Category, History, Why string
			Entries, Bytes               int64
		}
		Warnings []string
	}
	testutil.Must(t, json.Unmarshal(out, &r))
	rows := map[string]string{}
	for _, it := range r.Items {
		rows[it.Path] = it.Category + " " + it.History
		if it.Path == "/srv/half/other.txt" && !strings.Contains(it.Why, "the older persistent copy /nix/persist/srv/half/other.txt (modified ") {
			t.Errorf("other.txt: why %q, want the older copy named, with its time", it.Why)
		}
	}
	for p, want := range map[string]string{
		"/srv/half/other.txt":              "declared-unbacked new",
		"/srv/half/missing.txt":            "declared-unbacked new",
		"/srv/half/sub/not-in-copy.txt":    "declared-unbacked new",
		"/srv/half/live-dir":               "declared-unbacked new",
		"/home/alice/.mozilla/prefs.js":    "covered ",
		"/home/alice/.mozilla/cache":       "covered ",
		"/etc/nixos/hidden-under-bind.txt": "shadowed same",
	} {
		if rows[p] != want {
			t.Errorf("row %s: %q, want %q (rows %q)", p, rows[p], want, rows)
		}
	}
	for _, p := range []string{"/srv/half/same.txt", "/srv/half/sub", "/srv/half/sub/in-copy.txt", "/home/alice/.mozilla/same.js", "/home/alice/.bashrc"} {
		if c, ok := rows[p]; ok {
			t.Errorf("row %s (%s): it survives", p, c)
		}
	}
	// same.txt, sub, sub/in-copy.txt, .mozilla/same.js.
	if c := r.Summary.Categories["copied"]; c.Entries != 4 {
		t.Errorf("copied %+v, want 4", c)
	}
	if c := r.Summary.Categories["covered"]; c.Entries != 3 || c.Bytes != int64(len("user_pref(1);\n")+len("cached\n")) {
		t.Errorf("covered %+v, want 3 entries (prefs.js, cache, cache/entry) and their bytes", c)
	}
	for _, w := range r.Warnings {
		if strings.Contains(w, "lost path") && strings.Contains(w, "not compared") {
			t.Errorf("warning: %q", w)
		}
	}
	if !strings.Contains(strings.Join(r.Warnings, "\n"), "covered: /home/alice/.mozilla is declared") {
		t.Errorf("no warning about /home/alice/.mozilla: %q", r.Warnings)
	}

	before := snapshot(t, s.root)
	rawBefore := snapshot(t, filepath.Join(s.top, "root"))

	// Shutdown, a real drift wipe, the next boot with every declaration
	// mounted (the extra ones too, their sources made when missing).
	s.unmountBelow(s.root)
	(&wipeImage{t: t, top: s.top, dev: s.dev}).drift()
	s.boot(nil)
	for _, d := range []string{"/srv/half", "/home/alice/.mozilla"} {
		testutil.Must(t, os.MkdirAll(s.M(storage+d), 0o755))
		testutil.Must(t, os.MkdirAll(s.M(d), 0o755))
		run(t, "mount", "--bind", s.M(storage+d), s.M(d))
	}

	after := snapshot(t, s.root)
	rawAfter := snapshot(t, filepath.Join(s.top, "root"))
	actual := lostPaths(before, after, nil)
	for p, why := range lostPaths(rawBefore, rawAfter, func(p string) bool { _, visible := before[p]; return !visible }) {
		actual[p] = "shadowed: " + why
	}
	for _, p := range []string{"/srv/half/other.txt", "/srv/half/missing.txt", "/home/alice/.mozilla/prefs.js", hidden} {
		if _, ok := actual[p]; !ok {
			t.Errorf("harness: %s survived, want lost", p)
		}
	}
	for _, p := range []string{"/srv/half/same.txt", "/srv/half/sub/in-copy.txt", "/home/alice/.mozilla/same.js", "/home/alice/.bashrc"} {
		if why, ok := actual[p]; ok {
			t.Errorf("harness: %s lost (%s), want kept", p, why)
		}
	}
	if b, err := os.ReadFile(s.M("/srv/half/other.txt")); err != nil || string(b) != "stale\n" {
		t.Errorf("harness: after the boot other.txt is %q, %v; want the stale copy", b, err)
	}
	samePrediction(t, predicted, actual)
}
