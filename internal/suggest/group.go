package suggest

import (
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/knowledge"
	"github.com/nix-drift/drift/internal/pathx"
	"golang.org/x/sys/unix"
)

// groupChunk is how many lost paths one worker of grouping weighs at a
// time (tests make it small, to cross chunk boundaries everywhere).
var groupChunk = 1 << 14

// The answer of weighing one lost path alone (grouping.weighOne), kept in
// Suggest's of until the paths are taken in order: a group of the chunk
// (>= 0: its index there times two, plus one for a home-manager link), or
// one of these.
const (
	ofKept = -1 // another category than unpersisted: leftLost's to count
	ofLeft = -2 // ofLeft - r: left for leftReasons[r]
)

// leftReasons are the reasons weighOne leaves an unpersisted path for.
var leftReasons = [...]string{LeftStorage, LeftLinked, LeftDynamic, LeftContainer, LeftNotHere, LeftSymlink}

const (
	leftStorage = iota
	leftLinked
	leftDynamic
	leftContainer
	leftNotHere
	leftSymlink
)

// chunk is one part of the lost set (Lost[from:to]) weighed by a worker,
// and the groups its paths rolled up to, in the order first met.
type chunk struct {
	from, to int
	groups   []group
	byTarget map[string]int32
	notHere  map[string]bool // Input.Unpersistable's answers
	global   []int32         // each group's index in Suggest's made (-1: not yet)
	// memo is weighOne's answer for the last path it rolled up (rollUp),
	// when it is every path's in the directory memo.dir (same): left as
	// unpersistable (notHere), or the group of index at.
	memo struct {
		dir           string
		same, notHere bool
		at            int32
	}
}

// grouping is what weighing one lost path reads, shared by the workers.
type grouping struct {
	in                 *Input
	idx                map[string]int // the unpersisted directories, to their index in Lost
	homes              []home
	storages, linkable []string
	facts              []factShape // the knowledge base's, for siblingsAlike
}

// collect weighs every lost path (weighAll) and takes the answers in
// path order: what is left is counted in left, the rest make the groups,
// by target, whose item lists it fills (each its exact part of one array:
// a million paths, not a million appends), returned with the targets in
// the order first met.
func (gr *grouping) collect(left leftCounter) (map[string]*group, []string) {
	a := gr.in.Audit
	groups := map[string]*group{}
	var order []string
	// Each path's group is noted in of (its index in made, -1 for none).
	var made []*group
	of := make([]int32, len(a.Lost))
	total := 0
	for _, c := range gr.weighAll(of) {
		c.global = make([]int32, len(c.groups))
		for j := range c.global {
			c.global[j] = -1
		}
		for i := c.from; i < c.to; i++ {
			it, r := a.Lost[i], of[i]
			of[i] = -1
			switch {
			case r == ofKept:
				leftLost(a, left, it)
				continue
			case r <= ofLeft:
				left.add(leftReasons[ofLeft-r], it.Path)
				continue
			}
			at := &c.global[r>>1]
			if *at < 0 {
				if have := groups[c.groups[r>>1].target]; have != nil {
					*at = have.at // met first in an earlier chunk
				} else {
					have = gr.newGroup(c.groups[r>>1], i, len(made))
					groups[have.target] = have
					order = append(order, have.target)
					made = append(made, have)
					*at = have.at
				}
			}
			have := made[*at]
			if r&1 == 1 {
				have.generated++ // home-manager's: made again by its activation, not state
				have.genPaths = append(have.genPaths, it.Path)
				continue
			}
			of[i] = have.at
			have.count++
			total++
		}
	}
	all := make([]int32, 0, total)
	for _, g := range made {
		g.items = all[len(all) : len(all) : len(all)+g.count] // appending to it copies
		all = all[:len(all)+g.count]
	}
	for i, at := range of {
		if at >= 0 {
			g := made[at]
			g.items = append(g.items, int32(i))
		}
	}
	return groups, order
}

// newGroup is the group g, first met at Lost[i], as the at-th group made:
// its own item is Lost[i] when that is its target, else the unpersisted
// directory that is (idx), if any.
func (gr *grouping) newGroup(g group, i, at int) *group {
	have := &group{}
	*have = g
	have.self, have.at = -1, int32(at)
	if have.target == gr.in.Audit.Lost[i].Path {
		have.self = i
	} else if j, ok := gr.idx[have.target]; ok {
		have.self = j
	}
	return have
}

// weighAll weighs every lost path of in.Audit on every core, a chunk at a
// time, each path alone (weighOne): of[i] is the answer for Lost[i]. The
// chunks are returned in the order of Lost.
func (gr *grouping) weighAll(of []int32) []*chunk {
	n := len(of)
	var chunks []*chunk
	for from := 0; from < n; from += groupChunk {
		chunks = append(chunks, &chunk{from: from, to: min(from+groupChunk, n), byTarget: map[string]int32{}, notHere: map[string]bool{}})
	}
	next := make(chan *chunk, len(chunks))
	for _, c := range chunks {
		next <- c
	}
	close(next)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(chunks)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			match := gr.in.Knowledge.Matcher()
			for c := range next {
				for i := c.from; i < c.to; i++ {
					of[i] = gr.weighOne(c, match, gr.in.Audit.Lost[i])
				}
			}
		}()
	}
	wg.Wait()
	return chunks
}

// weighOne is what Suggest does with the lost path it, alone: left for a
// reason (ofKept, ofLeft - r), or added to the group of c it rolls up to
// (its index in c.groups times two, plus one for a link home-manager's
// activation makes again).
func (gr *grouping) weighOne(c *chunk, match *knowledge.Matcher, it *diff.Item) int32 {
	if it.Category != diff.Unpersisted {
		return ofKept
	}
	isLink := it.Mode&unix.S_IFMT == unix.S_IFLNK
	if slices.ContainsFunc(gr.storages, func(sp string) bool { return pathx.HasPrefix(it.Path, sp) }) {
		return ofLeft - leftStorage // in persistent storage already (not mounted: drift check's to report)
	}
	if isLink {
		if _, ok := intoStorage(it, gr.linkable); ok {
			return ofLeft - leftLinked
		}
		if dynamicUserLink(it) {
			return ofLeft - leftDynamic
		}
	}
	if c.memo.same && c.memo.dir == parentDir(it.Path) {
		// The answer for the path before it, in the same directory.
		if c.memo.notHere {
			return ofLeft - leftNotHere
		}
		return c.memo.at<<1 | gr.generated(&c.groups[c.memo.at], it, isLink)
	}
	g, ok := gr.rollUp(c, match, it.Path)
	switch {
	case !ok:
		return ofLeft - leftContainer
	case gr.unpersistable(c, g.target):
		c.memo.notHere = true
		return ofLeft - leftNotHere
	case g.target == it.Path && isLink:
		return ofLeft - leftSymlink
	}
	at, ok := c.byTarget[g.target]
	if !ok {
		at = int32(len(c.groups))
		c.groups = append(c.groups, g)
		c.byTarget[g.target] = at
	}
	c.memo.notHere, c.memo.at = false, at
	return at<<1 | gr.generated(&g, it, isLink)
}

// generated is 1 for a link home-manager's activation makes again (a link
// into its files in /nix/store, in the home of a user it manages:
// diff.HomeManagerLink, check's rule), else 0.
func (gr *grouping) generated(g *group, it *diff.Item, isLink bool) int32 {
	if g.home != "" && isLink && diff.HomeManagerLink(gr.in.Audit.HomeManagerHomes, it.Path, it.Target()) {
		return 1
	}
	return 0
}

// parentDir is the directory p (absolute, clean, not "/") is in.
func parentDir(p string) string {
	if i := strings.LastIndexByte(p, '/'); i > 0 {
		return p[:i]
	}
	return "/"
}

// rollUp is rollUpValue of p, noting in c.memo whether its answer is that
// of every path in p's directory (siblingsAlike): weighOne then takes the
// answer for them from there (memo.at, memo.notHere), a million paths in a
// few thousand directories.
func (gr *grouping) rollUp(c *chunk, match *knowledge.Matcher, p string) (group, bool) {
	dir := parentDir(p)
	g, ok := rollUpValue(match, gr.homes, p, gr.idx)
	c.memo.dir = dir
	c.memo.same = ok && len(g.target) <= len(dir) && gr.siblingsAlike(dir, g.home)
	return g, ok
}

// siblingsAlike reports whether rollUpValue gives every path directly in
// dir (a directory in the home home, "" for none) the same group as soon
// as it gives one of them (p) a target at or above dir: nothing it reads
// tells them apart. It reads p's ancestors — dir and above, the same for
// all — except where one of them may be a home (a --home below dir,
// /root's and /home/NAME's parents), a directory holding many
// applications' state (knowledge.SystemContainers below dir, homeContainers below
// it in the home), or a fact's match (a pattern as deep as p). The target
// at or above dir rules out the rest: a container at dir itself (the
// target would be p) and the walk down to a lost target reaching p.
func (gr *grouping) siblingsAlike(dir, home string) bool {
	if dir == "/" || dir == "/home" || home == "/" {
		return false
	}
	below := func(c string) bool { return len(c) > len(dir) && pathx.HasPrefix(c, dir) }
	for _, h := range gr.homes {
		if below(h.dir) {
			return false
		}
	}
	for _, c := range knowledge.SystemContainers {
		if below(c) {
			return false
		}
	}
	if home != "" {
		if !pathx.HasPrefix(dir, home) {
			return false
		}
		rel := strings.TrimPrefix(dir[len(home):], "/")
		for _, c := range homeContainers {
			if c != "" && (rel == "" || len(c) > len(rel) && pathx.HasPrefix(c, rel)) {
				return false
			}
		}
	}
	depth := strings.Count(dir, "/") + 1 // p's
	homeDepth, relDir := strings.Count(home, "/"), ""
	if home != "" {
		relDir = dir[len(home)+1:]
	}
	for _, f := range gr.facts {
		switch {
		case f.inHome && (home == "" || homeDepth+f.depth != depth || !litBelow(f.lit, relDir)):
		case !f.inHome && (f.depth != depth || !litBelow(f.lit, dir)):
		default:
			return false // it may match one of them
		}
	}
	return true
}

// factShape is what siblingsAlike reads of a fact of the knowledge base:
// its number of components (below the home for a "~/" fact) and its
// literal start (up to its first wildcard, without "~/").
type factShape struct {
	depth  int
	inHome bool
	lit    string
}

// factShapes are the shapes of the facts of k, in order.
func factShapes(k *knowledge.Knowledge) []factShape {
	var out []factShape
	for _, f := range k.Facts {
		rel, inHome := strings.CutPrefix(f.Path, "~/")
		sh := factShape{inHome: inHome, lit: rel, depth: strings.Count(rel, "/")}
		if inHome {
			sh.depth++
		} else {
			sh.lit = f.Path
		}
		if i := strings.IndexAny(sh.lit, "*?["); i >= 0 {
			sh.lit = sh.lit[:i]
		}
		out = append(out, sh)
	}
	return out
}

// litBelow reports whether a fact of literal start lit may match a path
// directly in dir (relative to a home for a "~/" fact; "" is the home
// itself): lit is a prefix of dir + "/" or starts with it, as
// knowledge.Matcher picks a directory's candidates (a path matched starts
// with lit).
func litBelow(lit, dir string) bool {
	if dir == "" {
		return true
	}
	return strings.HasPrefix(dir, lit) || len(lit) > len(dir) && strings.HasPrefix(lit, dir) && lit[len(dir)] == '/'
}

// unpersistable is Input.unpersistable with c's own memory of the answers.
func (gr *grouping) unpersistable(c *chunk, p string) bool {
	if gr.in.Unpersistable == nil {
		return false
	}
	bad, ok := c.notHere[p]
	if !ok {
		bad = gr.in.Unpersistable(p) != ""
		c.notHere[p] = bad
	}
	return bad
}
