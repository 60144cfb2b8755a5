package adopt

import (
	"slices"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/pathx"
)

// Pending lists the declared paths (persist.Entry.Path) whose live data
// has no persistent copy: those covering a declared-unbacked path (on the
// wiped root, the persistent copy not mounted over it: a declaration not
// in effect yet, whose bind mount would hide the data) or a shadowed path
// (already hidden under a mount) or a covered path (on another persistent
// filesystem, which the next boot's mount of the copy hides). The classification is the Model's
// (diff.Check); the result is sorted, each path once (a declaration inside
// another declared directory is listed for itself: it has its own copy).
func Pending(m *audit.Model) []string {
	var out []string
	for _, it := range m.Audit.Lost {
		if it.Category != diff.DeclaredUnbacked && it.Category != diff.Shadowed && it.Category != diff.Covered {
			continue
		}
		if e, ok := m.Decls.Covering(it.Path); ok && !slices.Contains(out, e.Path) {
			out = append(out, e.Path)
		}
	}
	slices.SortFunc(out, pathx.Compare)
	return out
}
