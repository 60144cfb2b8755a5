package suggest

import (
	"context"
	"fmt"
	"sort"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/persist"
)

// Histories compares the lost paths of m.Audit with its old roots
// (m.OldRoots.Roots, newest first) and returns one RootHistory each: the
// first is the previous boot's root, whose history Check already set
// (Item.History); the others are compared by m.OlderHistories, for the
// unpersisted paths only (the candidates of Suggest), each with one
// lockstep walk as Check compares the first (made before the model's walk
// when Options.Boots asked for it): N old roots cost about N comparisons of
// the trees. An old root that cannot be read is left out with a warning;
// so are the paths that could not be compared (counted, the first named).
// Once ctx is done it compares nothing more and returns ctx's error.
func Histories(ctx context.Context, m *audit.Model, workers int) ([]RootHistory, []diff.Warning, error) {
	a, roots := m.Audit, m.OldRoots.Roots
	if len(roots) == 0 {
		return nil, nil, nil
	}
	var cand []*diff.Item
	var candAt []int
	for i, it := range a.Lost {
		if it.Category == diff.Unpersisted {
			cand, candAt = append(cand, it), append(candAt, i)
		}
	}
	var out []RootHistory
	var warnings []diff.Warning
	for i, r := range roots {
		o := RootHistory{Root: r, Hist: make([]diff.History, len(a.Lost))}
		if i == 0 {
			for j, it := range a.Lost {
				o.Hist[j] = it.History
			}
			out = append(out, o)
			continue
		}
		hs, hw, err := m.OlderHistories(ctx, i, cand, workers)
		if cerr := ctx.Err(); cerr != nil {
			return nil, nil, cerr
		}
		if err != nil {
			warnings = append(warnings, diff.Warning{Kind: diff.WarnHistory, Message: fmt.Sprintf("cannot compare with old_roots/%s: %v", r.Name, err)})
			continue
		}
		warnings = append(warnings, hw...)
		for j, h := range hs {
			o.Hist[candAt[j]] = h
		}
		out = append(out, o)
	}
	return out, warnings, nil
}

// MainStoragePath is the persistent storage path most declared paths use
// (the first by name on a tie), else /nix/persist (the storage path the
// impermanence and preservation examples use): where drift suggest puts new declarations by default.
func MainStoragePath(entries []persist.Entry) string {
	count := map[string]int{}
	for _, e := range entries {
		if e.StoragePath != "/" {
			count[e.StoragePath]++
		}
	}
	if len(count) == 0 {
		return "/nix/persist"
	}
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if count[keys[i]] != count[keys[j]] {
			return count[keys[i]] > count[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys[0]
}
