package suggest

import (
	"sort"
	"strings"

	"github.com/nix-drift/drift/internal/knowledge"
	"github.com/nix-drift/drift/internal/pathx"
)

// homeContainers hold many applications' state inside a home, as
// knowledge.SystemContainers do outside (relative to it; "" is the home
// itself).
var homeContainers = []string{"", ".config", ".local", ".local/share", ".local/state", ".cache", ".var", ".var/app"}

// home is a home directory and the users.<name> its paths go under ("" for
// /root, whose paths are declared as system paths).
type home struct{ dir, user string }

// homeUsers lists the homes of m (user to home: Input.Homes, the model's,
// which holds no home knowledge.CheckHome refuses), longest first.
func homeUsers(m map[string]string) []home {
	var hs []home
	for u, d := range m {
		if d = strings.TrimSuffix(d, "/"); d != "" {
			hs = append(hs, home{dir: d, user: u})
		}
	}
	sort.Slice(hs, func(i, j int) bool {
		if len(hs[i].dir) != len(hs[j].dir) {
			return len(hs[i].dir) > len(hs[j].dir)
		}
		return hs[i].dir < hs[j].dir
	})
	return hs
}

// homeOf returns the home p lies in (at or below): one of homes,
// else the one knowledge.HomeOf names by default, /root (user "") or
// /home/NAME (user NAME).
func homeOf(homes []home, p string) (home, bool) {
	for _, h := range homes {
		if pathx.HasPrefix(p, h.dir) {
			return h, true
		}
	}
	switch d := knowledge.HomeOf(nil, p); {
	case d == "":
		return home{}, false
	case d == "/root":
		return home{dir: d}, true
	default:
		return home{dir: d, user: d[len("/home/"):]}, true
	}
}

// childToward returns the component of p directly below its ancestor dir
// (dir + "/" + next name), as a prefix of p: it allocates nothing.
func childToward(dir, p string) string {
	start := len(dir) + 1
	if dir == "/" {
		start = 1
	}
	if start > len(p) {
		return p
	}
	if j := strings.IndexByte(p[start:], '/'); j >= 0 {
		return p[:start+j]
	}
	return p
}

// rollUp returns the group the lost path p belongs to (its target: the
// application's own root), or nil for a path that is itself a home or a
// container of many applications' state (knowledge.SystemContainers). lost holds
// the unpersisted directories: a target must be one of them, or p itself.
func rollUp(k *knowledge.Knowledge, homes []home, p string, lost map[string]int) *group {
	g, ok := rollUpValue(k.Matcher(), homes, p, lost)
	if !ok {
		return nil
	}
	return &g
}

// rollUpValue is rollUp returning the group by value (ok false for nil),
// with the knowledge base's matcher m: Suggest calls it for every lost
// path, in path order, and keeps one group per target.
func rollUpValue(m *knowledge.Matcher, homes []home, p string, lost map[string]int) (g group, ok bool) {
	k := m.Knowledge()
	h, inHome := homeOf(homes, p)
	if inHome && h.dir == p {
		return g, false
	}
	if inHome {
		g.home, g.user = h.dir, h.user
	}
	if i, at := m.MatchIndex(p, g.home); i >= 0 {
		g.target, g.fact = at, &k.Facts[i]
	} else {
		best := -1 // the length of the deepest container of p
		if inHome {
			rel := strings.TrimPrefix(p[len(h.dir):], "/") // p relative to the home
			for _, c := range homeContainers {
				switch {
				case c == rel:
					return g, false
				case c == "" || pathx.HasPrefix(rel, c):
					n := len(h.dir)
					if c != "" {
						n += 1 + len(c)
					}
					best = max(best, n)
				}
			}
		} else {
			for _, c := range knowledge.SystemContainers {
				if c == p {
					return g, false
				}
				if pathx.HasPrefix(p, c) {
					best = max(best, len(c))
				}
			}
		}
		if best < 0 {
			return g, false
		}
		g.target = childToward(p[:best], p)
	}
	// The target must be lost itself (a parent re-made at boot for a mount
	// point or a declared path is not): else one level closer to p.
	for g.target != p {
		if _, ok := lost[g.target]; ok {
			break
		}
		g.target = childToward(g.target, p)
		if g.fact != nil && g.fact.Action == "persist" {
			g.fact = nil // part of a known directory, not the whole
		}
	}
	return g, true
}
