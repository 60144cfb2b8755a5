package main

import (
	"encoding/json"
	"testing"

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
