package audit

import (
	"fmt"
	"strings"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/persist"
)

// maxCondPlaces is how many conditional declarations conditionalWarning
// names by position; the rest are counted.
const maxCondPlaces = 3

// sayDiagnostics says the declarations' diagnostics, one each, except the
// conditional ones (Code "conditional": lib.mkIf or lib.optionals on a
// value read without Nix, which the reader takes as holding), which are
// said once together as a warning (conditionalWarning): whatever -v says.
func sayDiagnostics(diags []persist.Diagnostic, say func(Said)) {
	var conds []persist.Pos
	for i := range diags {
		if diags[i].Code == "conditional" {
			conds = append(conds, diags[i].Pos)
			continue
		}
		say(Said{Diagnostic: &diags[i]})
	}
	if w := conditionalWarning(conds); w != "" {
		say(Said{Warning: diff.Warning{Kind: diff.WarnSetup, Message: w}})
	}
}

// conditionalWarning is the one line saying that the declarations at
// places (at most maxCondPlaces named, the others counted) are counted as
// declared although their condition is not known: if it is false at the
// next boot, what they name is not kept. "" for none.
func conditionalWarning(places []persist.Pos) string {
	if len(places) == 0 {
		return ""
	}
	var named []string
	for _, p := range places[:min(len(places), maxCondPlaces)] {
		named = append(named, p.String())
	}
	if more := len(places) - len(named); more > 0 {
		named = append(named, fmt.Sprintf("%d more", more))
	}
	what, it := "a declaration is", "it guards"
	if len(places) > 1 {
		what, it = fmt.Sprintf("%d declarations are", len(places)), "they guard"
	}
	return fmt.Sprintf("%s conditional on what drift cannot know without Nix (lib.mkIf or lib.optionals: %s): counted as declared; if a condition is false, what %s is lost at the next boot (--flake REF#HOST evaluates the conditions)", what, strings.Join(named, ", "), it)
}

// declErrors says, after "hold no persisted path", the errors of the
// declarations read (diagnostics of severity persist.Error: each left its
// entry out), the first whole with its position and the others counted:
// the cause of an empty set that the verdict must name whatever --quiet
// hides. "" when there is none.
func declErrors(diags []persist.Diagnostic) string {
	var errs []persist.Diagnostic
	for _, d := range diags {
		if d.Severity >= persist.Error {
			errs = append(errs, d)
		}
	}
	if len(errs) == 0 {
		return ""
	}
	more := ""
	if len(errs) > 1 {
		more = fmt.Sprintf(" (and %d more)", len(errs)-1)
	}
	return fmt.Sprintf("; what they declare was left out for an error: %s%s", errs[0].String(), more)
}
