package diff

import (
	"github.com/nix-drift/drift/internal/pathx"
)

// apiMountPoints are where systemd mounts its API filesystems at every
// boot, before anything else (proc, sysfs, devtmpfs, the /run tmpfs:
// systemd's mount-setup.c). On a root that is not booted (drift check
// --root /mnt) they are empty directories: made again by the mount, not
// data. They are mount points the next boot mounts again, as
// Config.Remounted ones are: the directory recreated, what lies in it
// hidden then and deleted with the root.
var apiMountPoints = []string{"/proc", "/sys", "/dev", "/run"}

// bootMountPoints are the mount points of the boot partition (the EFI
// system partition: /boot, /efi as bootctl(1) looks for it). An empty
// directory there is a mount point the next boot mounts at (or makes for
// it), not data: recreated, whether or not the configuration's
// fileSystems were read. One holding anything is left as classified (a
// /boot on the root filesystem).
var bootMountPoints = []string{"/boot", "/efi"}

// emptyBootDirs are the directories the boot makes again that are
// Recreated when empty, as bootMountPoints are: /tmp (bootDirs says why).
var emptyBootDirs = append([]string{"/tmp"}, bootMountPoints...)

// fixEmptyBootPoints takes out of c.lost (in path order) the empty
// directories at emptyBootDirs, counting them Recreated.
func (c *classifier) fixEmptyBootPoints() {
	kept := c.lost[:0]
	for i, it := range c.lost {
		// The path first: the next item is read only for /boot and /efi.
		if !isBootPoint(it.Path) {
			kept = append(kept, it)
			continue
		}
		empty := it.IsDir() && it.Below() == (Total{}) && (i+1 == len(c.lost) || !pathx.HasPrefix(c.lost[i+1].Path, it.Path))
		if empty && (it.Category == Unpersisted || it.Category == Ignored) {
			c.recreated.Add(1)
			continue
		}
		kept = append(kept, it)
	}
	c.lost = kept
}

func isBootPoint(p string) bool {
	for _, b := range emptyBootDirs {
		if p == b {
			return true
		}
	}
	return false
}
