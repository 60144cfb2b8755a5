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
// first (diff.CompareOlder), when the caller asks for their history (drift
// suggest --boots: Options.Boots without Previous), before the walk grows
// the lost set: a comparison made after it marks the whole lost set again
// at every collection near the soft memory limit. Errors: ctx's, once it is
// done.
func (m *Model) compareOlder(ctx context.Context, o Options) error {
	if o.Previous || o.Uncompared || len(m.OldRoots.Roots) < 2 {
		return nil
	}
	m.older = make([]olderRoot, len(m.OldRoots.Roots))
	for i, r := range m.OldRoots.Roots[1:] {
		cmp, err := diff.CompareOlder(ctx, m.Root, r.Dir, "old_roots/"+r.Name, o.Workers)
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		m.older[i+1] = olderRoot{cmp: cmp, err: err}
	}
	return nil
}

// OlderHistories is the history of each of items (lost items of m.Audit)
// in the old root m.OldRoots.Roots[i], i ≥ 1, parallel to items
// (diff.OlderRoot.Histories), with its warnings. The old root was compared
// before the walk when Options.Boots asked for it, else it is compared now
// (diff.HistoryIn). Errors: the old root cannot be compared (the caller
// leaves it out, with a warning); ctx's, once it is done.
func (m *Model) OlderHistories(ctx context.Context, i int, items []*diff.Item, workers int) ([]diff.History, []diff.Warning, error) {
	if i < 1 || i >= len(m.OldRoots.Roots) {
		return nil, nil, fmt.Errorf("no old root %d past the previous boot's (%d found)", i, len(m.OldRoots.Roots))
	}
	r := m.OldRoots.Roots[i]
	if i >= len(m.older) || m.older[i].cmp == nil && m.older[i].err == nil {
		return diff.HistoryIn(ctx, m.Root, r.Dir, "old_roots/"+r.Name, items, workers)
	}
	if err := m.older[i].err; err != nil {
		return nil, nil, err
	}
	return m.older[i].cmp.Histories(ctx, items, workers)
}
