package diff

import (
	"path"
	"strings"

	ifsys "github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/persist"
	"golang.org/x/sys/unix"
)

// What the last reboot destroyed at or below a declared path. A declared
// path whose persistent copy was not mounted over it at that boot
// (DeclaredUnbacked then) kept its data on the ephemeral root, and the
// wipe took it with the root: check predicted the loss, and after the
// boot it is gone from the live path and from the copy. Such a path is
// listed as vanished (Vanished.Decl set), with the restore that puts it
// back into the persistent copy. A path the copy holds is not: it
// persisted (the boot showed the copy, or the copy held it already), and
// one the live path still shows is there.

// copyOf is where the declaration e keeps the live path p (at or below
// e.Path): its persistent copy joined with the rest of p; "" when the copy
// is not a path below "/".
func copyOf(e persist.Entry, p string) string {
	src := path.Clean(e.Source())
	if src == "/" || !strings.HasPrefix(src, "/") {
		return ""
	}
	return src + strings.TrimPrefix(p, e.Path)
}

// declaredGone reports whether the path p of the previous root, at or
// below the declared path of entries[decl], is gone: absent from the
// persistent copy and from the live path, both looked up beneath liveFD
// (the audited root, through its mounts, never through a symlink). At the
// declared path of a file, impermanence's symlink to a missing copy
// counts as absent. A lookup that fails otherwise than absent says "not
// gone": nothing is listed that is not known to be lost.
func (c *classifier) declaredGone(liveFD int, decl int32, p string) bool {
	e := c.tree.entries[decl]
	cp := copyOf(e, p)
	if cp == "" {
		return false
	}
	var st unix.Stat_t
	if err := ifsys.Lstat(liveFD, cp[1:], &st); !ifsys.Absent(err) {
		return false // persisted (or unknown)
	}
	err := ifsys.Lstat(liveFD, p[1:], &st)
	if ifsys.Absent(err) {
		return true
	}
	return err == nil && p == e.Path && e.Kind == persist.File && st.Mode&unix.S_IFMT == unix.S_IFLNK
}

// declOf is the declared path of entries[decl], "" for decl < 0.
func (c *classifier) declOf(decl int32) string {
	if decl < 0 {
		return ""
	}
	return c.tree.entries[decl].Path
}

// linkToCopy reports whether d is a declared file of the previous root
// that is a symlink now: impermanence links a declared file to its
// persistent copy when the copy is missing, so the file may be gone
// although the path is not absent (declaredGone decides).
func (c *classifier) linkToCopy(d *Difference) bool {
	if d.A == nil || d.B == nil || d.A.Mode&unix.S_IFMT != unix.S_IFREG || d.B.Mode&unix.S_IFMT != unix.S_IFLNK {
		return false
	}
	n := c.tree.at(c.tree.find(d.Path))
	return n.decl >= 0 && c.tree.entries[n.decl].Kind == persist.File
}
