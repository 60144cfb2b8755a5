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
// DryRun marks the refusal of a dry run: the real run would refuse so, and
// the dry run exits as it would.
type OpenError struct {
	Open   []OpenFile
	DryRun bool
}

func (e *OpenError) Error() string {
	s := units.Plural(int64(len(e.Open)), "file", "files") + " under the paths to adopt held open by running programs: " + audit.NameOpen(e.Open)
	if e.DryRun {
		return "the real run would refuse: " + s
	}
	return s
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
