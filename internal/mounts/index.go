package mounts

import (
	"github.com/nix-drift/drift/internal/pathx"
	"sort"
)

// Values of index.hiddenBy besides the index of the hiding mount.
const (
	visible       = -1
	hiddenOutside = -2 // hidden by a mount that is not in the table
)

// index is what a Table's queries need, computed once.
type index struct {
	n     int
	first *Mount // &Mounts[0] when built, to notice a replaced slice

	hiddenBy []int          // per mount: visible, hiddenOutside, or the hiding mount
	at       map[string]int // clean mount point -> the visible mount there (the last)
	lens     []bool         // lens[k]: some key of at is k bytes long (skips lookups)
	byID     map[int]int    // mount ID -> first mount with it
}

func (ix *index) valid(ms []Mount) bool {
	if ix.n != len(ms) {
		return false
	}
	return ix.n == 0 || ix.first == &ms[0]
}

// shows returns the visible mount with the deepest mount point that is the
// clean path p or an ancestor of it, or -1.
func (ix *index) shows(p string) int {
	if p == "" || p[0] != '/' {
		return -1
	}
	for {
		if len(p) < len(ix.lens) && ix.lens[len(p)] {
			if i, ok := ix.at[p]; ok {
				return i
			}
		}
		if p == "/" {
			return -1
		}
		p = parentDir(p)
	}
}

// maxAncestorSkips bounds, per mount and mount point, how many later mounts
// that are its own parents (by Parent IDs) are skipped while looking for the
// one that hides it. Kernel tables never come near it; it keeps adversarial
// input from taking quadratic time.
const maxAncestorSkips = 64

// buildIndex computes the index of ms. With hiddenBy nil it decides
// visibility by the rule documented on Table.Visible; otherwise it takes
// hiddenBy as given (Relative keeps the visibility of the full table).
func buildIndex(ms []Mount, hiddenBy []int) *index {
	n := len(ms)
	ix := &index{n: n, at: make(map[string]int), byID: make(map[int]int, n)}
	if n > 0 {
		ix.first = &ms[0]
	}
	for i := range ms {
		if _, dup := ix.byID[ms[i].ID]; !dup {
			ix.byID[ms[i].ID] = i
		}
	}
	points := make([]string, n)
	for i := range ms {
		points[i] = pathx.Clean(ms[i].MountPoint)
	}
	if hiddenBy == nil {
		hiddenBy = computeHidden(ms, points, ix.byID)
	}
	ix.hiddenBy = hiddenBy
	for i, h := range hiddenBy {
		if h == visible {
			ix.at[points[i]] = i // a later visible mount at the same point wins
			for len(ix.lens) <= len(points[i]) {
				ix.lens = append(ix.lens, false)
			}
			ix.lens[len(points[i])] = true
		}
	}
	return ix
}

// computeHidden applies the visibility rule of Table.Visible. It runs in
// O(n log n) plus map lookups per ancestor mount point, so that odd tables
// (parent cycles, thousands of mounts on one path) cannot hang it.
func computeHidden(ms []Mount, points []string, byID map[int]int) []int {
	n := len(ms)
	parent := make([]int, n) // tree parent by Parent ID, or -1
	for i := range ms {
		parent[i] = -1
		if p, ok := byID[ms[i].Parent]; ok && p != i {
			parent[i] = p
		}
	}
	tin, tout, order := eulerTour(parent)
	// descends reports whether i is a proper descendant of j by Parent IDs.
	descends := func(i, j int) bool { return tin[j] < tin[i] && tin[i] < tout[j] }

	byPoint := make(map[string][]int) // in mount order
	lens := make(map[int]bool)
	for i, p := range points {
		byPoint[p] = append(byPoint[p], i)
		lens[len(p)] = true
	}
	byPointTin := make(map[string][]int, len(byPoint)) // sorted by tin
	for p, l := range byPoint {
		s := append([]int(nil), l...)
		sort.Slice(s, func(a, b int) bool { return tin[s[a]] < tin[s[b]] })
		byPointTin[p] = s
	}

	hidden := make([]int, n)
	for i := range ms {
		hidden[i] = visible
		if len(points[i]) == 0 || points[i][0] != '/' {
			continue
		}
		// A later mount on the mount point or an ancestor of it, that i does
		// not descend from, hides i; report the first such mount.
		for q := points[i]; ; q = parentDir(q) {
			if lens[len(q)] {
				l := byPoint[q]
				k := sort.SearchInts(l, i+1)
				for skips := 0; k < len(l) && skips < maxAncestorSkips; k, skips = k+1, skips+1 {
					if j := l[k]; !descends(i, j) {
						if hidden[i] == visible || j < hidden[i] {
							hidden[i] = j
						}
						break
					}
				}
			}
			if q == "/" {
				break
			}
		}
		if hidden[i] != visible {
			continue
		}
		// A mount at the same point that descends from i is stacked on it.
		l := byPointTin[points[i]]
		k := sort.Search(len(l), func(k int) bool { return tin[l[k]] > tin[i] })
		if k < len(l) && tin[l[k]] < tout[i] {
			hidden[i] = l[k]
		}
	}
	// A mount whose parent is hidden is hidden by the same mount, unless it
	// is that mount or lies on the stack below it (the parent is hidden
	// because this mount is stacked on it). Preorder visits parents first.
	for _, i := range order {
		p := parent[i]
		if p < 0 || hidden[i] != visible {
			continue
		}
		if h := hidden[p]; h >= 0 && h != i && !descends(h, i) {
			hidden[i] = h
		}
	}
	return hidden
}

// eulerTour numbers the forest given by parent (-1 for roots) in depth-first
// preorder: node i gets tin[i], its descendants get numbers in
// (tin[i], tout[i]), and order lists the nodes in preorder. A parent cycle is
// cut at the first of its nodes met, which then counts as a root (parent is
// updated). It is iterative, so deep chains cannot overflow the stack.
func eulerTour(parent []int) (tin, tout, order []int) {
	n := len(parent)
	// children in CSR form
	start := make([]int, n+1)
	for _, p := range parent {
		if p >= 0 {
			start[p+1]++
		}
	}
	for i := 0; i < n; i++ {
		start[i+1] += start[i]
	}
	fill := append([]int(nil), start[:n]...)
	kids := make([]int, start[n])
	for i, p := range parent {
		if p >= 0 {
			kids[fill[p]] = i
			fill[p]++
		}
	}

	tin, tout = make([]int, n), make([]int, n)
	order = make([]int, 0, n)
	seen := make([]bool, n)
	type frame struct{ node, next int }
	var stack []frame
	timer := 0
	dfs := func(root int) {
		seen[root] = true
		tin[root] = timer
		timer++
		order = append(order, root)
		stack = append(stack[:0], frame{root, start[root]})
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			if f.next == start[f.node+1] {
				tout[f.node] = timer
				stack = stack[:len(stack)-1]
				continue
			}
			c := kids[f.next]
			f.next++
			if seen[c] {
				continue // the edge that closes a cut cycle
			}
			seen[c] = true
			tin[c] = timer
			timer++
			order = append(order, c)
			stack = append(stack, frame{c, start[c]})
		}
	}
	for i, p := range parent {
		if p < 0 {
			dfs(i)
		}
	}
	// What is left lies on or below a cycle: walk up to a node met twice, cut
	// the cycle there and number it from that node.
	walk := make([]int, n)
	for i := range parent {
		if seen[i] {
			continue
		}
		c := i
		for walk[c] != i+1 {
			walk[c] = i + 1
			c = parent[c]
		}
		parent[c] = -1
		dfs(c)
	}
	return tin, tout, order
}
