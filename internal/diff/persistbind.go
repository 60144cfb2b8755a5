package diff

import (
	"fmt"
	"path"
	"strings"

	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
)

// persistentBind reports whether m is a bind mount of a directory of a
// persistent filesystem mounted elsewhere (mount --bind /home/alice/shared
// /srv/shared) that the next boot will not mount there again: another
// visible mount of m's filesystem that is not wiped holds m's root
// (c.persIx), m shows a directory below that mount's root (not the
// filesystem, or a btrfs subvolume, mounted in its own right: its root is
// not its subvol=), and nothing mounts it at m's mount point at boot (no
// declaration at or above it, not in Config.Remounted: fileSystems or
// /etc/fstab), and it is not its own source mounted again in place (the
// read-only /nix/store NixOS makes at boot). Like an undeclared mount of persistent storage (kind
// unmounted), what it shows is gone from view at the next boot while the
// data stays where it lies; a warning names that place.
func (c *classifier) persistentBind(m *mounts.Mount) bool {
	if m.MountPoint == "/" || strings.HasPrefix(m.FSType, "fuse") || c.remounted[m.MountPoint] {
		return false
	}
	pm := c.persIx.holding(m)
	if pm == nil || pathx.Clean(pm.Root) == pathx.Clean(m.Root) {
		return false
	}
	if v, ok := m.Option("subvol"); ok && pathx.Clean(v) == pathx.Clean(m.Root) {
		return false // a subvolume mounted in its own right
	}
	if c.declIx.at(m.MountPoint) >= 0 {
		return false
	}
	indexProbes.Add(1)
	if c.declIx.dirAbove(m.MountPoint) {
		return false
	}
	rest, _ := pathx.Rel(pathx.Clean(pm.Root), pathx.Clean(m.Root))
	src := path.Join(pm.MountPoint, rest)
	if src == m.MountPoint {
		return false // mounted over itself (NixOS's read-only /nix/store, made at every boot)
	}
	c.warn(WarnSetup, m.MountPoint, fmt.Sprintf("%s is bind-mounted from %s (mount %d), on the persistent filesystem mounted at %s, and nothing mounts it there at the next boot (no declaration, fileSystems or /etc/fstab line): what it shows is gone from view then (the data stays in %s); declare the bind mount (fileSystems.\"%s\" = { device = \"%s\"; options = [ \"bind\" ]; }) to keep it in view, or leave it",
		m.MountPoint, src, m.ID, pm.MountPoint, src, m.MountPoint, src))
	return true
}
