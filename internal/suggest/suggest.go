package suggest

import (
	"strings"
	"time"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/knowledge"
	"github.com/nix-drift/drift/internal/persist"
	"golang.org/x/sys/unix"
)

// RootHistory is one old root compared and the history of each lost item
// against it (diff.HistoryIn; Item.History for the previous root),
// parallel to Audit.Lost.
type RootHistory struct {
	Root btrfs.OldRoot
	Hist []diff.History
}

// Input is what Suggest weighs.
type Input struct {
	// Audit is drift check's result for Root.
	Audit *diff.Audit
	Root  string
	// Old are the old roots compared, newest first (at most --boots).
	Old []RootHistory
	// Knowledge is the knowledge base (knowledge.Builtin()).
	Knowledge *knowledge.Knowledge
	// Homes maps users to their homes (audit.Model.Homes: --home's and
	// the declarations'); every /home/NAME is the home of the user NAME
	// too, and /root a home whose paths are declared as system paths.
	Homes map[string]string
	// StoragePath is where new declarations go (the persistent storage
	// path of most declared paths, else /nix/persist).
	StoragePath string
	// Now is the time recency is counted to.
	Now time.Time
	// IDs names owners for the attrset form (diff.ReadIDNames).
	IDs diff.IDNames
	// Unpersistable, when set, says why a live path must never be declared
	// ("" when it may be: audit.Model.Unpersistable); such paths are left
	// out (LeftNotHere).
	Unpersistable func(p string) string
	notHere       map[string]bool // unpersistable's answers
}

// group is a suggestion being collected.
type group struct {
	target string
	self   int     // index in Audit.Lost of the target's own item, -1 if none
	items  []int32 // indexes in Audit.Lost
	fact   *knowledge.Fact
	home   string
	user   string
	inner  []innerFact // known paths inside, merged into this group (nest)
	// generated counts the links into /nix/store left out of items.
	generated int
	// genPaths are those links.
	genPaths []string
	// at is the group's index in Suggest's list of groups, count the
	// number of its items (while they are collected).
	at    int32
	count int
}

// placeIn gives s, the suggestion of g's target, the home it lies in
// (rollUpValue's): its user and its path relative to the home; nothing for
// a system path.
func (g *group) placeIn(s *Suggestion) {
	if g.home != "" {
		s.User, s.Home = g.user, g.home
		s.Rel = strings.TrimPrefix(g.target, g.home+"/")
	}
}

// innerFact is a knowledge base fact about a path inside a suggestion.
type innerFact struct {
	path string
	fact *knowledge.Fact
}

// Score weights (documented on Suggest and in the README).
const (
	scoreKnown       = 40 // the knowledge base says persist
	scoreChanged     = 30 // × the share of old roots where it differed from now
	scoreSeen        = 10 // × the share of old roots that hold it
	scoreBig         = 10 // 1 MiB or more
	scoreMedium      = 6  // 64 KiB or more
	scoreSome        = 3  // any bytes
	scoreDay         = 10 // modified in the last 24 hours
	scoreWeek        = 5  // modified in the last 7 days
	scoreJournalIDs  = 30 // journal directories of several machine IDs: the ID changes at every boot
	scoreSecret      = 60 // a boot secret (diff.Audit.SecretsAt): high, as drift lint's lost-secret is an error
	confidenceHigh   = 60
	confidenceMedium = 30
)

// Suggest weighs the unpersisted paths of in.Audit (the lost paths covered
// by no declaration), and what the last wipe took that no declaration
// covers (addVanished), and returns the suggestions: Persist first, then
// Ignore, each by score (highest first), then by path. The other lost
// paths (declared-unbacked, covered, shadowed, unmounted), which a new
// declaration would not keep, are left to the user by what the model says
// keeps them (diff.Audit.Keep: drift adopt of their declaration, or what
// to do by hand); ignored paths are not weighed (drift check hides them
// too); links into /nix/store in a home are left out (home-manager's
// activation makes them again).
//
// Paths are rolled up to the application's own root: the knowledge base's
// path when one matches (Knowledge.Match), else the first component below
// the deepest of the directories that hold many applications' state (/,
// /etc, /var, /var/lib, /var/lib/private, /var/lib/systemd, /var/db,
// /var/spool, /var/cache, /opt, /srv, /usr/local and its share and lib,
// /home, /mnt, /media; in a home: the home itself, .config, .local,
// .local/share, .local/state, .cache, .var/app) — never one of those
// directories whole. A single file stays a file entry. A rolled-up path
// that drift check does not list as lost (a parent re-made at boot for a
// mount point or a declared path) is never suggested: the path one level
// closer to the lost leaf is.
//
// Score: +40 when the knowledge base says persist (for the path, or a path
// inside it that nest merged); +30 × the share of the old roots compared
// where it differed from now; +10 × the share that hold it; +10 for 1 MiB or more
// (+6 for 64 KiB, +3 for anything); +10 when modified in the last day (+5
// in the week); +30 for /etc/machine-id when journal
// directories of several machine IDs lie in /var/log/journal (the ID is
// made anew at every boot); +60 for a boot secret (a password file or a
// key the configuration names, diff.Audit.SecretsAt: drift lint's
// lost-secret error). Confidence: high from 60, medium from 30. A path
// the model calls made again at every boot with the same bytes (every
// lost path it stands for diff.RegenYes: identical in every old root
// compared, not a copy of the previous root's, not known state: the rule
// drift check's --ignore advice reads too) is an Ignore suggestion, as
// are the knowledge base's caches.
//
// The lost paths no suggestion stands for are counted in the Left
// returned, by reason, in report order: those a declaration would not
// keep (above), symlinks into a persistent storage path (Storages of the
// declarations and in.StoragePath: the user's own persistence), paths in
// an unmounted storage path, home-manager's links, homes and containers
// themselves, and directories on the way to suggested paths. Every lost
// path drift check reports (not ignored) is in exactly one suggestion
// (Suggestion.Lost) or one Left.
func Suggest(in Input) ([]Suggestion, []Left) {
	a := in.Audit
	left := leftCounter{}
	// The unpersisted directories by path: a target is one of them, or the
	// lost path itself (rollUp). Files are not indexed: a million paths
	// would cost more than the audit's own items.
	n := 0
	for _, it := range a.Lost {
		if it.Category == diff.Unpersisted && it.IsDir() {
			n++
		}
	}
	idx := make(map[string]int, n)
	for i, it := range a.Lost {
		if it.Category == diff.Unpersisted && it.IsDir() {
			idx[it.Path] = i
		}
	}
	linkable := Storages(a, in.StoragePath)
	gr := &grouping{in: &in, idx: idx, homes: homeUsers(in.Homes), storages: Storages(a), linkable: linkable,
		facts: factShapes(in.Knowledge)}
	groups, order := gr.collect(left)
	for _, t := range order {
		for _, p := range groups[t].genPaths {
			left.add(LeftGenerated, p)
		}
	}
	order = nest(a, groups, order, left)
	var out []Suggestion
	for _, t := range order {
		out = append(out, in.build(groups[t]))
	}
	in.machineID(out, linkable)
	out = in.addVanished(out)
	for i := range out {
		out[i].Confidence = confidence(out[i].Score)
	}
	SortSuggestions(out)
	return out, left.list()
}

// unpersistable reports whether Unpersistable names a reason for p,
// remembering the answer (it is asked for every lost path, of a few
// targets).
func (in *Input) unpersistable(p string) bool {
	if in.Unpersistable == nil {
		return false
	}
	if in.notHere == nil {
		in.notHere = map[string]bool{}
	}
	bad, ok := in.notHere[p]
	if !ok {
		bad = in.Unpersistable(p) != ""
		in.notHere[p] = bad
	}
	return bad
}

// groupRegen is the model's diff.Regen for the lost paths of g: RegenYes
// when the group's own path and every one of them is, else the first
// other answer (RegenUnknown for a group without a path of its own).
func groupRegen(a *diff.Audit, g *group) diff.Regen {
	if g.self < 0 || a.Lost[g.self].Regen != diff.RegenYes {
		if g.self >= 0 {
			return a.Lost[g.self].Regen
		}
		return diff.RegenUnknown
	}
	for _, i := range g.items {
		if r := a.Lost[i].Regen; r != diff.RegenYes {
			return r
		}
	}
	return diff.RegenYes
}

// build turns a group into a suggestion: counts, history, score.
func (in *Input) build(g *group) Suggestion {
	a := in.Audit
	s := Suggestion{Path: g.target, Kind: persist.File, Fact: g.fact, StoragePath: in.StoragePath, Boots: len(in.Old)}
	if g.self >= 0 && a.Lost[g.self].IsDir() {
		s.Kind = persist.Dir
	} else if g.self < 0 {
		s.Kind = persist.Dir // below it only: a directory
	}
	s.items = g.items
	for _, i := range g.items {
		it := a.Lost[i]
		s.Entries++
		if it.Mode&unix.S_IFMT == unix.S_IFREG {
			s.Bytes += it.Size
		}
		s.Mtime = max(s.Mtime, it.Mtime)
	}
	for _, o := range in.Old {
		present := false
		if g.self >= 0 && g.self < len(o.Hist) {
			h := o.Hist[g.self]
			present = h == diff.HistoryChanged || h == diff.HistorySame
		}
		if !present {
			continue
		}
		s.Seen++
		for _, i := range g.items {
			if int(i) < len(o.Hist) && (o.Hist[i] == diff.HistoryChanged || o.Hist[i] == diff.HistoryNew) {
				s.Changed++
				break
			}
		}
	}
	s.Regen = groupRegen(a, g)
	s.Secrets = a.SecretsAt(g.target)
	switch {
	case len(s.Secrets) > 0:
		// A boot secret (a password file, a key): persisted whatever the
		// history or the knowledge base say, ranked first (SortSuggestions)
		// and high: drift lint calls losing it an error.
		s.Action = Persist
		s.Score += scoreSecret
	case g.fact != nil && g.fact.Action == "ignore":
		s.Action = Ignore
	case g.fact != nil:
		s.Action = Persist
		s.Score += scoreKnown
	case s.Regen == diff.RegenYes:
		// The model's one rule (diff.Regen): what drift check says
		// --ignore of, and nothing else.
		s.Action = Ignore
	default:
		s.Action = Persist
	}
	known := g.fact != nil && g.fact.Action == "persist"
	for _, f := range g.inner {
		s.Holds = append(s.Holds, Held{Path: f.path, Fact: f.fact})
		if f.fact.Action == "persist" && !known && s.Action == Persist {
			known = true
			s.Score += scoreKnown
		}
	}
	s.Score += evidence(&s, in.Now)
	g.placeIn(&s)
	if s.Action == Persist {
		s.Attrs = in.attrs(&s)
	}
	return s
}
