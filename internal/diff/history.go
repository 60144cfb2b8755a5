package diff

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	ifsys "github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
	"golang.org/x/sys/unix"
)

// history compares the audited root with the previous boot's root
// (Config.PreviousRoot): SSH host keys regenerated at every boot, and the
// ownership of persisted paths against both roots' user and group names.
// Trouble reading is a warning; nothing here fails the check.
func (c *classifier) history(ctx context.Context, t *mounts.Table, a *Audit) {
	prev := c.cfg.PreviousRoot
	if prev == nil || prev.Dir == "" {
		return
	}
	label := "the previous root (old_roots/" + prev.Name + ")"
	liveFD, err := ifsys.OpenRoot(c.cfg.Root)
	if err != nil {
		c.warn(WarnHistory, "/", fmt.Sprintf("cannot compare with the previous root: %s: %v", c.cfg.Root, err))
		return
	}
	defer unix.Close(liveFD)
	prevFD, err := ifsys.OpenRoot(prev.Dir)
	if err != nil {
		c.warn(WarnHistory, "", fmt.Sprintf("cannot compare with %s: %v", label, err))
		return
	}
	defer unix.Close(prevFD)
	h := &hist{c: c, t: t, a: a, live: liveFD, prev: prevFD, label: label, name: prev.Name}
	h.hostKeys()
	h.ownership()
	now := c.cfg.Now
	if now.IsZero() {
		now = time.Now()
	}
	cmp := c.fold.cmp
	if cmp == nil && lockstepHistory {
		cmp = c.compareWithPrevious(ctx, prev.Dir, label)
	}
	var expanded bool
	if cmp != nil || ctx.Err() == nil {
		var lh *lockHist // nil: every lost path is looked up one by one
		if cmp != nil {
			lh = newLockHist(cmp)
		}
		expanded = c.expandAside(a, lh)
		expanded = c.expandCollapsed(ctx, a, lh) || expanded
		c.historiesFrom(ctx, lh, liveFD, prevFD, a)
		if cmp != nil {
			c.vanishedFrom(cmp, liveFD, a, now)
		} else {
			c.vanished(ctx, liveFD, a, now)
		}
	}
	if expanded {
		// The same entries, counted again (they may have moved since).
		for cat := range a.Totals {
			if cat.Lost() {
				delete(a.Totals, cat)
			}
		}
		for _, it := range a.Lost {
			tot := a.Totals[it.Category]
			tot.Add(it.Total())
			a.Totals[it.Category] = tot
		}
	}
	slices.SortStableFunc(a.Alerts, func(x, y Alert) int {
		if x.Kind != y.Kind {
			return int(y.Kind) - int(x.Kind) // host keys first
		}
		if d := pathx.Compare(x.Path, y.Path); d != 0 {
			return d
		}
		return strings.Compare(x.IDKind, y.IDKind)
	})
}

type hist struct {
	c          *classifier
	t          *mounts.Table
	a          *Audit
	live, prev int
	label      string // "the previous root (old_roots/NAME)"
	name       string
}
