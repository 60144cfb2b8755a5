package diff

import (
	"fmt"

	"github.com/nix-drift/drift/internal/persist"
)

// DeclaredFileIsDir reports whether the live path p (isDir: a directory) is
// at or below a declared file d's path while that path is a directory on
// the live system: a type mismatch. The directory and all it holds lie on
// the ephemeral root and are wiped with it; the next boot mounts d's file
// copy at d.Path, which holds none of it, so nothing below it has a copy
// (a directory at d.Source() would not be mounted: a file's bind mount of
// a directory fails). drift check counts all of it declared-unbacked,
// with this WHY (MismatchWhy); drift adopt refuses it.
func DeclaredFileIsDir(d *persist.Entry, p string, isDir bool) bool {
	return d.Kind == persist.File && (p != d.Path || isDir)
}

// MismatchWhy is the reason given for a path under the declared file d
// that is a directory on the live system (DeclaredFileIsDir), raw text.
func MismatchWhy(d *persist.Entry, p string) string {
	if p == d.Path {
		return fmt.Sprintf("declared file, but a directory here: wiped with the root; the next boot mounts the file %s here, which holds none of it", d.Source())
	}
	return fmt.Sprintf("inside %s, declared as a file but a directory: wiped with it; the next boot mounts the file %s there", d.Path, d.Source())
}
