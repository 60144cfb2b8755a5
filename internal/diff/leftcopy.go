package diff

import (
	"bytes"
	"slices"
	"strings"

	"github.com/nix-drift/drift/internal/partial"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/scan"
)

// LeftCopy is a partial copy that a drift restore or drift adopt killed
// mid-copy left on the ephemeral side (partial.Parse reads its name, and
// its process is gone): drift's, not the user's data. Check leaves it out
// of Lost and does not walk below it; audit.Model.Partials says what it
// is and what to do about it.
type LeftCopy struct {
	// Path is where it lies (absolute, in the audited system).
	Path string
	// Wiped: it lies on the wiped root, which the next boot deletes it
	// with; false when it lies on persistent storage a bind mount shows
	// (an Unmounted path's place).
	Wiped bool
}

// leftCopy records e, named name, a lost path of category cat, when it is
// a partial copy a killed drift restore or adopt left (LeftCopy), and says
// whether it is.
func (c *classifier) leftCopy(e *scan.Entry, name string, cat Category) bool {
	if !isLeft(name) {
		return false
	}
	p := e.Path
	if e.Transient {
		p = strings.Clone(p) // scan.Entry.Transient: the walk's buffer
	}
	c.addLeft(p, cat)
	return true
}

// addLeft records the LeftCopy at p, a lost path of category cat.
func (c *classifier) addLeft(p string, cat Category) {
	c.mu.Lock()
	c.leftCopies = append(c.leftCopies, LeftCopy{Path: p, Wiped: cat != Unmounted})
	c.mu.Unlock()
}

// markStem is in both partial copy marks (partial.Mark, AdoptMark): a name
// without it, or not hidden (a partial copy's starts with a dot), is passed
// over at the cost of a byte compare or a search.
const markStem = ".drift-"

// isLeft says whether name is a partial copy's whose process is gone.
func isLeft(name string) bool {
	if len(name) == 0 || name[0] != '.' || !strings.Contains(name, markStem) {
		return false
	}
	pc, ok := partial.Parse(name)
	return ok && partial.Gone(pc.PID)
}

// skipLeft is isLeft for a scan.Tally's Skip (below a directory lost
// whole): what it skips is a LeftCopy.
func skipLeft(name []byte) bool {
	return len(name) > 0 && name[0] == '.' && bytes.Contains(name, []byte(markStem)) && isLeft(string(name))
}

// sortedLeftCopies are the LeftCopy values the walk found, by path.
func (c *classifier) sortedLeftCopies() []LeftCopy {
	out := slices.Clone(c.leftCopies)
	slices.SortFunc(out, func(x, y LeftCopy) int { return pathx.Compare(x.Path, y.Path) })
	return out
}

// leftByDrift says whether an old root's entry named name is a partial
// copy a drift restore or adopt was building at that boot: never
// vanished data, whatever its pid is now (a pid of that boot may be
// another process's at this one).
func leftByDrift(name string) bool {
	_, ok := partial.Parse(name)
	return ok
}
