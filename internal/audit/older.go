package audit

import (
	"context"
	"fmt"

	"github.com/nix-drift/drift/internal/diff"
)

// olderRoot is one old root past the previous boot's, compared with the
// root before the walk (compareOlder): the comparison, or why there is
// none.
type olderRoot struct {
	cmp *diff.OlderRoot
	err error
}

// compareOlder compares the root with each old root of m.OldRoots past the
// first (olderRoot), when the caller asks for their history (drift suggest
// --boots: Options.Boots without Previous), before the walk grows the lost
// set: a comparison made after it marks the whole lost set again at every
// collection near the soft memory limit. Errors: ctx's, once it is done.
func (m *Model) compareOlder(ctx context.Context, o Options) error {
	if o.Previous || o.Uncompared || len(m.OldRoots.Roots) < 2 {
		return nil
	}
	for i := 1; i < len(m.OldRoots.Roots); i++ {
		if _, err := m.olderRoot(ctx, i, o.Workers); ctx.Err() != nil {
			return err
		}
	}
	return nil
}

// olderRoot is the lockstep walk of the old root m.OldRoots.Roots[i]
// (i ≥ 1) beside the root (diff.CompareOlder), made at the first question
// and kept: each old root is walked once whoever asks (the older roots'
// rule of made again at every boot, judgeRegen, and drift suggest's
// history, OlderHistories). Errors: the old root cannot be compared (kept:
// asked again, the same error); ctx's, once it is done (nothing kept).
func (m *Model) olderRoot(ctx context.Context, i, workers int) (*diff.OlderRoot, error) {
	if len(m.older) != len(m.OldRoots.Roots) {
		m.older = make([]olderRoot, len(m.OldRoots.Roots))
	}
	o := &m.older[i]
	if o.cmp == nil && o.err == nil {
		r := m.OldRoots.Roots[i]
		cmp, err := diff.CompareOlder(ctx, m.Root, r.Dir, "old_roots/"+r.Name, workers)
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		o.cmp, o.err = cmp, err
	}
	return o.cmp, o.err
}

// comparedOlder reports whether the old root m.OldRoots.Roots[i] was
// walked beside the root already (olderRoot).
func (m *Model) comparedOlder(i int) bool {
	return i < len(m.older) && (m.older[i].cmp != nil || m.older[i].err != nil)
}

// OlderHistories is the history of each of items (lost items of m.Audit)
// in the old root m.OldRoots.Roots[i], i ≥ 1, parallel to items
// (diff.OlderRoot.Histories of olderRoot's walk), with its warnings.
// Errors: no such old root; it cannot be compared (the caller leaves it
// out, with a warning); ctx's, once it is done.
func (m *Model) OlderHistories(ctx context.Context, i int, items []*diff.Item, workers int) ([]diff.History, []diff.Warning, error) {
	if i < 1 || i >= len(m.OldRoots.Roots) {
		return nil, nil, fmt.Errorf("no old root %d past the previous boot's (%d found)", i, len(m.OldRoots.Roots))
	}
	o, err := m.olderRoot(ctx, i, workers)
	if err != nil {
		return nil, nil, err
	}
	return o.Histories(ctx, items, workers)
}
