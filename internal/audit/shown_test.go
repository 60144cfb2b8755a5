package audit

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/mounts"
)

// TestShownElsewhere guards the fact drift restore and drift adopt refuse
// through: which live mounts show a path, or one below it, at another
// place. Replacing such a path by a rename leaves each mount showing the
// replaced object, deleted (field case: a fresh user's restore --force of
// the bind-mounted /etc/machine-id). The mount a path merely lies on, a
// mount whose root is deleted already, and mounts elsewhere are not.
func TestShownElsewhere(t *testing.T) {
	mi := testMountinfo + `60 22 0:31 /persist/etc/machine-id /etc/machine-id rw - btrfs /dev/vda2 rw
61 22 0:31 /persist/home/alice/.ssh /home/alice/.ssh rw - btrfs /dev/vda2 rw
62 22 0:31 /persist/etc/.old-id//deleted /etc/old-id rw - btrfs /dev/vda2 rw
`
	tab, err := mounts.Parse(strings.NewReader(mi), "mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	m := &Model{Mounts: tab}
	for p, want := range map[string]string{
		"/nix/persist/etc/machine-id":          "[/etc/machine-id (mount 60 of /nix/persist/etc/machine-id)]",
		"/nix/persist/etc":                     "[/etc/machine-id (mount 60 of /nix/persist/etc/machine-id)]",
		"/nix/persist/home/alice":              "[/home/alice/Music (mount 50 of /nix/persist/home/alice/Music) /home/alice/.ssh (mount 61 of /nix/persist/home/alice/.ssh)]",
		"/nix/persist/home/alice/Music":        "[/home/alice/Music (mount 50 of /nix/persist/home/alice/Music)]",
		"/nix/persist/var/lib/postgresql/base": "[]",
		"/nix/persist/etc/.old-id":             "[]",
		"/etc/machine-id":                      "[]",
		"/srv":                                 "[]",
	} {
		if got := fmt.Sprint(m.ShownElsewhere(p)); got != want {
			t.Errorf("%s: %s, want %s", p, got, want)
		}
	}
	if got := (&Model{}).ShownElsewhere("/nix/persist"); got != nil {
		t.Errorf("no mount table: %v", got)
	}
}
