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
// and only --prefer live is offered (diff.KeepCopyBack), one line for the
// declared paths whose live objects go with the wiped filesystem, one for
// those covered on a persistent filesystem, hidden beneath the copy's
// mount (as each row says, copyBackWhy).
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
	// The newer side first, per declared path (diff.Audit.CopyNewerBelow):
	// one line for those where the copy is newer somewhere, one for the
	// others, never --prefer live first for a newer copy.
	var newer, older []string
	for _, d := range diffs {
		if len(a.CopyNewerBelow(d)) > 0 {
			newer = append(newer, d)
		} else {
			older = append(older, d)
		}
	}
	for _, ds := range [][]string{newer, older} {
		if len(ds) > 0 {
			out = append(out, fmt.Sprintf("The persistent copy of %s differs at %s (other content, or the same bytes with another mode or owner): %s",
				escape.Name(strings.Join(ds, ", ")), differAt(ds, differ), adopt.ChoiceNewer(a.Root, a.Args, newerBelow(a, ds), ds...)))
		}
	}
	// One line per where the live objects go, as each row says
	// (copyBackWhy): with the wiped filesystem, beneath the copy's mount
	// (covered, on a persistent filesystem), or some of each.
	where := map[string]int{}
	for _, r := range rows {
		if d, ok := a.AdoptDecl(r.Item); ok && r.Item.Mount != 0 {
			where[d] |= liveHidden
		} else if ok {
			where[d] |= liveWiped
		}
	}
	for _, w := range []int{liveWiped, liveHidden, liveWiped | liveHidden} {
		var ds []string
		for _, d := range back {
			if where[d] == w {
				ds = append(ds, d)
			}
		}
		if len(ds) > 0 {
			out = append(out, copyBackLine(a, ds, differ, w))
		}
	}
	return strings.Join(out, "\n")
}

// differAt names the first path where the persistent copy of the declared
// paths ds differs (differ: Audit.Differing), escaped, and how many more.
func differAt(ds []string, differ map[string][]string) string {
	var at []string
	for _, d := range ds {
		at = append(at, differ[d]...)
	}
	first := escape.Name(at[0])
	if len(at) > 1 {
		first += fmt.Sprintf(" and %d more", len(at)-1)
	}
	return first
}

// newerBelow are the paths below the declared paths ds whose persistent
// copy is newer (diff.Audit.CopyNewerBelow), escaped.
func newerBelow(a *diff.Audit, ds []string) []string {
	var out []string
	for _, d := range ds {
		out = append(out, escapeAll(a.CopyNewerBelow(d))...)
	}
	return out
}

// Where the live objects of a declared path on adoptAll's copy-back line
// go (a bit set): with the wiped filesystem, beneath the copy's mount.
const (
	liveWiped  = 1
	liveHidden = 2
)

// copyBackLine is adoptAll's line for the declared paths back whose
// persistent copy differs (differ: Audit.Differing) and lacks nothing
// (diff.KeepCopyBack): the copy's objects come back at the next boot, the
// live ones go where (liveWiped, liveHidden: liveGoes), and --prefer live
// keeps them.
func copyBackLine(a *diff.Audit, back []string, differ map[string][]string, where int) string {
	newer := ""
	if n := newerBelow(a, back); len(n) > 0 {
		newer = "; the persistent copy is NEWER at " + strings.Join(n, ", ")
	}
	goes := "the live one " + liveGoes(where&liveHidden == 0)
	if where == liveWiped|liveHidden {
		goes = "the live one " + liveGoes(true) + " or, where on a persistent filesystem, " + liveGoes(false)
	}
	return fmt.Sprintf("The persistent copy of %s differs at %s and lacks nothing: its version comes back at the next boot, %s%s; to keep the live objects: %s",
		escape.Name(strings.Join(back, ", ")), differAt(back, differ), goes, newer, adopt.Command(a.Root, a.Args, adopt.PreferLive, back...))
}
