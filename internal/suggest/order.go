package suggest

import (
	"path"
	"slices"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/pathx"
)

// nest makes the groups disjoint: a directory that only leads to other
// groups' targets (/var/db/sudo above /var/db/sudo/lectured) is dropped
// from its group, a group left empty — or holding only directories for
// links into /nix/store in a home (home-manager's) — is dropped, and a group whose target
// lies inside another's is merged into that one (one declaration covers
// both). It returns the targets left, in their first order; the items
// dropped are counted in left (LeftOnTheWay).
func nest(a *diff.Audit, groups map[string]*group, order []string, lc leftCounter) []string {
	above := map[string]bool{} // proper ancestors of targets
	for _, t := range order {
		for d := path.Dir(t); d != "/" && !above[d]; d = path.Dir(d) {
			above[d] = true
		}
	}
	var left []string
	for _, t := range order {
		g := groups[t]
		g.items = slices.DeleteFunc(g.items, func(i int32) bool {
			if a.Lost[i].IsDir() && above[a.Lost[i].Path] {
				lc.add(LeftOnTheWay, a.Lost[i].Path)
				return true
			}
			return false
		})
		onlyDirs := !slices.ContainsFunc(g.items, func(i int32) bool { return !a.Lost[i].IsDir() })
		if len(g.items) == 0 || onlyDirs && g.generated > 0 {
			for _, i := range g.items {
				lc.add(LeftOnTheWay, a.Lost[i].Path)
			}
			delete(groups, t)
			continue
		}
		left = append(left, t)
	}
	var out []string
	for _, t := range left {
		outer := ""
		for d := path.Dir(t); d != "/"; d = path.Dir(d) {
			if _, ok := groups[d]; ok {
				outer = d // keep going: the outermost wins
			}
		}
		if outer == "" {
			out = append(out, t)
			continue
		}
		g, in := groups[outer], groups[t]
		g.items = append(g.items, in.items...)
		slices.Sort(g.items)
		if in.fact != nil {
			g.inner = append(g.inner, innerFact{path: t, fact: in.fact})
		}
		g.inner = append(g.inner, in.inner...)
		delete(groups, t)
	}
	return out
}

// SortSuggestions puts suggestions in report order and numbers them:
// Persist of a boot secret (Suggestion.Secrets: losing it locks users out
// or breaks secret decryption) before anything else, then the other
// Persist, Ignore, InUse, DeclareOrRemove; within an action by what the
// report shows of their weight, confidence (high, medium, low; the score
// itself is not shown, and a few bytes more must not scatter the paths of
// one level), DeclareOrRemove by size (largest first), then by path in
// the order drift lists paths everywhere (pathx.Compare).
func SortSuggestions(s []Suggestion) {
	slices.SortStableFunc(s, func(x, y Suggestion) int {
		if d := x.rank() - y.rank(); d != 0 {
			return d
		}
		if x.Action == DeclareOrRemove && x.Bytes != y.Bytes {
			if x.Bytes > y.Bytes {
				return -1
			}
			return 1
		}
		if d := x.level() - y.level(); d != 0 {
			return d
		}
		return pathx.Compare(x.Path, y.Path)
	})
	for i := range s {
		s[i].Rank = i + 1
	}
}

// rank is the place of s's kind in report order (SortSuggestions).
func (s *Suggestion) rank() int {
	switch s.Action {
	case Persist:
		if len(s.Secrets) > 0 {
			return 0
		}
		return 1
	case Ignore:
		return 2
	case InUse:
		return 3
	}
	return 4 // DeclareOrRemove
}

// level is the place of s's confidence in report order: high 0, medium
// 1, low 2 (from the score when Confidence is not set yet).
func (s *Suggestion) level() int {
	c := s.Confidence
	if c == "" {
		c = confidence(s.Score)
	}
	switch c {
	case High:
		return 0
	case Medium:
		return 1
	}
	return 2
}

func confidence(score int) string {
	switch {
	case score >= confidenceHigh:
		return High
	case score >= confidenceMedium:
		return Medium
	}
	return Low
}
