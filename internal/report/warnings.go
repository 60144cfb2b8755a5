package report

import (
	"fmt"
	"slices"

	"github.com/nix-drift/drift/internal/diff"
)

// CheckWarnings are the warnings drift check prints on stderr after the
// walk, in order, for output format: the wipe verdict's warning and the
// history's alerts unless the format is "table" (the table starts with
// them); the audit's warnings but the last said (those Build already gave
// its Say, audit.Model.SaidWarnings); and the unreadable paths, the first
// ten and a count of the rest unless verbose (every one).
func CheckWarnings(a *diff.Audit, said int, format string, verbose bool) []diff.Warning {
	var out []diff.Warning
	if format != "table" {
		if msg := a.Wipe.Warning(); msg != "" {
			out = append(out, diff.Warning{Kind: diff.WarnWipe, Path: "/", Message: msg})
		}
		for _, al := range a.Alerts {
			out = append(out, diff.Warning{Kind: diff.WarnHistory, Path: al.Path, Message: al.Message})
		}
	}
	out = append(out, a.Warnings[:len(a.Warnings)-said]...)
	for i, e := range a.Errors {
		if i == 10 && !verbose {
			out = append(out, diff.Warning{Kind: diff.WarnUnreadable, Message: fmt.Sprintf("%d more unreadable paths (--verbose lists them)", len(a.Errors)-10)})
			break
		}
		out = append(out, diff.Warning{Kind: diff.WarnUnreadable, Path: e.Path, Message: fmt.Sprintf("cannot read %s: %v (what it holds is unknown and not in the report)", e.Path, e.Err)})
	}
	return out
}

// SuggestWarnings are drift suggest's warnings: all, the ones it writes in
// its report (SuggestReport.Warnings: suggest.Result's, then its
// IDWarnings when verbose), and of them stderr, the ones to print on
// stderr: all but those already said (the audit's warnings Build gave its
// Say).
func SuggestWarnings(warnings, idWarnings, said []diff.Warning, verbose bool) (all, stderr []diff.Warning) {
	all = slices.Clone(warnings)
	if verbose {
		all = append(all, idWarnings...)
	}
	for _, w := range all {
		if !slices.Contains(said, w) {
			stderr = append(stderr, w)
		}
	}
	return all, stderr
}
