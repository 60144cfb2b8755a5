package suggest

import (
	"slices"

	"github.com/nix-drift/drift/internal/diff"
)

// Reasons of Left for the lost paths that are not unpersisted: drift check
// reports them and a new declaration would not keep them, so they are
// never a suggestion. The words are the model's (diff.Keep.Why); a
// refused adoption's reason goes on with drift adopt's refusal.
var (
	LeftAdopt     = diff.KeepAdopt.Why()
	LeftUndeclare = diff.KeepUndeclare.Why()
	LeftChoose    = diff.KeepChoose.Why()
	LeftCopyBack  = diff.KeepCopyBack.Why()
	LeftRefused   = diff.KeepRefused.Why()
	LeftRemounted = diff.KeepRemounted.Why()
	LeftBeneath   = diff.KeepBeneath.Why()
	LeftUnmounted = diff.KeepRedeclare.Why()
)

// leftLost counts in left the lost item it when the model says a
// declaration does not keep it (diff.Audit.Keep: all but the unpersisted
// and the ignored, which drift check hides too), by what does, noting the
// declared paths drift adopt takes: a diff.KeepCopyBack path below a
// declared path whose copy lacks others (diff.Audit.CopyLacks) with the
// diff.KeepChoose ones, as drift check's combined line. It reports whether it counted it.
func leftLost(a *diff.Audit, left leftCounter, it *diff.Item) bool {
	k, what := a.Keep(it)
	if k == diff.KeepCopyBack && a.CopyLacks(what) {
		// Grouped by the declared path, as drift check's combined line
		// groups it: its copy lacks other paths, so --prefer persistent
		// of it changes something, and the choice is the user's.
		k = diff.KeepChoose
	}
	reason := k.Why()
	switch k {
	case 0, diff.KeepDeclare:
		return false
	case diff.KeepRefused:
		reason += ": " + what
	}
	left.add(reason, it.Path)
	x := left[reason]
	x.Keep = k
	if (k == diff.KeepAdopt || k == diff.KeepUndeclare || k == diff.KeepChoose || k == diff.KeepCopyBack) && !slices.Contains(x.Adopt, what) {
		x.Adopt = append(x.Adopt, what)
	}
	if k == diff.KeepCopyBack && it.CopyNewer() {
		x.Newer = append(x.Newer, it.Path)
	}
	if k == diff.KeepChoose && !slices.Contains(x.NewerAdopt, what) {
		// Not the path itself (the copy lacks it): the declared path's
		// newer copies elsewhere, which --prefer live of it would replace.
		if n := a.CopyNewerBelow(what); len(n) > 0 {
			x.NewerAdopt = append(x.NewerAdopt, what)
			x.Newer = append(x.Newer, n...)
		}
	}
	if d := a.DeletedAt(it.Path); k == diff.KeepShownDeleted && d != nil {
		b := ByHand{MountPoint: d.Mount.MountPoint, Copy: what, Dir: it.Path != d.Mount.MountPoint || it.IsDir()}
		if !slices.ContainsFunc(x.ByHand, func(o ByHand) bool { return o.MountPoint == b.MountPoint }) {
			x.ByHand = append(x.ByHand, b)
		}
	}
	return true
}
