package diff

import (
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/persist"
)

// TestUndeclaredBindFromHomeIsGoneFromView: a field report bind-mounted
// /home/alice/shared (on the /home subvolume) onto /srv/shared, declared
// by nothing: check said nothing, and at the next boot /srv/shared is gone
// from view. It is now what an undeclared mount of persistent storage is
// (unmounted), with a warning naming where the data stays. The /home
// subvolume's own mount, a bind the configuration makes again
// (Remounted), and /nix/store mounted over itself are not.
func TestUndeclaredBindFromHomeIsGoneFromView(t *testing.T) {
	mi := btrfsSystem + `30 22 0:31 /home /home rw - btrfs /dev/vda2 rw,subvol=/home
31 22 0:31 /home/alice/shared /srv/shared rw - btrfs /dev/vda2 rw,subvol=/home
32 22 0:31 /home/alice/music /srv/music rw - btrfs /dev/vda2 rw,subvol=/home
33 27 0:31 /nix/store /nix/store ro - btrfs /dev/vda2 rw,subvol=/nix
`
	a := check(t, `
f /srv/shared/s s
f /srv/music/m m
f /home/alice/shared/s s
d /nix/store
d /nix/persist
`, mi, []persist.Entry{dir("/var/lib/nixos")}, func(c *Config) { c.Remounted = []string{"/srv/music"} })
	got := map[string]Category{}
	for _, it := range a.Lost {
		got[it.Path] = it.Category
	}
	if got["/srv/shared"] != Unmounted && got["/srv/shared/s"] != Unmounted {
		t.Errorf("/srv/shared (bind of /home/alice/shared, undeclared): %v, want unmounted", got)
	}
	for p := range got {
		if strings.HasPrefix(p, "/srv/music") || strings.HasPrefix(p, "/home") || strings.HasPrefix(p, "/nix/store") {
			t.Errorf("%s counted lost (%s)", p, got[p])
		}
	}
	warned := false
	for _, w := range a.Warnings {
		if w.Path == "/srv/shared" && strings.Contains(w.Message, "bind-mounted from /home/alice/shared") && strings.Contains(w.Message, "gone from view") {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no warning naming /home/alice/shared: %v", a.Warnings)
	}
}
