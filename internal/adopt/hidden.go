package adopt

import (
	"fmt"
	"path"

	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/pathx"
	"golang.org/x/sys/unix"
)

// HiddenUndeclaredError refuses a path no declaration covers that lies on
// a wiped filesystem beneath the mount of a persistent one (HiddenBy): the
// mount survives the wipe, but what lies beneath it is hidden now and
// deleted at the next boot (drift check's shadowed, diff.KeepBeneath), and
// no declaration of the path keeps it, the mount staying on top. Shown says
// the mount shows an object at Path too, which survives. Nothing was
// copied.
type HiddenUndeclaredError struct {
	// Path is the live path; HiddenBy the mount point of the persistent
	// filesystem that hides it; Ephemeral the mount point of the wiped
	// filesystem it lies on.
	Path, HiddenBy, Ephemeral string
	Shown                     bool
	// Root is the audited root (--root): the hint names the wiped
	// filesystem and the mount as the host sees them.
	Root string
	// Dir says what lies beneath is a directory.
	Dir bool
}

func (e *HiddenUndeclaredError) Error() string {
	on := "the wiped root"
	if e.Ephemeral != "/" {
		on = "the wiped filesystem at " + e.Ephemeral
	}
	shown := ""
	if e.Shown {
		shown = fmt.Sprintf(" (what the mount shows at %s survives the wipe: another object)", e.Path)
	}
	return escape.Name(fmt.Sprintf("%s lies on %s beneath the mount at %s, which survives the wipe%s: hidden now and deleted at the next boot, and no declaration keeps it (the mount stays on top); nothing was copied",
		e.Path, on, e.HiddenBy, shown))
}

// Hint says how to reach what lies beneath and keep it by hand on the
// persistent filesystem that hides it.
func (e *HiddenUndeclaredError) Hint() string {
	rel, _ := pathx.Rel(e.Ephemeral, e.Path)
	src := path.Join("/mnt/beneath", rel)
	keep := escape.CopyCommand(src, path.Join(e.Root, e.Path), e.Dir)
	if e.Shown {
		keep = "copy what you need from " + escape.Shell(src) + " onto the mount at " + escape.Shell(path.Join(e.Root, e.HiddenBy))
	}
	return fmt.Sprintf("to keep it, look beneath the mount: mkdir -p /mnt/beneath && mount --bind %s /mnt/beneath (without --rbind it shows what the mounts hide), %s, then umount /mnt/beneath",
		escape.Shell(path.Join(e.Root, e.Ephemeral)), keep)
}

// hiddenUndeclared is the refusal of the undeclared path p that the
// persistent mount at hiddenBy shows, when an object lies at p on the wiped
// filesystem beneath (read through Model.Under; a directory only when it
// holds entries: an empty one is the mount point the mount is made on).
// nil when nothing lies there, or drift cannot look beneath the mounts.
func (a *adopter) hiddenUndeclared(p, hiddenBy string) error {
	eph := a.ephemeralBelow(p)
	if eph == "" || a.m.Under == nil || !pathx.Contains(eph, hiddenBy) || eph == hiddenBy {
		return nil
	}
	from, release, err := a.m.Under(eph)
	if err != nil {
		return fmt.Errorf("%s: cannot look beneath the mount points on %s: %w", p, eph, err)
	}
	defer release()
	rel, _ := pathx.Rel(eph, p)
	st, err := fsys.StatIn(from, rel)
	if err != nil {
		if fsys.Absent(err) {
			return nil
		}
		return fmt.Errorf("%s (beneath the mount at %s): %w", p, hiddenBy, err)
	}
	dir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	if dir && emptyDir(from, rel) {
		return nil
	}
	e := &HiddenUndeclaredError{Path: p, HiddenBy: hiddenBy, Ephemeral: eph, Root: a.m.Root, Dir: dir}
	_, serr := fsys.StatIn(a.m.Root, p)
	e.Shown = serr == nil
	return e
}

// unseenBeneath is why hiddenUndeclared could not look beneath the
// persistent mount at hiddenBy for p (audit.Model.NoUnder), when a wiped
// filesystem lies beneath that mount; "" when it could, or none does.
func (a *adopter) unseenBeneath(p, hiddenBy string) string {
	eph := a.ephemeralBelow(p)
	if eph == "" || a.m.Under != nil || !pathx.Contains(eph, hiddenBy) || eph == hiddenBy {
		return ""
	}
	return a.m.NoUnder
}

// ephemeralBelow is the mount point of the wiped filesystem nearest above
// p (Audit.Ephemeral), "" when none is.
func (a *adopter) ephemeralBelow(p string) string {
	if e := a.m.Audit.WipedAt(p); e != nil {
		return e.MountPoint
	}
	return ""
}

// emptyDir says whether the directory p (absolute inside root) holds no
// entry; one that cannot be read is not empty.
func emptyDir(root, p string) bool {
	fd, err := fsys.OpenDirIn(root, p)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	buf := make([]byte, 4096)
	for {
		n, err := unix.ReadDirent(fd, buf)
		if err != nil {
			return false
		}
		if n == 0 {
			return true
		}
		if _, _, names := unix.ParseDirent(buf[:n], -1, nil); len(names) > 0 {
			return false // ParseDirent leaves out . and ..
		}
	}
}
