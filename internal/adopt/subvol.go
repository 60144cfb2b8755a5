package adopt

import (
	"fmt"
	"strings"

	"github.com/nix-drift/drift/internal/restore"
)

// plainSubvolumes adds one note (Result.Notes) naming the live btrfs
// subvolumes the outcomes out (their paths the live ones) copy, or with
// dry would copy, into the persistent copy as plain directories, and why
// (restore.PlainInStorage): their data is all there, and a snapshot of
// the persistent storage holds it, which it would not with a nested
// subvolume. Nothing when there is none, nor for the dry run that plans
// a run that copies (its own outcomes say it).
func (a *adopter) plainSubvolumes(out []restore.Outcome, why string, dry bool) {
	if dry != a.o.DryRun {
		return
	}
	var subs []string
	for _, o := range out {
		r := o.Result
		if r == nil {
			continue
		}
		for _, it := range r.Items {
			if it.Subvolume {
				subs = append(subs, o.Path+strings.TrimPrefix(it.Dest, r.Dest))
			}
		}
	}
	if len(subs) == 0 {
		return
	}
	verb := "copied"
	if dry {
		verb = "would be copied"
	}
	what := "a btrfs subvolume on the live system, " + verb + " as a plain directory"
	if len(subs) > 1 {
		what = "btrfs subvolumes on the live system, " + verb + " as plain directories"
	}
	a.res.Notes = append(a.res.Notes, fmt.Sprintf("%s: %s (%s); their files are all there", strings.Join(subs, ", "), what, why))
}
