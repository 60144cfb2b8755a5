package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
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
	testutil.Must(t, os.MkdirAll(old, 0o755))
	for i, n := range []string{"2026-11-9_10:00:00", "2026-11-10_09:00:00", "2026-10-30_23:00:00", "manual-backup"} {
		oldRoot(t, filepath.Join(old, n))
		write(filepath.Join(old, n, "etc/myapp/state"), "boot "+string(rune('a'+i)))
		write(filepath.Join(old, n, "opt/regen/index"), "same")
	}
	testutil.Must(t, os.MkdirAll(filepath.Join(old, "2026-11-29_00:00:00/etc/myapp"), 0o755)) // a plain directory: not read by auto

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
		t.Errorf("/etc/myapp: %+v, want persist, differing from now in 3 of 3", x)
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

// TestSuggestKeepsWhatIsInUse: on a real btrfs system, a directory of the
// persistent storage path bind-mounted now (/nix/persist/srv/postgresql
// at /srv/postgresql on the ephemeral root, declared by nothing) and a users' password file
// named only by users.users.alice.hashedPasswordFile are listed as in use,
// with what uses them, never proposed for removal; drift check calls the
// mount unmounted until /etc/fstab (NixOS's fileSystems) makes it again at
// every boot, then not.
func TestSuggestKeepsWhatIsInUse(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	writeFile(t, s.M(storage+"/srv/postgresql/PG_VERSION"), "16\n", 0o600)
	writeFile(t, s.M(storage+"/srv/postgresql/base/1/112"), "table", 0o600)
	testutil.Must(t, os.MkdirAll(s.M("/srv/postgresql"), 0o700))
	run(t, "mount", "--bind", s.M(storage+"/srv/postgresql"), s.M("/srv/postgresql"))
	writeFile(t, s.M(storage+"/passwords/alice"), "$y$hash", 0o600)
	config := filepath.Join(s.dir, "users.nix")
	writeFile(t, config, "{ ... }: {\n  users.mutableUsers = false;\n  users.users.alice.hashedPasswordFile = \"/nix/persist/passwords/alice\";\n}\n", 0o644)

	type sugg struct {
		Action, Path string
		UsedBy       []string
	}
	suggestions := func() map[string]sugg {
		t.Helper()
		code, out, errOut := s.driftAll("suggest", "--root", s.root, "--persist", s.declPath(), "--persist", config, "--format", "json")
		var r struct{ Suggestions []sugg }
		if code != 0 || json.Unmarshal([]byte(out), &r) != nil {
			t.Fatalf("drift suggest: exit %d\n%s\n%s", code, out, errOut)
		}
		by := map[string]sugg{}
		for _, x := range r.Suggestions {
			by[x.Path] = x
			if x.Action == "declare-or-remove" && (strings.HasPrefix(x.Path, storage+"/srv/postgresql") || strings.HasPrefix(x.Path, storage+"/passwords") ||
				x.Path == storage+"/srv") {
				t.Errorf("%s proposed for removal while in use", x.Path)
			}
		}
		return by
	}
	used := func(by map[string]sugg, p, use string) {
		t.Helper()
		x := by[p]
		if x.Action != "in-use" || !slices.ContainsFunc(x.UsedBy, func(u string) bool { return strings.HasPrefix(u, use) }) {
			t.Errorf("%s: %+v, want in use: %s…", p, x, use)
		}
	}
	// drift check exits 1 while something is lost (the unmounted bind
	// mount, a hand-written /etc/fstab), 0 once nothing is.
	unmounted := func(code int) bool {
		t.Helper()
		return s.categoriesWith(code, "--persist", config)["/srv/postgresql"] == "unmounted"
	}

	by := suggestions()
	used(by, storage+"/srv/postgresql", "mounted at /srv/postgresql")
	used(by, storage+"/passwords/alice", "users.users.alice.hashedPasswordFile")
	if !unmounted(1) {
		t.Errorf("without fstab, the bind mount nothing makes again is not unmounted")
	}
	// A hand-written /etc/fstab on the root the wipe removes makes
	// nothing again: still unmounted.
	writeFile(t, s.M("/etc/fstab"), "/nix/persist/srv/postgresql /srv/postgresql none bind 0 0\n", 0o644)
	if !unmounted(1) {
		t.Errorf("a hand-written /etc/fstab on the root is taken as what the next boot mounts")
	}
	// NixOS's, generated from fileSystems: /etc/fstab -> /etc/static/fstab
	// -> the store's etc.
	storeEtc := "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-etc/etc"
	if target, err := os.Readlink(s.M("/etc/static")); err == nil {
		storeEtc = target // the system's own
	} else if err := os.Symlink(storeEtc, s.M("/etc/static")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(s.M(storeEtc), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, s.M(storeEtc+"/fstab"), "/nix/persist/srv/postgresql /srv/postgresql none bind 0 0\n", 0o444)
	if err := os.Remove(s.M("/etc/fstab")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/static/fstab", s.M("/etc/fstab")); err != nil {
		t.Fatal(err)
	}
	by = suggestions()
	used(by, storage+"/srv/postgresql", "mounted at /srv/postgresql")
	if unmounted(0) {
		t.Errorf("with /etc/fstab binding it, /srv/postgresql is still unmounted")
	}
}
