package diff

import (
	"testing"

	"github.com/nix-drift/drift/internal/persist"
)

// unmountedRoot is a root subvolume mounted alone (drift check --root
// /mnt from a rescue system): nothing is mounted on it.
const unmountedRoot = "22 1 0:31 /root / rw - btrfs /dev/vda2 rw,subvol=/root\n"

// TestAPIMountPointsOnAnUnmountedRootAreNotLost: on a root that is not
// booted, the empty /proc, /sys, /dev, /run (and an empty /boot) are mount
// points the next boot mounts at, not data (a fresh-user test: they were
// unpersisted, exit 1). What lies inside one is hidden by that mount and
// deleted with the root: lost, covered; a /boot holding files (on the
// root filesystem) is lost as before.
func TestAPIMountPointsOnAnUnmountedRootAreNotLost(t *testing.T) {
	spec := "d /proc\nd /sys\nd /dev\nd /run\nf /run/stale x\nd /boot\nd /efi\nf /efi/x y\n"
	a := check(t, spec, unmountedRoot, []persist.Entry{dir("/var/lib/svc")}, nil)
	wantCats(t, a, map[string]string{
		"/run/stale": "covered",
		"/efi":       "unpersisted",
		"/efi/x":     "unpersisted",
	})
}
