package restore

import (
	"fmt"
	"path"
	"strings"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/escape"
)

// ShownError refuses to replace a destination that live mounts show at
// another place (Request.ShownAt: a persistent copy bind-mounted at its
// declared path). A replacement is a rename: each mount would go on
// showing the replaced object, now deleted — the running system's
// current data, and what it writes there until the next boot, would be in
// that deleted object only, gone at the next boot — while the
// replacement shows only once the mount is made again.
type ShownError struct {
	// Dest is the destination, Root the audited system's root (Dest is
	// joined with it); Shown the mounts, as the audited system sees them.
	Dest, Root string
	Shown      []audit.Shown
}

func (e *ShownError) Error() string {
	var at []string
	for _, s := range e.Shown {
		w := fmt.Sprintf("bind-mounted at %s (mount %d)", path.Join(e.Root, s.MountPoint), s.ID)
		if full := path.Join(e.Root, s.Source); full != e.Dest {
			w = full + ", " + w
		}
		at = append(at, w)
	}
	what := "it is"
	if len(at) > 1 || path.Join(e.Root, e.Shown[0].Source) != e.Dest {
		what = "it holds"
	}
	return escape.Name(fmt.Sprintf("%s: %s %s: replacing it now would leave the mount showing the replaced copy, deleted; what the running system has there, and writes there until the next boot, would be lost with it", e.Dest, what, strings.Join(at, "; ")))
}

// shownError is the *ShownError for dest (dest joined with the root) and
// the mounts sh, with the hint of req's command: unmount, copy, mount
// again, each step a command of the system at req.Root.
func (req *Request) shownError(dest string, sh []audit.Shown) error {
	var umount, mount []string
	for _, s := range sh {
		mp := escape.Shell(path.Join(req.Root, s.MountPoint))
		umount = append(umount, "umount "+mp)
		mount = append(mount, "mount --bind "+escape.Shell(path.Join(req.Root, s.Source))+" "+mp)
	}
	steps := fmt.Sprintf("stop what uses it, unmount it (%s), run drift %s again, then mount it again (%s) or reboot: the mount shows the new copy then", strings.Join(umount, "; "), req.command(), strings.Join(mount, "; "))
	return withHint(&ShownError{Dest: dest, Root: req.Root, Shown: sh}, steps)
}
