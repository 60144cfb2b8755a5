package suggest

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/units"
	"golang.org/x/sys/unix"
)

// Action is what a suggestion asks for.
type Action string

const (
	// Persist: declare the path in environment.persistence (a persisted
	// directory or file).
	Persist Action = "persist"
	// Ignore: a cache or regenerated state; an --ignore rule for drift
	// check rather than a declaration.
	Ignore Action = "ignore"
	// DeclareOrRemove: data under the persistent storage path that no
	// declaration covers (stray): declare it again, or remove it yourself.
	// drift never deletes it.
	DeclareOrRemove Action = "declare-or-remove"
	// InUse: data under the persistent storage path that no declaration
	// covers but the running system or its configuration uses (mounted
	// now, named by an option: UsedBy). Keep it; declare it to make the
	// use survive a boot. Never a candidate for removal.
	InUse Action = "in-use"
)

// Confidence levels, from the score (Suggestion.Score).
const (
	High   = "high"   // score 60 and more
	Medium = "medium" // 30 to 59
	Low    = "low"    // below 30
)

// Attrs are the owner and mode written in impermanence's attrset form
// ({ directory = …; user = …; group = …; mode = …; }, or a file's
// parentDirectory) when they differ from the module's defaults.
type Attrs struct {
	User, Group, Mode string
}

// Suggestion is one row of drift suggest.
type Suggestion struct {
	// Rank is the 1-based position in the report.
	Rank   int
	Action Action
	// Path is the live path to declare or ignore (absolute inside the
	// audited root, raw bytes); for DeclareOrRemove, the path under the
	// persistent storage path ("/nix/persist/var/lib/old").
	Path string
	// Kind is persist.Dir or persist.File.
	Kind persist.Kind
	// Entries counts the lost paths (stray paths) the suggestion stands
	// for; Bytes sums the apparent sizes of the regular files among them;
	// Mtime is the newest modification time among them (ns since the
	// epoch).
	Entries, Bytes, Mtime int64
	// Boots is how many old roots were compared (at most --boots); Seen in
	// how many of them Path existed; Changed in how many of them something
	// of it differed from now (content, type, mode, owner, files added).
	Boots, Seen, Changed int
	// Score orders suggestions of the same action (Score documents the
	// weights); Confidence is its level.
	Score      int
	Confidence string
	// Fact is the knowledge base entry that matched, nil when none.
	Fact *Fact
	// Evidence lists findings beyond the counts (the journal directories
	// of several machine IDs), one sentence each, with no file name in them.
	Evidence []string
	// Holds are known paths inside Path that were merged into it (raw
	// bytes), with their facts.
	Holds []Held
	// StoragePath is the persistent storage path to declare it under;
	// for DeclareOrRemove, the one it lies in.
	StoragePath string
	// User is the users.<name> the path belongs to (it lies in that
	// user's home, Home); "" for a system path. Rel is Path relative to
	// Home then.
	User, Home, Rel string
	// Attrs, when set, asks for the attrset form (the live directory — a
	// file's parent — is not owned and moded as the module would make it).
	Attrs *Attrs
	// LivePath, for DeclareOrRemove, is the live path the stray data would
	// be declared as (Path without the storage path).
	LivePath string
	// Symlink, for DeclareOrRemove and InUse, says Path is a symlink
	// (listed, never followed); Kind is persist.File then.
	Symlink bool
	// UsedBy, for InUse, says what uses Path, one use each
	// (audit.Use.By).
	UsedBy []string
}

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
	LeftLint      = "drift lint would reject their declaration (an error): not suggested"
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

// Held is a known path inside a suggestion, and its fact.
type Held struct {
	Path string
	Fact *Fact
}

// Note is the suggestion's evidence in one line: the knowledge base's
// note, the evidence, what the history says. esc makes a file name
// printable (escape.Name).
func (s *Suggestion) Note(esc func(string) string) string {
	var parts []string
	if s.Fact != nil {
		parts = append(parts, s.Fact.What)
	}
	for _, h := range s.Holds {
		parts = append(parts, fmt.Sprintf("holds %s (%s): %s", esc(h.Path), h.Fact.Action, h.Fact.What))
	}
	parts = append(parts, s.Evidence...)
	if s.Action == InUse {
		if s.Symlink {
			parts = append(parts, "a symlink (not followed)")
		}
		parts = append(parts, "in use: "+esc(strings.Join(s.UsedBy, "; "))+"; on persistent storage already and used there: nothing to do (drift never removes it)")
	} else if s.Action == DeclareOrRemove {
		if s.Symlink {
			parts = append(parts, "a symlink (not followed)")
		}
		parts = append(parts, "under "+esc(s.StoragePath)+", declared by nothing and linked to by nothing live: declare "+esc(s.LivePath)+", or move it aside with drift prune (drift prune --undo puts it back)")
	} else if h := s.historyNote(); h != "" {
		parts = append(parts, h)
	}
	return strings.Join(parts, "; ")
}

func (s *Suggestion) historyNote() string {
	switch {
	case s.Boots == 0:
		return ""
	case s.Seen == 0:
		return fmt.Sprintf("in none of the last %s: new since the last boot", units.Plural(int64(s.Boots), "old root", "old roots"))
	case s.Changed == 0 && s.Seen == s.Boots:
		return fmt.Sprintf("identical in all %s: regenerated at every boot", units.Plural(int64(s.Boots), "old root", "old roots"))
	case s.Changed > 0:
		return fmt.Sprintf("changed in %d of the last %s: state lost at every boot", s.Changed, units.Plural(int64(s.Boots), "old root", "old roots"))
	}
	return fmt.Sprintf("in %d of the last %s, identical", s.Seen, units.Plural(int64(s.Boots), "old root", "old roots"))
}

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
	// Knowledge is the knowledge base (Builtin()).
	Knowledge *Knowledge
	// Homes maps users to their homes (--home); every /home/NAME is the
	// home of the user NAME too, and /root a home whose paths are declared
	// as system paths.
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
	self   int   // index in Audit.Lost of the target's own item, -1 if none
	items  []int // indexes in Audit.Lost
	fact   *Fact
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

// innerFact is a knowledge base fact about a path inside a suggestion.
type innerFact struct {
	path string
	fact *Fact
}

// Score weights (documented on Suggest and in the README).
const (
	scoreKnown       = 40 // the knowledge base says persist
	scoreChanged     = 30 // × the share of old roots where it changed
	scoreSeen        = 10 // × the share of old roots that hold it
	scoreBig         = 10 // 1 MiB or more
	scoreMedium      = 6  // 64 KiB or more
	scoreSome        = 3  // any bytes
	scoreDay         = 10 // modified in the last 24 hours
	scoreWeek        = 5  // modified in the last 7 days
	scoreJournalIDs  = 30 // journal directories of several machine IDs: the ID changes at every boot
	confidenceHigh   = 60
	confidenceMedium = 30
)

// Suggest weighs the unpersisted paths of in.Audit (the lost paths covered
// by no declaration) and returns the suggestions: Persist first, then
// Ignore, each by score (highest first), then by path. Declared-unbacked,
// shadowed, unmounted and ignored paths are drift check's to report, and
// so is a persistent storage path lying on the ephemeral root; links into
// /nix/store in a home are left out (home-manager's activation makes them
// again).
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
// where it changed; +10 × the share that hold it; +10 for 1 MiB or more
// (+6 for 64 KiB, +3 for anything); +10 when modified in the last day (+5
// in the week); +30 for /etc/machine-id when journal
// directories of several machine IDs lie in /var/log/journal (the ID is
// made anew at every boot). Confidence: high from 60, medium from 30. A path identical in every
// old root compared (at least one) that the knowledge base does not know
// is regenerated at every boot: an Ignore suggestion, as are the knowledge
// base's caches.
//
// The unpersisted paths no suggestion stands for are counted in the Left
// returned, by reason, in report order: symlinks into a persistent
// storage path (Storages of the declarations and in.StoragePath: the
// user's own persistence), paths in an unmounted storage path, home-
// manager's links, homes and containers themselves, and directories on
// the way to suggested paths.
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
	homes := homeUsers(in.Homes)
	groups := map[string]*group{}
	var order []string
	// Each item's group is noted (its index in made, -1 for none) and the
	// groups' item lists filled afterwards, each its exact part of one
	// array: a million paths, not a million appends.
	var made []*group
	of := make([]int32, len(a.Lost))
	total := 0
	storages := Storages(a)
	linkable := Storages(a, in.StoragePath)
	for i, it := range a.Lost {
		of[i] = -1
		if it.Category != diff.Unpersisted {
			continue
		}
		if slices.ContainsFunc(storages, func(sp string) bool { return pathx.HasPrefix(it.Path, sp) }) {
			left.add(LeftStorage, it.Path) // in persistent storage already (not mounted: drift check's to report)
			continue
		}
		if _, ok := intoStorage(it, linkable); ok {
			left.add(LeftLinked, it.Path)
			continue
		}
		if dynamicUserLink(it) {
			left.add(LeftDynamic, it.Path)
			continue
		}
		g, ok := rollUpValue(in.Knowledge, homes, it.Path, idx)
		switch {
		case !ok:
			left.add(LeftContainer, it.Path)
			continue
		case in.unpersistable(g.target):
			left.add(LeftNotHere, it.Path)
			continue
		case g.target == it.Path && it.Mode&unix.S_IFMT == unix.S_IFLNK:
			left.add(LeftSymlink, it.Path)
			continue
		}
		have := groups[g.target]
		if have == nil {
			have = &group{}
			*have = g
			have.self = -1
			if g.target == it.Path {
				have.self = i
			} else if j, ok := idx[g.target]; ok {
				have.self = j
			}
			groups[g.target] = have
			order = append(order, g.target)
			have.at = int32(len(made))
			made = append(made, have)
		}
		if g.home != "" && it.Mode&unix.S_IFMT == unix.S_IFLNK && diff.HomeManagerTarget(it.Target) {
			have.generated++ // home-manager's: made again by its activation, not state
			have.genPaths = append(have.genPaths, it.Path)
			continue
		}
		of[i] = have.at
		have.count++
		total++
	}
	all := make([]int, 0, total)
	for _, g := range made {
		g.items = all[len(all) : len(all) : len(all)+g.count] // appending to it copies
		all = all[:len(all)+g.count]
	}
	for i, at := range of {
		if at >= 0 {
			g := made[at]
			g.items = append(g.items, i)
		}
	}
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

// build turns a group into a suggestion: counts, history, score.
func (in *Input) build(g *group) Suggestion {
	a := in.Audit
	s := Suggestion{Path: g.target, Kind: persist.File, Fact: g.fact, StoragePath: in.StoragePath, Boots: len(in.Old)}
	if g.self >= 0 && a.Lost[g.self].IsDir() {
		s.Kind = persist.Dir
	} else if g.self < 0 {
		s.Kind = persist.Dir // below it only: a directory
	}
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
			if i < len(o.Hist) && (o.Hist[i] == diff.HistoryChanged || o.Hist[i] == diff.HistoryNew) {
				s.Changed++
				break
			}
		}
	}
	switch {
	case g.fact != nil && g.fact.Action == "ignore":
		s.Action = Ignore
	case g.fact != nil:
		s.Action = Persist
		s.Score += scoreKnown
	case s.Boots > 0 && s.Seen == s.Boots && s.Changed == 0:
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
	if s.Boots > 0 {
		s.Score += scoreChanged * s.Changed / s.Boots
		s.Score += scoreSeen * s.Seen / s.Boots
	}
	switch {
	case s.Bytes >= 1<<20:
		s.Score += scoreBig
	case s.Bytes >= 64<<10:
		s.Score += scoreMedium
	case s.Bytes > 0:
		s.Score += scoreSome
	}
	if !in.Now.IsZero() && s.Mtime > 0 {
		switch age := in.Now.Sub(time.Unix(0, s.Mtime)); {
		case age < 24*time.Hour:
			s.Score += scoreDay
		case age < 7*24*time.Hour:
			s.Score += scoreWeek
		}
	}
	if g.home != "" {
		s.User, s.Home = g.user, g.home
		s.Rel = strings.TrimPrefix(g.target, g.home+"/")
	}
	if s.Action == Persist {
		s.Attrs = in.attrs(&s)
	}
	return s
}

// attrs reads the owner and mode of the live directory (a file's parent)
// and returns them when they are not the module's defaults: root:root 0755
// for a system path, the home's owner and group with 0755 in a home. For a
// directory the knowledge base names with an owner or mode (Fact.User,
// Group, Mode: /var/lib/private/* 0700 root, a DynamicUser service's), the
// fact's win over the live directory's — the live owner of a DynamicUser
// directory is a user allocated at each start, which no declaration can
// name. A directory that cannot be read gets the knowledge base's alone.
func (in *Input) attrs(s *Suggestion) *Attrs {
	a := in.liveAttrs(s)
	f := s.Fact
	if f == nil || s.Kind != persist.Dir || f.User == "" && f.Group == "" && f.Mode == "" {
		return a
	}
	if a == nil {
		if _, err := diff.StatIn(in.Root, s.Path); err != nil {
			return &Attrs{User: f.User, Group: f.Group, Mode: f.Mode}
		}
		a = &Attrs{User: "root", Group: "root", Mode: "0755"}
		if s.Home != "" {
			if hs, err := diff.StatIn(in.Root, s.Home); err == nil {
				a.User, a.Group = in.name(in.IDs.Users, hs.Uid), in.name(in.IDs.Groups, hs.Gid)
			}
		}
	}
	for _, kv := range []struct {
		to   *string
		from string
	}{{&a.User, f.User}, {&a.Group, f.Group}, {&a.Mode, f.Mode}} {
		if kv.from != "" {
			*kv.to = kv.from
		}
	}
	return a
}

// liveAttrs is attrs from the live directory alone (nil: the module's
// defaults, or unreadable and no fact to fall back on).
func (in *Input) liveAttrs(s *Suggestion) *Attrs {
	dir := s.Path
	if s.Kind == persist.File {
		dir = path.Dir(s.Path)
		if s.Home != "" && dir == s.Home {
			return nil // the home itself: the module makes it
		}
	}
	wantUID, wantGID := uint32(0), uint32(0)
	if s.Home != "" {
		hs, err := diff.StatIn(in.Root, s.Home)
		if err != nil {
			return nil
		}
		wantUID, wantGID = hs.Uid, hs.Gid
	}
	st, err := diff.StatIn(in.Root, dir)
	if err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		if f := s.Fact; f != nil && s.Kind == persist.Dir && (f.User != "" || f.Group != "" || f.Mode != "") {
			return &Attrs{User: f.User, Group: f.Group, Mode: f.Mode}
		}
		return nil
	}
	mode := st.Mode & 0o7777
	if st.Uid == wantUID && st.Gid == wantGID && mode == 0o755 {
		return nil
	}
	return &Attrs{User: in.name(in.IDs.Users, st.Uid), Group: in.name(in.IDs.Groups, st.Gid), Mode: fmt.Sprintf("%04o", mode)}
}

func (in *Input) name(names map[uint32]string, id uint32) string {
	if n, ok := names[id]; ok {
		return n
	}
	return fmt.Sprint(id)
}
