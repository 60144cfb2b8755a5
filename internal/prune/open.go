package prune

import (
	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/units"
)

// leaveOpen takes out of planned (objects by storage path, in order) each
// object below which a running process holds a file open
// (audit.OpenBelow, as drift adopt refuses one), adding a refusal to r
// naming the files with their pid and program: the program may still be
// writing it, so it is in use whatever the configuration says. It returns
// the storage paths left with objects to move, in order.
func leaveOpen(root string, planned map[string][]Object, order []string, r *Result) []string {
	var all []string
	for _, sp := range order {
		for _, o := range planned[sp] {
			all = append(all, o.Path)
		}
	}
	held := audit.OpenBelow(root, all)
	if len(held) == 0 {
		return order
	}
	var left []string
	for _, sp := range order {
		var keep []Object
		for _, o := range planned[sp] {
			var mine []audit.OpenFile
			for _, f := range held {
				if pathx.Contains(o.Path, f.Path) {
					mine = append(mine, f)
				}
			}
			if len(mine) == 0 {
				keep = append(keep, o)
				continue
			}
			r.Refused = append(r.Refused, newRefusal(o.Path, openReason(mine)))
		}
		planned[sp] = keep
		if len(keep) > 0 {
			left = append(left, sp)
		}
	}
	return left
}

// openReason says which files of a stray running programs hold open.
func openReason(open []audit.OpenFile) string {
	return units.Plural(int64(len(open)), "file", "files") + " held open by running programs (stop them first): " + audit.NameOpen(open)
}
