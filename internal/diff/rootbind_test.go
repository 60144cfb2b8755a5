package diff

import (
	"slices"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/persist"
)

// TestBindFromRootIsLostOnceAtItsSource: a bind mount whose source lies
// on the root subvolume (mount --bind /srv/dockerdata /var/lib/docker)
// keeps nothing: its data is deleted with the root. It is lost once, at
// the source, the mount named there, never covered at the mount point
// (a fresh-user test: "covered … hidden from view, not deleted", and the
// data counted twice, once at each path).
func TestBindFromRootIsLostOnceAtItsSource(t *testing.T) {
	spec := "d /srv/dockerdata/db\nf /srv/dockerdata/db/data x\nd /var/lib/docker/db\nf /var/lib/docker/db/data x\nd /nix/persist/var/lib/docker/db\n"
	mi := btrfsSystem + "40 22 0:31 /root/srv/dockerdata /var/lib/docker rw - btrfs /dev/vda2 rw,subvol=/root\n"
	a := check(t, spec, mi, []persist.Entry{dir("/var/lib/docker/db")}, nil)
	wantCats(t, a, map[string]string{
		"/srv":                    "unpersisted",
		"/srv/dockerdata":         "unpersisted",
		"/srv/dockerdata/db":      "unpersisted",
		"/srv/dockerdata/db/data": "unpersisted",
	})
	for _, it := range a.Lost {
		if strings.HasPrefix(it.Path, "/srv/dockerdata") && it.Mount != 40 {
			t.Errorf("%s: Mount %d, want the bind mount 40 named", it.Path, it.Mount)
		}
	}
	if len(a.RootBinds) != 1 || a.RootBinds[0].Source != "/srv/dockerdata" || a.RootBinds[0].Mount.MountPoint != "/var/lib/docker" {
		t.Errorf("RootBinds: %+v", a.RootBinds)
	}
	if !slices.ContainsFunc(a.Warnings, func(w Warning) bool {
		return w.Path == "/var/lib/docker" && strings.Contains(w.Message, "deleted with it") && strings.Contains(w.Message, "/var/lib/docker/db")
	}) {
		t.Errorf("no warning naming the bind mount and the declaration inside it: %v", a.Warnings)
	}
}

// TestBindOfPersistentSubvolumeIsNotFromRoot: a bind mount from another
// subvolume of the same filesystem (persistent storage) is not a bind
// from the root: what it shows is kept.
func TestBindOfPersistentSubvolumeIsNotFromRoot(t *testing.T) {
	spec := "d /var/lib/docker\nf /var/lib/docker/data x\n"
	mi := btrfsSystem + "40 22 0:31 /persist/var/lib/docker /var/lib/docker rw - btrfs /dev/vda2 rw,subvol=/persist\n"
	a := check(t, spec, mi, []persist.Entry{dir("/var/lib/docker")}, nil)
	wantCats(t, a, map[string]string{})
	if len(a.RootBinds) != 0 {
		t.Errorf("RootBinds: %+v", a.RootBinds)
	}
}
