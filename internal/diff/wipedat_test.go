package diff

import (
	"testing"

	"github.com/nix-drift/drift/internal/mounts"
)

// TestWipedAtIsTheDeepestWipedMount: a path lies on the deepest wiped
// filesystem whose mount point holds it, by whole components; none when
// no wiped mount holds it.
func TestWipedAtIsTheDeepestWipedMount(t *testing.T) {
	a := &Audit{Ephemeral: []mounts.Mount{{ID: 1, MountPoint: "/home"}, {ID: 2, MountPoint: "/"}, {ID: 3, MountPoint: "/home/alice/tmp"}}}
	for p, want := range map[string]int{"/home/alice/tmp/x": 3, "/home/alice": 1, "/home": 1, "/homework": 2, "/etc/x": 2} {
		if m := a.WipedAt(p); m == nil || m.ID != want {
			t.Errorf("WipedAt(%s) = %+v, want mount %d", p, m, want)
		}
	}
	a.Ephemeral = a.Ephemeral[:1]
	if m := a.WipedAt("/srv"); m != nil {
		t.Errorf("WipedAt(/srv) = %+v with only /home wiped, want nil", m)
	}
}
