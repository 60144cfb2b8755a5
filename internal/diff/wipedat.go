package diff

import (
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
)

// WipedAt is the wiped filesystem p (absolute, as the live system sees
// it) lies on as the mounts show it: the deepest of a.Ephemeral whose
// mount point contains p (pathx.Contains); nil when none does. What lies
// beneath a mount stacked on it is another question (LiesOn).
func (a *Audit) WipedAt(p string) *mounts.Mount {
	var best *mounts.Mount
	for i := range a.Ephemeral {
		e := &a.Ephemeral[i]
		if pathx.Contains(e.MountPoint, p) && (best == nil || len(e.MountPoint) > len(best.MountPoint)) {
			best = e
		}
	}
	return best
}
