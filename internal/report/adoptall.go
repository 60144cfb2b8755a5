package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nix-drift/drift/internal/adopt"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/escape"
)

// adoptAll is what to run for the declared paths of every row drift adopt
// keeps (each declared path once), "" when fewer than two rows have a
// command: one drift adopt command for the declared paths whose
// persistent copy differs nowhere, and the two --prefer commands
// (adopt.Choice) for those where it differs at a lost path, ignored ones
// included (adopting a declared path copies all of it), and lacks some
// (diff.Audit.CopyLacks); where it lacks nothing, --prefer persistent
// would change nothing: the copy's objects come back at the next boot,
// and only --prefer live is offered (diff.KeepCopyBack).
func adoptAll(a *diff.Audit, rows []Row) string {
	var ps []string
	n := 0
	for _, r := range rows {
		if d, ok := a.AdoptDecl(r.Item); ok {
			n++
			if !slices.Contains(ps, d) {
				ps = append(ps, d)
			}
		}
	}
	if n < 2 {
		return ""
	}
	differ := a.Differing() // declared path: the paths below it whose copy differs
	var same, diffs, back []string
	for _, d := range ps {
		switch {
		case len(differ[d]) == 0:
			same = append(same, d)
		case a.CopyLacks(d):
			diffs = append(diffs, d)
		default:
			back = append(back, d)
		}
	}
	var out []string
	if len(same) > 0 {
		out = append(out, "Keep the declared rows before the next boot: "+AdoptCommand(a.Root, a.Args, same...))
	}
	if len(diffs) > 0 {
		var at []string
		for _, d := range diffs {
			at = append(at, differ[d]...)
		}
		first := escape.Name(at[0])
		if len(at) > 1 {
			first += fmt.Sprintf(" and %d more", len(at)-1)
		}
		out = append(out, fmt.Sprintf("The persistent copy of %s differs at %s (other content, or the same bytes with another mode or owner): %s", escape.Name(strings.Join(diffs, ", ")), first, adopt.ChoiceNewer(a.Root, a.Args, copyNewerAt(rows, at), diffs...)))
	}
	if len(back) > 0 {
		out = append(out, copyBackLine(a, back, differ))
	}
	return strings.Join(out, "\n")
}

// copyBackLine is adoptAll's line for the declared paths back whose
// persistent copy differs (differ: Audit.Differing) and lacks nothing
// (diff.KeepCopyBack): the copy's objects come back at the next boot, the
// live ones go with the wiped filesystem, and --prefer live keeps them.
func copyBackLine(a *diff.Audit, back []string, differ map[string][]string) string {
	var at []string
	for _, d := range back {
		at = append(at, differ[d]...)
	}
	first := escape.Name(at[0])
	if len(at) > 1 {
		first += fmt.Sprintf(" and %d more", len(at)-1)
	}
	return fmt.Sprintf("The persistent copy of %s differs at %s and lacks nothing: its version comes back at the next boot, the live one goes with the wiped filesystem (into the old root where old roots are kept, restorable with drift restore while it is kept); to keep the live objects: %s",
		escape.Name(strings.Join(back, ", ")), first, adopt.Command(a.Root, a.Args, adopt.PreferLive, back...))
}
