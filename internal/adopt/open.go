package adopt

import (
	"fmt"
	"strings"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/escape"
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

// maxOpenNamed bounds how many open files OpenError's message names.
const maxOpenNamed = 5

func (e *OpenError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s under the paths to adopt held open by running programs: ", units.Plural(int64(len(e.Open)), "file", "files"))
	for i, f := range e.Open {
		if i == maxOpenNamed {
			fmt.Fprintf(&b, ", and %d more", len(e.Open)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s by pid %d (%s)", escape.Name(f.Path), f.PID, escape.Name(f.Comm))
	}
	return b.String()
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
