package knowledge

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"path"
	"strings"
)

//go:embed knowledge.json
var knowledgeJSON []byte

// Fact is one entry of the knowledge base (knowledge.json): a path of known
// application state, what it is, and whether to persist or ignore it.
type Fact struct {
	// Path is absolute ("/var/lib/bluetooth"), or "~/…" for a path in every
	// home ("~/.ssh"); a component "*" matches any one name, and "*" inside
	// a component matches any run of characters there
	// ("/etc/ssh/ssh_host_*_key").
	Path string `json:"path"`
	// Kind is "dir" or "file".
	Kind string `json:"kind"`
	// Action is "persist" or "ignore".
	Action string `json:"action"`
	// What says what the state is, and why it matters.
	What string `json:"what"`
	// User, Group and Mode, when set, are what the persisted directory
	// needs when it is not root:root 0755 (impermanence's attrset form).
	User  string `json:"user,omitempty"`
	Group string `json:"group,omitempty"`
	Mode  string `json:"mode,omitempty"`
	// Source is where the fact comes from: a manual section or a document,
	// with its URL when it has one.
	Source string `json:"source"`
}

// Knowledge is the knowledge base: facts in file order.
type Knowledge struct {
	Facts []Fact
	// lits are the facts' paths up to their first wildcard or escape
	// (literalStart, without "~/"): what a matching path must start with,
	// computed once (stateNear runs for every lost path the same in the
	// previous root).
	lits []string
}

// Parse reads a knowledge base ({"version": 1, "entries": [...]}).
// Errors name the entry (its index and path) and what is wrong: a path
// neither absolute nor "~/…", a kind other than dir/file, an action other
// than persist/ignore, a missing what or source.
func Parse(data []byte) (*Knowledge, error) {
	var doc struct {
		Version int    `json:"version"`
		Comment string `json:"comment"`
		Entries []Fact `json:"entries"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields() // a misspelt key is an error, not a fact without it
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("knowledge base: %w", err)
	}
	if doc.Version != 1 {
		return nil, fmt.Errorf("knowledge base: version %d, expected 1", doc.Version)
	}
	for i, f := range doc.Entries {
		where := fmt.Sprintf("knowledge base: entry %d (%q)", i+1, f.Path)
		rel, home := strings.CutPrefix(f.Path, "~/")
		switch {
		case !home && !strings.HasPrefix(f.Path, "/"):
			return nil, fmt.Errorf("%s: path must be absolute or start with ~/", where)
		case home && (rel == "" || strings.HasPrefix(rel, "/")):
			return nil, fmt.Errorf("%s: ~/ must be followed by a relative path", where)
		case path.Clean(f.Path) != f.Path && !home, home && path.Clean(rel) != rel:
			return nil, fmt.Errorf("%s: path is not clean", where)
		case f.Kind != "dir" && f.Kind != "file":
			return nil, fmt.Errorf("%s: kind %q, expected dir or file", where, f.Kind)
		case f.Action != "persist" && f.Action != "ignore":
			return nil, fmt.Errorf("%s: action %q, expected persist or ignore", where, f.Action)
		case f.What == "" || f.Source == "":
			return nil, fmt.Errorf("%s: what and source are required", where)
		}
	}
	k := &Knowledge{Facts: doc.Entries}
	for _, f := range k.Facts {
		k.lits = append(k.lits, literalStart(strings.TrimPrefix(f.Path, "~/")))
	}
	return k, nil
}

// Builtin returns the knowledge base embedded in drift (knowledge.json). It
// panics only if that file is malformed, which TestBuiltin rules out.
func Builtin() *Knowledge {
	k, err := Parse(knowledgeJSON)
	if err != nil {
		panic(err)
	}
	return k
}

// Match returns the fact for the path p, or for its nearest ancestor that
// has one (a directory fact covers what is below it; a file fact only its
// own path), and the path the fact names for p (the pattern with its
// wildcards filled in from p). home is the home directory p lies in ("" for
// none): "~/" facts match only there.
func (k *Knowledge) Match(p, home string) (Fact, string, bool) {
	i, at := k.MatchIndex(p, home)
	if i < 0 {
		return Fact{}, "", false
	}
	return k.Facts[i], at, true
}

// MatchIndex is Match's: the index in Facts of the fact for p (-1 for
// none) and the path it names.
func (k *Knowledge) MatchIndex(p, home string) (int, string) {
	return k.matchAmong(nil, true, p, home)
}

// matchAmong is matchIndex over the facts whose indexes are in cands (all
// of them when all is set).
func (k *Knowledge) matchAmong(cands []int32, all bool, p, home string) (int, string) {
	best, bestPath := -1, ""
	rest := "" // p relative to home, for "~/" facts
	if home != "" && strings.HasPrefix(p, home+"/") {
		rest = p[len(home)+1:]
	}
	n := len(cands)
	if all {
		n = len(k.Facts)
	}
	for j := range n {
		i := j
		if !all {
			i = int(cands[j])
		}
		f := &k.Facts[i]
		var at string
		var ok bool
		if rel, inHome := strings.CutPrefix(f.Path, "~/"); inHome {
			if rest == "" || !strings.HasPrefix(rest, k.lits[i]) {
				continue
			}
			at, ok = matchHome(home, rel, p)
		} else if !strings.HasPrefix(p, k.lits[i]) {
			continue // cheap: most facts are literal paths
		} else {
			at, ok = matchPrefix(f.Path, p, 1)
		}
		if !ok || (f.Kind == "file" && at != p) {
			continue
		}
		if best < 0 || len(at) > len(bestPath) {
			best, bestPath = i, at
		}
	}
	return best, bestPath
}

// matchHome is matchPrefix of the pattern home + "/" + rel (p lies below
// home): rel is matched from p's first component below home, and home,
// which p starts with, against itself only when it holds a character
// path.Match reads as a pattern (then the pattern is built, as before).
func matchHome(home, rel, p string) (string, bool) {
	if strings.ContainsAny(home, `*?[\`) {
		return matchPrefix(home+"/"+rel, p, 1)
	}
	return matchPrefix(rel, p, len(home)+1)
}

// Matcher answers MatchIndex for the lost paths drift suggest weighs, in path
// order: the facts that can match a path in one directory are found once
// for the directory (a fact whose literal start, k.lits, is a prefix of
// the directory's path with its slash, or starts with it), and only those
// are tried for each of its entries. A million paths in a few thousand
// directories: the same answers, without trying every fact on each.
type Matcher struct {
	k     *Knowledge
	dir   string // the directory's path with its trailing slash ("/" for the root)
	home  string
	cands []int32
}

// Matcher returns a new matcher of k.
func (k *Knowledge) Matcher() *Matcher { return &Matcher{k: k} }

// Knowledge is the knowledge base m matches.
func (m *Matcher) Knowledge() *Knowledge { return m.k }

// MatchIndex is Knowledge.MatchIndex (p absolute and clean, not "/").
func (m *Matcher) MatchIndex(p, home string) (int, string) {
	dir := p[:strings.LastIndexByte(p, '/')+1]
	if dir != m.dir || home != m.home {
		m.dir, m.home, m.cands = dir, home, m.cands[:0]
		relDir, inHome := "", home != "" && strings.HasPrefix(dir, home+"/")
		if inHome {
			relDir = dir[len(home)+1:]
		}
		for i, f := range m.k.Facts {
			lit, under := m.k.lits[i], dir
			if strings.HasPrefix(f.Path, "~/") {
				if !inHome {
					continue
				}
				under = relDir
			}
			if strings.HasPrefix(under, lit) || strings.HasPrefix(lit, under) {
				m.cands = append(m.cands, int32(i))
			}
		}
	}
	return m.k.matchAmong(m.cands, false, p, home)
}

// matchPrefix reports whether the pattern pat matches p (absolute and
// clean) or an ancestor of p, component by component from p's component
// starting at index from (1: p's first; pat is matched as relative),
// with path.Match on each, a plain string compare for a component without
// wildcards, and returns the matched part of p. It allocates nothing: it
// runs for every lost path.
func matchPrefix(pat, p string, from int) (string, bool) {
	pat = strings.Trim(pat, "/")
	i := from // the start of p's next component
	for pat != "" {
		var c string
		c, pat, _ = strings.Cut(pat, "/")
		if i > len(p) {
			return "", false
		}
		end := len(p)
		if j := strings.IndexByte(p[i:], '/'); j >= 0 {
			end = i + j
		}
		x := p[i:end]
		if strings.ContainsAny(c, `*?[\`) {
			if ok, err := path.Match(c, x); err != nil || !ok {
				return "", false
			}
		} else if c != x {
			return "", false
		}
		i = end + 1
	}
	return p[:i-1], true
}

// StateNear reports whether a fact marks p, a path above it or a path
// below it as state to persist (action persist): a lost directory holding
// such state, or inside it, is never "made again at every boot" whatever
// its history says (diff.Regen). home is the home p lies in (HomeOf; ""
// for none): "~/" facts are looked for only there. p is absolute and
// clean, not "/"; the fact at or above p is found as MatchIndex finds it,
// for the lost paths drift check weighs, in path order.
func (m *Matcher) StateNear(p, home string) bool {
	i, _ := m.MatchIndex(p, home)
	return m.k.stateNear(i, p, home)
}

// stateNear is Matcher.StateNear with i, the index of the fact at or above p
// (-1 for none). A fact below p is looked for among the persist facts
// whose literal start can name a path below p (literalStart), the
// others without building their pattern or splitting p: it runs for
// every lost path the same in the previous root.
func (k *Knowledge) stateNear(i int, p, home string) bool {
	if i >= 0 && k.Facts[i].Action == "persist" {
		return true
	}
	rest, plain := "", home != "" && home != "/" && !strings.ContainsAny(home, `*?[\`) && under(p, home)
	if plain && p != home {
		rest = p[len(home)+1:]
	}
	for j := range k.Facts {
		f := &k.Facts[j]
		if f.Action != "persist" {
			continue
		}
		rel, inHome := strings.CutPrefix(f.Path, "~/")
		switch {
		case inHome && home == "":
			continue
		case inHome && plain && rest == "":
			return true // p is the home: rel names a path below it
		case inHome && plain:
			if mayName(rest, k.lits[j]) && below(rel, rest) {
				return true
			}
		case inHome:
			if below(home+"/"+rel, p) { // a home that is itself a pattern, or p outside it
				return true
			}
		case p == "/" || mayName(p, k.lits[j]) && below(f.Path, p):
			return true
		}
	}
	return false
}

// literalStart is pat up to its first character path.Match reads as a
// pattern (*?[\): a path the pattern matches starts with it.
func literalStart(pat string) string {
	if i := strings.IndexAny(pat, `*?[\`); i >= 0 {
		return pat[:i]
	}
	return pat
}

// mayName reports whether a pattern whose literal start is lit may name a
// path strictly below p (not "/"; absolute, or relative for lit
// relative): lit and p+"/" agree as far as the shorter goes.
func mayName(p, lit string) bool {
	if len(lit) <= len(p) {
		return p[:len(lit)] == lit
	}
	return lit[:len(p)] == p && lit[len(p)] == '/'
}

// below reports whether the pattern pat names a path strictly below p:
// p's components match pat's first ones (path.Match on each, a plain
// compare for a component without wildcards). Both are read with their
// leading and trailing slashes trimmed; "/" is above every pattern. It
// allocates nothing.
func below(pat, p string) bool {
	if p == "/" {
		return true
	}
	q, r := strings.Trim(pat, "/"), strings.Trim(p, "/")
	for {
		var qc, pc string
		var qmore, pmore bool
		qc, q, qmore = strings.Cut(q, "/")
		pc, r, pmore = strings.Cut(r, "/")
		if strings.ContainsAny(qc, `*?[\`) {
			if ok, err := path.Match(qc, pc); err != nil || !ok {
				return false
			}
		} else if qc != pc {
			return false
		}
		if !pmore {
			return qmore
		}
		if !qmore {
			return false
		}
	}
}

// under reports whether p is dir or below it (both clean and absolute).
func under(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir) && len(p) > len(dir) && p[len(dir)] == '/'
}
