package adopt

import (
	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/units"
)

// OpenFile is a file below an adopted path that a running process holds
// open: it may be written while it is copied (stop the service first).
type OpenFile = audit.OpenFile

// OpenError refuses an adopt (nothing written) while running processes
// hold files under the paths open: a file written during the copy may be
// copied half-written, and --mount would hide the file the process keeps
// writing (lost at the next wipe). Open is every one, sorted by path.
type OpenError struct {
	Open []OpenFile
}

func (e *OpenError) Error() string {
	return units.Plural(int64(len(e.Open)), "file", "files") + " under the paths to adopt held open by running programs: " + audit.NameOpen(e.Open)
}

// openBelow lists the open files (audit.OpenBelow) at or below the paths
// to adopt that have no persistent copy of their own.
func openBelow(root string, paths []Path) []OpenFile {
	var live []string
	for _, p := range paths {
		if p.Persistent == "" {
			live = append(live, p.Path)
		}
	}
	return audit.OpenBelow(root, live)
}
