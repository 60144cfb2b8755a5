package rehearse

import (
	"context"
	"errors"
	"path"

	"github.com/nix-drift/drift/internal/adopt"
	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/restore"
	"github.com/nix-drift/drift/internal/suggest"
)

// classifier gives each path its Now and Step from the one model drift
// check, drift suggest and drift adopt use: drift check's lost items by
// path (live), drift suggest's result (sug), and a dry run of drift adopt
// (adopt memoizes it by lost path: step, why).
type classifier struct {
	ctx   context.Context
	m     *audit.Model
	live  map[string]*diff.Item
	sug   *suggest.Result
	adopt map[string][2]string
}

// classify sets p.Now (drift check's category for p or its nearest lost
// ancestor; else declared, not-lost or gone) and, when the latest report
// holds p, p.Step.
func (c *classifier) classify(p *Path) {
	q, it, lost := c.lostAt(p.Path)
	if !lost {
		p.Now = c.notLost(p.Path)
		return
	}
	cat := it.Category
	p.Now = cat.String()
	if !p.InLatest {
		return
	}
	switch cat {
	case diff.Ignored:
	case diff.Unpersisted:
		c.suggested(p)
	case diff.Unmounted:
		p.Step, p.Targets = StepRedeclare, []string{q}
	case diff.DeclaredUnbacked, diff.Covered, diff.Shadowed:
		p.Targets = []string{q}
		if why, left := c.keptByHand(it); left {
			p.Step, p.Why = StepLeft, why
			return
		}
		r := c.adoptStep(q)
		p.Step, p.Why, p.lies = r[0], r[1], liesOf(it)
		p.copyNewer = p.Step == StepDecide && it.CopyNewer()
		if k, _ := c.m.Audit.Keep(it); p.Step == StepDecide && k == diff.KeepCopyBack {
			p.copyBack = true
		}
	default:
		p.Step, p.Why = StepLeft, "drift check reports it "+cat.String()
	}
}

// lostAt finds p or its nearest ancestor among drift check's lost paths.
func (c *classifier) lostAt(p string) (string, *diff.Item, bool) {
	for q := p; ; q = path.Dir(q) {
		if it, ok := c.live[q]; ok {
			return q, it, true
		}
		if q == "/" {
			return "", nil, false
		}
	}
}

// keptByHand says why a declared-unbacked, covered or shadowed item is
// left to the user, by the rule drift check and drift suggest read
// (diff.Audit.Keep): every answer but those drift adopt takes (KeepAdopt,
// KeepChoose, KeepCopyBack, KeepUndeclare; KeepRefused, whose refusal the dry run of
// drift adopt words) is left, with drift suggest's reason for it. A
// shadowed path no declaration covers (KeepBeneath) was an adopt step
// that drift adopt then did nothing for.
func (c *classifier) keptByHand(it *diff.Item) (string, bool) {
	switch k, _ := c.m.Audit.Keep(it); k {
	case diff.KeepAdopt, diff.KeepChoose, diff.KeepCopyBack, diff.KeepUndeclare, diff.KeepRefused:
		return "", false
	default:
		return "drift suggest leaves it to you: " + k.Why(), true
	}
}

// notLost says what a path drift check does not report lost is now.
func (c *classifier) notLost(p string) string {
	if _, err := fsys.StatIn(c.m.Root, p); err != nil && fsys.Absent(err) {
		return NowGone
	}
	if _, ok := c.m.Decls.Covering(p); ok {
		return NowDeclared
	}
	return NowNotLost
}

// suggested sets an unpersisted path's step from drift suggest's persist
// and ignore suggestions at, above or below it (all of them its targets),
// or else left to the user with drift suggest's reason.
func (c *classifier) suggested(p *Path) {
	for _, s := range c.sug.Suggestions {
		if s.Action != suggest.Persist && s.Action != suggest.Ignore {
			continue
		}
		if !pathx.HasPrefix(p.Path, s.Path) && !pathx.HasPrefix(s.Path, p.Path) {
			continue
		}
		step := StepPersist
		if s.Action == suggest.Ignore {
			step = StepIgnore
		}
		if !s.Declares() && s.Action == suggest.Persist && p.Step == "" {
			// A boot secret read before the persistence mounts exist: no
			// declaration keeps it (suggest.Suggestion.Declares).
			p.Step, p.Why = StepLeft, "drift suggest leaves it to you: "+secretKeep(&s, p.Path)
			return
		}
		if p.Step == "" {
			p.Step, p.Suggestion = step, s.Path
		}
		if step == p.Step {
			p.Targets = append(p.Targets, s.Path)
		}
	}
	if p.Step != "" {
		return
	}
	p.Step, p.Why = StepLeft, c.leftWhy(p.Path)
}

// leftWhy says why drift suggest leaves the lost path p to the user, the
// reason attached to the path it is about: that of p itself among drift
// suggest's left paths, else that of the nearest left path holding p
// (named); a left path inside p has a reason of its own, about it, not p
// (a mount point below a directory, with its own row and step). Else
// drift suggest makes no suggestion for it.
func (c *classifier) leftWhy(p string) string {
	above, aboveWhy := "", ""
	for _, l := range c.sug.Left {
		for _, lp := range l.Paths {
			switch {
			case lp == p:
				return "drift suggest leaves it to you: " + l.Reason
			case pathx.HasPrefix(p, lp) && len(lp) > len(above):
				above, aboveWhy = lp, l.Reason
			}
		}
	}
	if above != "" {
		return "drift suggest leaves " + above + ", which holds it, to you: " + aboveWhy
	}
	return "drift suggest makes no suggestion for it"
}

// secretKeep says what losing the first boot secret read early that s
// stands for does, seen from the lost path p (diff.SecretWhy: "names it",
// "holds …", "inside …"), and how to keep it (persist.Ref.KeepHint).
func secretKeep(s *suggest.Suggestion, p string) string {
	for _, r := range s.Secrets {
		if r.Early {
			return diff.SecretWhy(r, p) + "; " + r.KeepHint(s.StoragePath, escape.Name)
		}
	}
	return ""
}

// adoptStep is what drift adopt makes of the lost path q, by a dry run on
// the model: adopt when it plans it, decide when the persistent copy
// differs, left with adopt's refusal otherwise.
func (c *classifier) adoptStep(q string) [2]string {
	if r, ok := c.adopt[q]; ok {
		return r
	}
	_, err := adopt.Run(c.ctx, c.m, adopt.Options{Paths: []string{q}, DryRun: true})
	var ce *restore.ConflictError
	r := [2]string{StepAdopt, ""}
	switch {
	case errors.As(err, &ce):
		r = [2]string{StepDecide, "drift adopt refuses: " + err.Error()}
	case err != nil:
		r = [2]string{StepLeft, "drift adopt refuses: " + err.Error()}
	}
	c.adopt[q] = r
	return r
}
