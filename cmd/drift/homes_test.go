package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/testutil"
)

// TestSuggestReadsTheDeclaredHomes: a home the declarations name
// (users.alice.home = "/srv/alice") is a home for drift suggest as it is
// for drift check, without --home: a lost path in it is suggested under
// users.alice, relative to the home. Before, suggest knew only --home's
// homes and rolled it up as the system path /srv/alice.
func TestSuggestReadsTheDeclaredHomes(t *testing.T) {
	sys := newSystem(t, "decl.nix", `{ ... }: {
  environment.persistence."/nix/persist" = {
    directories = [ "/var/log" ];
    users.alice = { home = "/srv/alice"; directories = [ "Documents" ]; };
  };
}
`, `22 1 0:31 /root / rw shared:1 - btrfs /dev/vda2 rw,subvol=/root
27 22 0:31 /nix /nix rw shared:14 - btrfs /dev/vda2 rw,subvol=/nix
28 27 0:31 /persist /nix/persist rw shared:15 - btrfs /dev/vda2 rw,subvol=/persist
40 22 0:31 /persist/var/log /var/log rw - btrfs /dev/vda2 rw
41 22 0:31 /persist/srv/alice/Documents /srv/alice/Documents rw - btrfs /dev/vda2 rw
`)
	testutil.Build(t, sys.root, map[string]testutil.Node{
		"srv/alice/.config/app/settings.json":   {Content: `{"theme":"dark"}`},
		"srv/alice/Documents/a.txt":             file("a"),
		"nix/persist/srv/alice/Documents/a.txt": file("a"),
		"nix/persist/var/log/.keep":             file(""),
	}, fixtureTime)
	code, out, errs := runDrift(t, append([]string{"suggest", "--format", "json"}, sys.flags("--now", suggestNow.Format("2006-01-02T15:04:05Z"))...)...)
	if code > 1 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got struct {
		Suggestions []struct {
			Path, User, Action string
		} `json:"suggestions"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	found := false
	for _, s := range got.Suggestions {
		if s.Path == "/srv/alice" || s.Path == "/srv" {
			t.Errorf("suggested %s, a home or the directory holding it, as a system path: %+v", s.Path, got.Suggestions)
		}
		if s.Path == "/srv/alice/.config/app" {
			found = true
			if s.User != "alice" {
				t.Errorf("/srv/alice/.config/app suggested for user %q, want alice (users.alice.home)", s.User)
			}
		}
	}
	if !found {
		t.Errorf("no suggestion of /srv/alice/.config/app:\n%s", out)
	}
}

// TestCheckAndSuggestReadOneHome: a home the model knows only from --home
// (alice=/srv/alice; a system path declared in it) or from the declarations (users.bob.home =
// "/srv/bob") is a home for drift check's WHY as it is for drift suggest:
// a lost cache in it (~/.cache, an ignore fact of the knowledge base) is
// called a cache by both. Before, check matched the knowledge base with
// only /root and /home/NAME as homes: its WHY said "not declared" while
// suggest said --ignore.
func TestCheckAndSuggestReadOneHome(t *testing.T) {
	sys := newSystem(t, "decl.nix", `{ ... }: {
  environment.persistence."/nix/persist" = {
    directories = [ "/var/log" "/srv/alice/keep" ];
    users.bob = { home = "/srv/bob"; directories = [ "Documents" ]; };
  };
}
`, `22 1 0:31 /root / rw shared:1 - btrfs /dev/vda2 rw,subvol=/root
27 22 0:31 /nix /nix rw shared:14 - btrfs /dev/vda2 rw,subvol=/nix
28 27 0:31 /persist /nix/persist rw shared:15 - btrfs /dev/vda2 rw,subvol=/persist
40 22 0:31 /persist/var/log /var/log rw - btrfs /dev/vda2 rw
41 22 0:31 /persist/srv/bob/Documents /srv/bob/Documents rw - btrfs /dev/vda2 rw
42 22 0:31 /persist/srv/alice/keep /srv/alice/keep rw - btrfs /dev/vda2 rw
`)
	testutil.Build(t, sys.root, map[string]testutil.Node{
		"srv/alice/.cache/app/blob":           file("cached"),
		"srv/bob/.cache/app/blob":             file("cached"),
		"srv/bob/Documents/a.txt":             file("a"),
		"srv/alice/keep/a.txt":                file("a"),
		"nix/persist/srv/alice/keep/a.txt":    file("a"),
		"nix/persist/srv/bob/Documents/a.txt": file("a"),
		"nix/persist/var/log/.keep":           file(""),
	}, fixtureTime)
	flags := sys.flags("--home", "alice=/srv/alice")
	code, out, errs := runDrift(t, append([]string{"check", "--format", "json"}, flags...)...)
	if code > 1 {
		t.Fatalf("check: exit %d: %s", code, errs)
	}
	var check struct {
		Items []struct{ Path, Why string } `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &check); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	code, out, errs = runDrift(t, append([]string{"suggest", "--format", "json"}, append(flags, "--now", suggestNow.Format("2006-01-02T15:04:05Z"))...)...)
	if code > 1 {
		t.Fatalf("suggest: exit %d: %s", code, errs)
	}
	var suggest struct {
		Suggestions []struct{ Path, Action string } `json:"suggestions"`
	}
	if err := json.Unmarshal([]byte(out), &suggest); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	for _, p := range []string{"/srv/alice/.cache", "/srv/bob/.cache"} {
		ignored := slices.ContainsFunc(suggest.Suggestions, func(s struct{ Path, Action string }) bool {
			return s.Path == p && s.Action == "ignore"
		})
		if !ignored {
			t.Errorf("suggest does not ignore %s (the home's cache): %+v", p, suggest.Suggestions)
		}
		n := 0
		for _, it := range check.Items {
			if !pathx.HasPrefix(it.Path, p) {
				continue
			}
			n++
			want := "(drift suggest: --ignore " + p + ")"
			if it.Path == p {
				want = "(drift suggest: --ignore it)"
			}
			if !strings.Contains(it.Why, "the user's caches") || !strings.Contains(it.Why, want) {
				t.Errorf("check's WHY of %s does not say what suggest does (%s): %s", it.Path, want, it.Why)
			}
		}
		if n == 0 {
			t.Errorf("check lists nothing at or below %s", p)
		}
	}
}
