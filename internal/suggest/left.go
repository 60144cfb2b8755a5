package suggest

import (
	"slices"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/pathx"
)

// Left counts the unpersisted paths Suggest makes no suggestion for, for
// one reason: with the suggestions, every unpersisted path drift check
// reports is accounted for (the Entries of the suggestions plus the
// Counts of the Left add up to them).
type Left struct {
	// Reason says why no suggestion stands for them, in one sentence.
	Reason string
	// Count is how many unpersisted paths; Examples the first few of them
	// by path (at most maxExamples, raw bytes).
	Count    int
	Examples []string
	// Paths are all of them (raw bytes, for drift rehearse's per-path
	// reason); not printed.
	Paths []string `json:"-"`
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
)

var leftOrder = []string{LeftLinked, LeftStorage, LeftGenerated, LeftDynamic, LeftNotHere, LeftSymlink, LeftContainer, LeftOnTheWay, LeftLint}

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

func (l leftCounter) list() []Left {
	var out []Left
	for _, r := range leftOrder {
		if x := l[r]; x != nil {
			slices.SortFunc(x.Examples, pathx.Compare)
			x.Examples = x.Examples[:min(len(x.Examples), maxExamples)]
			out = append(out, *x)
		}
	}
	return out
}

// addLeft adds d's count and examples to the Left of reason in left, in
// leftOrder.
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
	return lc.list()
}
