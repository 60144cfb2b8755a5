package diff

// The package is imported as ifsys in diff: the name fsys is the lockstep
// walk's interface (lsfs.go).
import ifsys "github.com/nix-drift/drift/internal/fsys"

// openat2 is ifsys.OpenZ: the lockstep walk's opens (realFS.open) of a
// NUL-terminated name beneath a directory, allocating nothing.
func openat2(dirFD int, namez []byte, flags int) (int, error) {
	return ifsys.OpenZ(dirFD, namez, flags)
}
