package rehearse

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nix-drift/drift/internal/adopt"
	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/suggest"
)

// DefaultMinBoots is the number of shutdown reports the verdict needs at
// least (--min-boots).
const DefaultMinBoots = 3

// What a path is across the reports (Path.Kind).
const (
	// KindState: it changed between two boots (type, mode, size, entries
	// or mtime differ between consecutive reports, or the report's history
	// against the previous root says changed): state a wipe destroys.
	KindState = "state"
	// KindIdentical: in two reports or more, and identical whenever
	// compared: it came back (or stayed) the same.
	KindIdentical = "identical"
	// KindOnce: in one report only, or never compared.
	KindOnce = "once"
)

// What the path is to the machine now (Path.Now), besides drift check's
// category for it (or for its nearest lost ancestor: unpersisted,
// declared-unbacked, shadowed, covered, unmounted, ignored), which is Now
// whenever drift check reports it lost now.
const (
	NowDeclared = "declared" // not lost now, and a declaration covers it
	NowNotLost  = "not-lost" // not lost now (on persistent storage, another filesystem, or made again at boot), and no declaration covers it
	NowGone     = "gone"     // no longer on the live root
)

// The steps a path needs before the wipe (Path.Step): each is one the
// command it names accepts on the machine now.
const (
	// StepPersist and StepIgnore: drift suggest's persist or ignore
	// suggestion stands for it (Path.Target).
	StepPersist = "persist"
	StepIgnore  = "ignore"
	// StepAdopt: drift adopt TARGET accepts it as it is (a dry run of
	// adopt plans it without refusing).
	StepAdopt = "adopt"
	// StepDecide: drift adopt refuses it because its persistent copy
	// holds objects with other content: drift adopt --prefer live or
	// --prefer persistent decides which side wins.
	StepDecide = "decide"
	// StepRedeclare: unmounted (on persistent storage, shown through a
	// bind mount no declaration makes any more): declare it again, or
	// ignore it.
	StepRedeclare = "redeclare"
	// StepLeft: lost, and neither drift suggest nor drift adopt has a step
	// for it; Path.Why says why (drift suggest's reason, or adopt's
	// refusal).
	StepLeft = "left"
)

// Options are drift rehearse's choices besides the model.
type Options struct {
	// Dir is where the shutdown reports are read from (--reports: Read);
	// "" is where the shutdown audit keeps them, var/lib/drift/shutdown in
	// the main persistent storage path of the model's system
	// (ReadDefault: none there yet is no error). Boots is how many of the
	// newest are read.
	Dir   string
	Boots int
	// MinBoots is how many reports the verdict needs (DefaultMinBoots
	// when 0).
	MinBoots int
	// Suggest are drift suggest's options (what is suggested now).
	Suggest suggest.Options
}

// ReportsError is Run's error reading the shutdown reports.
type ReportsError struct{ Err error }

func (e *ReportsError) Error() string { return e.Err.Error() }
func (e *ReportsError) Unwrap() error { return e.Err }

// Path is one path lost in at least one report.
type Path struct {
	Path string `json:"path"`
	// Lost counts the reports in which it would have been lost; Compared
	// the boots it could be compared across, Changed those in which it
	// changed.
	Lost     int `json:"lost"`
	Compared int `json:"compared"`
	Changed  int `json:"changed"`
	// Kind is KindState, KindIdentical or KindOnce; Now what it is to the
	// machine now (Now* constants); InLatest says the latest report holds
	// it (what the wipe would destroy at the next boot).
	Kind     string `json:"kind"`
	Now      string `json:"now"`
	InLatest bool   `json:"inLatest"`
	// Bytes is its size in the latest report holding it.
	Bytes int64 `json:"bytes"`
	// Step is what it needs before the wipe (Step*), "" when nothing;
	// Suggestion the path of drift suggest's first suggestion standing
	// for it; Targets the paths the step names (drift suggest's
	// suggestions at, above or below it, or the lost path drift check
	// reports it under; Path when empty); Why, for StepLeft and
	// StepDecide, why in one sentence.
	Step       string   `json:"step,omitempty"`
	Suggestion string   `json:"suggestion,omitempty"`
	Targets    []string `json:"targets,omitempty"`
	Why        string   `json:"why,omitempty"`
	// copyNewer, for StepDecide, says the persistent copy's object is the
	// newer one (diff.Item.CopyNewer): Next names it, --prefer persistent
	// first.
	copyNewer bool
	// copyBack, for StepDecide, says the persistent copy holds another
	// object there and lacks nothing drift adopt --prefer persistent would
	// copy (diff.KeepCopyBack): Next offers only --prefer live.
	copyBack bool
	// lies, for StepAdopt, says where the path's data lies now (liesOf):
	// the Next line's adopt step names those places.
	lies lies
}

// Result is the rehearsal: the paths and the verdict.
type Result struct {
	// Reports names the reports read, oldest first; Unread the newer
	// ones that could not be read; MinBoots is the verdict's minimum.
	Reports  []string `json:"reports"`
	Unread   []string `json:"unread,omitempty"`
	MinBoots int      `json:"minBoots"`
	Paths    []Path   `json:"paths"`
	// Ready is the verdict (Verdict's rules); Reason says why in one
	// sentence; Persist and Ignore list drift suggest's suggestions
	// standing for paths lost in the latest report; Adopt, Decide and
	// Redeclare the targets of those steps; Left the paths left to the
	// user, each with its reason; Next is the exact next step.
	Ready     bool     `json:"ready"`
	Reason    string   `json:"reason"`
	Persist   []string `json:"persist"`
	Ignore    []string `json:"ignore"`
	Adopt     []string `json:"adopt"`
	Decide    []string `json:"decide"`
	Redeclare []string `json:"redeclare"`
	Left      []Left   `json:"left"`
	Next      string   `json:"next"`
	// Warnings are reading the reports' (Reports.Warnings), then drift
	// suggest's (the audit's among them).
	Warnings []diff.Warning `json:"-"`
}

// Left is a path lost in the latest report that no command has a step
// for, and why (drift suggest's reason, or drift adopt's refusal).
type Left struct {
	Path string `json:"path"`
	Why  string `json:"why"`
}

// Run weighs o.Reports against the model m and drift suggest's
// suggestions on it (suggest.Run), then gives the verdict. Errors:
// suggest.Run's.
func Run(ctx context.Context, m *audit.Model, o Options) (*Result, error) {
	dir, read := o.Dir, Read
	if dir == "" {
		dir, read = filepath.Join(m.Root, suggest.MainStoragePath(m.Decls.Entries), "var/lib/drift/shutdown"), ReadDefault
	}
	reports, err := read(dir, o.Boots)
	if err != nil {
		return nil, &ReportsError{Err: err}
	}
	sug, err := suggest.Run(ctx, m, o.Suggest)
	if err != nil {
		return nil, err
	}
	live := map[string]*diff.Item{}
	for _, it := range m.Audit.Lost {
		live[it.Path] = it
	}
	r := &Result{MinBoots: o.MinBoots, Unread: reports.Newer, Warnings: append(reports.Warnings, sug.Warnings...)}
	if r.MinBoots <= 0 {
		r.MinBoots = DefaultMinBoots
	}
	for _, rep := range reports.Read {
		r.Reports = append(r.Reports, rep.Name)
	}
	r.Paths = weigh(reports.Read)
	c := &classifier{ctx: ctx, m: m, live: live, sug: sug, adopt: map[string][2]string{}}
	for i := range r.Paths {
		c.classify(&r.Paths[i])
	}
	verdict(r, m.Root, m.Audit.Args)
	return r, nil
}

// lostCategory says whether a report's category is lost at the wipe and
// not ignored.
func lostCategory(c string) bool {
	return c != "" && c != diff.Ignored.String() && c != diff.Recreated.String() && c != diff.Copied.String()
}

// weigh counts, per path lost in a report, the reports losing it and the
// changes between consecutive reports.
func weigh(reports []Report) []Path {
	by := map[string]*Path{}
	prev := map[string]*Row{}
	for ri, rep := range reports {
		cur := map[string]*Row{}
		for i := range rep.Items {
			row := &rep.Items[i]
			if !lostCategory(row.Category) {
				continue
			}
			cur[row.Path] = row
			p := by[row.Path]
			if p == nil {
				p = &Path{Path: row.Path}
				by[row.Path] = p
			}
			p.Lost++
			p.Bytes = row.Bytes
			p.InLatest = ri == len(reports)-1
			// "mixed": a directory whose entries differ in history, some
			// changed or new since the previous boot: it changed.
			changed := row.History == "changed" || row.History == "mixed"
			compared := changed || row.History == "same"
			if old, ok := prev[row.Path]; ok {
				compared = true
				changed = changed || old.fingerprint() != row.fingerprint()
			}
			if compared {
				p.Compared++
			}
			if changed {
				p.Changed++
			}
		}
		prev = cur
	}
	out := make([]Path, 0, len(by))
	for _, p := range by {
		switch {
		case p.Changed > 0:
			p.Kind = KindState
		case p.Compared > 0:
			p.Kind = KindIdentical
		default:
			p.Kind = KindOnce
		}
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b Path) int { return pathx.Compare(a.Path, b.Path) })
	return out
}

// verdict applies the rules (README, drift rehearse --help):
//  1. fewer than MinBoots reports, or the newest report could not be
//     read: not ready (keep rehearsing);
//  2. a path lost in the latest report that needs a step: not ready;
//  3. otherwise ready: turn the wipe on.
//
// The drift adopt commands in Next carry root and args (diff.Audit.Args:
// the declarations and mount table this run was given), so they run as
// printed (adopt.Command).
func verdict(r *Result, root string, args []string) {
	seen := map[string]bool{}
	var newer, back []string
	for _, p := range r.Paths {
		if p.Step == StepDecide && p.copyBack && len(p.Targets) > 0 && !slices.Contains(back, p.Targets[0]) {
			back = append(back, p.Targets[0])
		}
		if p.Step == StepDecide && p.copyNewer && len(p.Targets) > 0 && !slices.Contains(newer, p.Targets[0]) {
			newer = append(newer, p.Targets[0])
		}
		if p.Step == "" {
			continue
		}
		if p.Step == StepLeft {
			r.Left = append(r.Left, Left{Path: p.Path, Why: p.Why})
			continue
		}
		targets := p.Targets
		if len(targets) == 0 {
			targets = []string{p.Path}
		}
		for _, t := range targets {
			if seen[p.Step+"\x00"+t] {
				continue
			}
			seen[p.Step+"\x00"+t] = true
			switch p.Step {
			case StepPersist:
				r.Persist = append(r.Persist, t)
			case StepIgnore:
				r.Ignore = append(r.Ignore, t)
			case StepAdopt:
				r.Adopt = append(r.Adopt, t)
			case StepDecide:
				r.Decide = append(r.Decide, t)
			case StepRedeclare:
				r.Redeclare = append(r.Redeclare, t)
			}
		}
	}
	n := len(r.Persist) + len(r.Ignore) + len(r.Adopt) + len(r.Decide) + len(r.Redeclare) + len(r.Left)
	switch {
	case len(r.Reports) < r.MinBoots:
		r.Reason = fmt.Sprintf("%d shutdown reports, fewer than the %d the verdict needs", len(r.Reports), r.MinBoots)
	case len(r.Unread) > 0:
		latest := "none"
		if len(r.Reports) > 0 {
			latest = r.Reports[len(r.Reports)-1]
		}
		r.Reason = fmt.Sprintf("the newest shutdown report %s could not be read, and the latest read (%s) is older: a verdict on it would not be about the last boot", r.Unread[len(r.Unread)-1], latest)
	case n > 0:
		r.Reason = fmt.Sprintf("the wipe after the latest shutdown would destroy %d undecided paths", n)
	default:
		r.Ready = true
		r.Reason = fmt.Sprintf("in the latest of %d shutdown reports, everything the wipe would destroy is declared, ignored or gone", len(r.Reports))
	}
	var steps []string
	var nix, odd []string
	var adoptLies lies
	for _, p := range r.Paths {
		if p.Step == StepAdopt {
			adoptLies |= p.lies
		}
	}
	for _, p := range r.Persist {
		if _, ok := escape.Nix(p); ok {
			nix = append(nix, p)
		} else {
			odd = append(odd, escape.Name(p))
		}
	}
	if len(nix) > 0 {
		steps = append(steps, "persist "+strings.Join(nix, ", ")+" (drift suggest --format nix writes the declarations)")
	}
	if len(odd) > 0 {
		steps = append(steps, strings.Join(odd, ", ")+" cannot be declared as it is (its name holds a byte no Nix string writes printably): rename it, or ignore it")
	}
	if len(r.Ignore) > 0 {
		steps = append(steps, "ignore "+strings.Join(r.Ignore, ", ")+" (drift check --ignore, in services.drift.extraArgs)")
	}
	if len(r.Adopt) > 0 {
		steps = append(steps, adopt.Command(root, args, adopt.PreferNone, r.Adopt...)+" (declared, "+adoptLies.String()+")")
	}
	// The newer side first for each path: those whose copy is newer
	// apart from the others (never --prefer persistent first for all).
	choose := slices.DeleteFunc(slices.Clone(r.Decide), func(t string) bool { return slices.Contains(back, t) })
	if n := within(choose, newer); len(n) > 0 {
		steps = append(steps, "its persistent copy differs at "+strings.Join(n, ", ")+": "+adopt.ChoiceNewer(root, args, n, n...))
	}
	if rest := slices.DeleteFunc(choose, func(t string) bool { return slices.Contains(newer, t) }); len(rest) > 0 {
		steps = append(steps, "its persistent copy differs at "+strings.Join(rest, ", ")+": "+adopt.Choice(root, args, rest...))
	}
	if back = slices.DeleteFunc(back, func(t string) bool { return !slices.Contains(r.Decide, t) }); len(back) > 0 {
		steps = append(steps, copyBackStep(root, args, back, newer))
	}
	if len(r.Redeclare) > 0 {
		steps = append(steps, "declare again or ignore "+strings.Join(r.Redeclare, ", ")+" (unmounted: its data stays in persistent storage, out of view after the next boot)")
	}
	for _, l := range r.Left {
		steps = append(steps, "left to you: "+l.Path+" ("+l.Why+")")
	}
	switch {
	case r.Ready:
		r.Next = "set services.drift.wipe.rehearse = false and rebuild: the wipe runs from the next boot"
	case len(steps) > 0:
		r.Next = strings.Join(steps, "; ") + "; then rebuild, keep rehearsing, and run drift rehearse again after the next shutdown"
	case len(r.Unread) > 0:
		r.Next = "keep rehearsing, and run drift rehearse again after the next shutdown (its report replaces the unreadable one as the newest)"
	default:
		r.Next = fmt.Sprintf("keep rehearsing: %d more shutdowns, then run drift rehearse again", r.MinBoots-len(r.Reports))
	}
	if !r.Ready && len(steps) > 0 && len(r.Reports) < r.MinBoots {
		r.Next = strings.TrimSuffix(r.Next, "after the next shutdown") + fmt.Sprintf("after %d more shutdowns", r.MinBoots-len(r.Reports))
	}
}

// copyBackStep is the Next line's step for the decided paths back whose
// persistent copy holds another object and lacks nothing
// (diff.KeepCopyBack): the copy's comes back at the next boot, and only
// drift adopt --prefer live changes anything, naming the copies that are
// newer (newer).
func copyBackStep(root string, args, back, newer []string) string {
	s := "the persistent copy of " + strings.Join(back, ", ") + " differs and comes back at the next boot, the live version going with the wiped filesystem (into the old root where old roots are kept)"
	if n := within(newer, back); len(n) > 0 {
		s += "; the persistent copy is NEWER at " + strings.Join(n, ", ")
	}
	return s + "; to keep the live version instead: " + adopt.Command(root, args, adopt.PreferLive, back...)
}

// within is the paths of ps that are in of, in order.
func within(ps, of []string) []string {
	var out []string
	for _, p := range ps {
		if slices.Contains(of, p) {
			out = append(out, p)
		}
	}
	return out
}
