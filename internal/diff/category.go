package diff

import "golang.org/x/sys/unix"

// Category says what the next boot does to a path on the ephemeral side of a
// root (docs/how-it-works.md, Categories).
type Category uint8

const (
	// Unpersisted: stored on the ephemeral filesystem and covered by no
	// declaration. Lost.
	Unpersisted Category = iota + 1
	// DeclaredUnbacked: declared, but the live object is stored on the
	// ephemeral filesystem (the bind mount or link is missing, or a program
	// replaced the link with a file). Lost, and the user believes it is safe.
	DeclaredUnbacked
	// Shadowed: on the ephemeral filesystem under a mount point, invisible
	// now and deleted with it. Lost. Reported when Config.Under can open a
	// view under the mount points (root, live mount table).
	Shadowed
	// Unmounted: on persistent storage but shown through a bind mount that no
	// declaration makes any more; gone from view at the next boot (the data
	// stays in the persistent storage path). Lost from view.
	Unmounted
	// Ignored: lost, but matched an --ignore rule. Hidden by default, counted.
	Ignored
	// Recreated: comes back at boot with the same path and type (NixOS
	// activation output, parents of mount points and declared paths, links
	// made by impermanence's file method, links a systemd-tmpfiles L rule
	// of the configuration makes: persist.Config.TmpfilesLinks). Not lost.
	Recreated
	// Covered: a declared path whose live data sits on another persistent
	// filesystem (a /home subvolume) and is not mounted from its persistent
	// copy: the next boot mounts that copy over it. Nothing is deleted, but
	// it is hidden from view. Lost (from view). Also what lies on the
	// ephemeral root below a mount point that the next boot mounts another
	// filesystem at (Config.Remounted: fileSystems, /etc/fstab) and that is
	// not mounted now (Decl -1): hidden then, and deleted with the root;
	// never to be declared (the mount makes it persistent already). And
	// what lies on a persistent filesystem beneath a declared mount point
	// (the bind mount of its copy made at a boot after data was written
	// there; Item.Visible false): hidden now, not deleted.
	Covered
	// Copied: inside a declaration that is not mounted, on the ephemeral
	// filesystem, but its persistent copy is the same: same type, and for a
	// regular file the same bytes, for a symlink the same target (a
	// half-migrated directory); or Shadowed under a mount from persistent
	// storage that shows the same copy at its path (a directory adopted and
	// mounted over its old ephemeral contents). The next boot's mount shows
	// the copy in its place. Not lost.
	Copied
)

var categoryNames = [...]string{
	Unpersisted:      "unpersisted",
	DeclaredUnbacked: "declared-unbacked",
	Shadowed:         "shadowed",
	Unmounted:        "unmounted",
	Ignored:          "ignored",
	Recreated:        "recreated",
	Covered:          "covered",
	Copied:           "copied",
}

// Categories lists every category in report order.
var Categories = []Category{DeclaredUnbacked, Unpersisted, Shadowed, Covered, Unmounted, Ignored, Copied, Recreated}

func (c Category) String() string {
	if int(c) < len(categoryNames) && categoryNames[c] != "" {
		return categoryNames[c]
	}
	return "unknown"
}

// Remade reports whether an object of mode (st_mode) is not data to keep
// but made again by the program that uses it: a socket, which the program
// listening on it creates when it starts (bind(2) fails on an existing
// path, so such programs remove and recreate it). check classifies it
// Recreated wherever it is — never lost, never an adopt to suggest — and
// adopt skips it saying so.
func Remade(mode uint32) bool { return mode&unix.S_IFMT == unix.S_IFSOCK }

// Lost reports whether a path of this category is gone (or gone from view)
// after the next boot: every category but Recreated and Copied.
func (c Category) Lost() bool { return c != 0 && c != Recreated && c != Copied }

// Why is the short reason printed for a category.
func (c Category) Why() string {
	switch c {
	case Unpersisted:
		return "not declared"
	case DeclaredUnbacked:
		return "declared, not backed by persistent storage"
	case Shadowed:
		return "on a wiped filesystem under a mount point"
	case Unmounted:
		return "mounted from persistent storage, no longer declared"
	case Ignored:
		return "matched an ignore rule"
	case Recreated:
		return "re-created at boot"
	case Covered:
		return "declared, on persistent storage but not mounted from its persistent copy: the next boot mounts the copy over it"
	case Copied:
		return "the same copy is in persistent storage: the next boot shows it"
	}
	return ""
}
