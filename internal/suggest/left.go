package suggest

import (
	"slices"
	"strings"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/pathx"
)

// Left counts the lost paths Suggest makes no suggestion for, for one
// reason: with the suggestions, every lost path drift check reports is
// accounted for (the Entries of the suggestions plus the Counts of the
// Left add up to them; ignored ones aside, which check hides too).
type Left struct {
	// Reason says why no suggestion stands for them, in one sentence.
	Reason string
	// Count is how many lost paths; Examples the first few of them
	// by path (at most maxExamples, raw bytes).
	Count    int
	Examples []string
	// Paths are all of them (raw bytes, for drift rehearse's per-path
	// reason); not printed.
	Paths []string `json:"-"`
	// Keep is what the model says keeps them (diff.Audit.Keep) when they
	// are not unpersisted; 0 for the unpersisted ones.
	Keep diff.Keep
	// Adopt, for diff.KeepAdopt, diff.KeepChoose and diff.KeepCopyBack, are the declared
	// paths (persist.Entry.Path) whose drift adopt keeps them, in the
	// order first met; empty otherwise.
	Adopt []string
	// Newer, for diff.KeepChoose and diff.KeepCopyBack, are the lost
	// paths whose persistent copy's object is the newer
	// (diff.Item.CopyNewer), in the order met: named on the line.
	Newer []string `json:"-"`
	// NewerAdopt, for diff.KeepChoose, are the paths of Adopt whose
	// persistent copy is newer somewhere below (diff.Audit.CopyNewerBelow,
	// in Newer): --prefer persistent is offered first for them alone.
	NewerAdopt []string `json:"-"`
	// ByHand, for diff.KeepShownDeleted, are the mounts whose root was
	// deleted since they were mounted that show them, each once, in the
	// order first met: what they show is kept only by a copy by hand.
	ByHand []ByHand
}

// ByHand is a mount whose root was deleted since it was mounted, shown
// at MountPoint, its root having lain at Copy (diff.DeletedMount.Source:
// the persistent copy the next boot mounts there); Dir when it shows a
// directory.
type ByHand struct {
	MountPoint, Copy string
	Dir              bool
}

// maxExamples is how many paths a Left names.
const maxExamples = 3

// Reasons of Left, in report order.
const (
	LeftLinked    = "symlinks into the persistent storage path, lost at the wipe (drift check lists them): " + diff.LinkIntoStorageWhy
	LeftStorage   = "in a persistent storage path that is not mounted: drift check reports them"
	LeftGenerated = "links into /nix/store in a home: home-manager's activation makes them again"
	LeftDynamic   = "links of DynamicUser services into /var/lib/private (or /var/cache, /var/log's): systemd makes them again at each start"
	LeftContainer = "homes and directories holding many applications' state, themselves: never suggested whole (what they hold is)"
	LeftOnTheWay  = "directories on the way to suggested paths, or holding only home-manager's links: made again with them"
	LeftNotHere   = "on an API filesystem (/dev, /proc, /sys, /run) or at, above or below the mount point of another filesystem (/boot): never declared (drift lint rejects it; the mount would hide or be hidden)"
	LeftSymlink   = "symlinks: impermanence keeps a file's contents (a bind mount follows the link), never a link itself; make the link at boot instead (systemd.tmpfiles.rules \"L+ PATH - - - - TARGET\", or home-manager)"
	LeftLint      = "drift lint would reject or warn about their declaration: not suggested"
	LeftEarlier   = "declared by an earlier module of drift suggest (a file named as --format nix names its module), which the declarations read do not include: not suggested again (imported beside it, the new module would declare them twice, which impermanence refuses); name it with --persist, and import it if nothing does"
)

var leftOrder = []string{LeftAdopt, LeftChoose, LeftCopyBack, LeftRefused, LeftRemounted, LeftBeneath, LeftUnmounted, LeftLinked, LeftStorage, LeftGenerated, LeftDynamic, LeftNotHere, LeftSymlink, LeftContainer, LeftOnTheWay, LeftLint, LeftEarlier}

// leftCounter collects Left by reason.
type leftCounter map[string]*Left

func (l leftCounter) add(reason, p string) {
	x := l[reason]
	if x == nil {
		x = &Left{Reason: reason}
		l[reason] = x
	}
	x.Count++
	x.Examples = append(x.Examples, p)
	x.Paths = append(x.Paths, p)
}

// list is the Left in leftOrder; a reason that goes on after one of
// leftOrder's (LeftRefused's, with drift adopt's refusal) takes its
// place, those of one place by reason.
func (l leftCounter) list() []Left {
	out := make([]Left, 0, len(l))
	for _, x := range l {
		slices.SortFunc(x.Examples, pathx.Compare)
		x.Examples = x.Examples[:min(len(x.Examples), maxExamples)]
		out = append(out, *x)
	}
	slices.SortFunc(out, func(x, y Left) int {
		if d := leftRank(x.Reason) - leftRank(y.Reason); d != 0 {
			return d
		}
		return strings.Compare(x.Reason, y.Reason)
	})
	return out
}

// leftRank is reason's place in leftOrder: its own, or that of the reason
// it goes on from ("REASON: more").
func leftRank(reason string) int {
	for i, r := range leftOrder {
		if reason == r || strings.HasPrefix(reason, r+": ") {
			return i
		}
	}
	return len(leftOrder)
}

// addLeft adds d's count, examples and paths to the Left of reason in
// left, in leftOrder.
func addLeft(left []Left, reason string, d Left) []Left {
	lc := leftCounter{}
	for i := range left {
		l := left[i]
		lc[l.Reason] = &l
	}
	x := lc[reason]
	if x == nil {
		x = &Left{Reason: reason}
		lc[reason] = x
	}
	x.Count += d.Count
	x.Examples = append(x.Examples, d.Examples...)
	x.Paths = append(x.Paths, d.Paths...)
	return lc.list()
}
