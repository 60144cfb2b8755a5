package diff

import (
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/scan"
)

// tallied is a directory lost whole whose contents the walk counts into
// tally (Config.Collapse); item.Below is set from it after the walk.
type tallied struct {
	item  *Item
	tally *scan.Tally
}

// dirState is what the walk knows of a directory it descends into: its
// lost entries, linked through Item.next, and the subdirectories the walk
// descends into, linked through nextSub, each recorded once (in no order)
// on a lock-free list, so that after the walk the lost set can be put in
// path order directory by directory (names sorted with a plain byte
// compare) instead of one global sort, and the size of a subtree's lost
// set counted from its directories alone. Nothing but the Item itself is
// allocated for a lost entry.
type dirState struct {
	node    nodeID
	mount   *mounts.Mount
	kind    mountKind
	decl    int32
	ignored bool
	shadow  bool   // at or below a node.shadow mount point
	covered bool   // below a node.remount mount point
	name    string // the directory's name in its parent
	// below is the directory lost whole that this one is in (fold.go):
	// its entries are visited by visitBelow. up is the state of its parent
	// there (nil for the directory lost whole), self its own Item; pending
	// counts its own merge in the lockstep walk and its subdirectories'
	// subtrees not yet done, dirty that a Difference lies strictly below
	// it (foldDone), same that its own entry is the same in the previous
	// root (scan.Entry.Same).
	below   *Item
	up      *dirState
	self    *Item
	same    bool
	pending atomic.Int32
	dirty   atomic.Bool

	lost    atomic.Pointer[Item]     // the newest lost entry
	items   atomic.Int64             // how many entries lost holds
	subs    atomic.Pointer[dirState] // the first subdirectory's state
	nextSub *dirState                // the next sibling's, in the parent's subs
}

// addItem records a lost entry, addSub a subdirectory the walk descends
// into (its state's name set). The children of one directory are recorded
// by the worker that read it (and, for an entry replaced mid-walk, by
// another later), so the pushes rarely if ever meet; they are atomic all
// the same.
func (s *dirState) addItem(it *Item) {
	for {
		old := s.lost.Load()
		it.next = old
		if s.lost.CompareAndSwap(old, it) {
			break
		}
	}
	s.items.Add(1)
}

func (s *dirState) addSub(sub *dirState) {
	for {
		old := s.subs.Load()
		sub.nextSub = old
		if s.subs.CompareAndSwap(old, sub) {
			break
		}
	}
}

// arena hands out Items from chunks that never move, one arena per walk
// worker (scan.Entry.Worker), so storing a lost entry takes no lock and no
// copy when the set grows. 64 bytes, a cache line: workers stay off each
// other's lines.
type arena struct {
	cur     []Item
	paths   []byte       // the paths kept of transient entries (keep)
	visited atomic.Int64 // entries this worker visited, for Config.Progress
	bytes   atomic.Int64 // the sizes of the regular files among them
}

const arenaChunk = 4096

// pathChunk is the size of an arena's chunks of kept paths.
const pathChunk = 64 << 10

// keep returns e.Path to keep beyond the visit: e.Path itself, or for a
// transient one (scan.Entry.Transient) a copy packed with the worker's
// other kept paths in chunks that are never written again.
func (a *arena) keep(e *scan.Entry) string {
	p := e.Path
	if !e.Transient || p == "" {
		return p
	}
	if len(a.paths)+len(p) > cap(a.paths) {
		a.paths = make([]byte, 0, max(pathChunk, len(p)))
	}
	a.paths = append(a.paths, p...)
	return unsafe.String(&a.paths[len(a.paths)-len(p)], len(p))
}

func (a *arena) alloc() *Item {
	if len(a.cur) == cap(a.cur) {
		a.cur = make([]Item, 0, arenaChunk)
	}
	a.cur = a.cur[:len(a.cur)+1]
	return &a.cur[len(a.cur)-1]
}

// lostIn is the number of lost Items in s's subtree (s's own excluded).
func lostIn(s *dirState) int {
	n := int(s.items.Load())
	for d := s.subs.Load(); d != nil; d = d.nextSub {
		n += lostIn(d)
	}
	return n
}

// kid is one child of a dirState while its children are put in order: a
// lost entry (item) or a subdirectory's state (sub); a lost directory the
// walk descended into is both, an item kid followed by a sub kid of the
// same name.
type kid struct {
	name string
	item *Item
	sub  *dirState
}

// sortedKids appends s's children to *scratch, sorts them by name (a lost
// entry before the state of the same name) and returns them (a window of
// *scratch that stays valid while *scratch grows). It unlinks the lost
// entries (Item.next).
func sortedKids(s *dirState, scratch *[]kid) []kid {
	from := len(*scratch)
	for it := s.lost.Load(); it != nil; {
		next := it.next
		it.next = nil
		*scratch = append(*scratch, kid{name: it.Path[strings.LastIndexByte(it.Path, '/')+1:], item: it})
		it = next
	}
	s.lost.Store(nil)
	for d := s.subs.Load(); d != nil; d = d.nextSub {
		*scratch = append(*scratch, kid{name: d.name, sub: d})
	}
	w := (*scratch)[from:]
	slices.SortFunc(w, func(a, b kid) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if a.item != nil {
			return -1
		}
		if b.item != nil {
			return 1
		}
		return 0
	})
	return w
}

// flatten appends the lost entries of s's subtree to out in path order (a
// directory, then its subtree, siblings by name). scratch is the caller's
// buffer for sorting, left as it was found.
func flatten(s *dirState, out []*Item, scratch *[]kid) []*Item {
	from := len(*scratch)
	for _, k := range sortedKids(s, scratch) {
		if k.item != nil {
			out = append(out, k.item)
		}
		if k.sub != nil {
			out = flatten(k.sub, out, scratch)
		}
	}
	clear((*scratch)[from:])
	*scratch = (*scratch)[:from]
	return out
}

// flattenParallel is flatten of the root into one slice of n Items (the
// number of lost Items in the tree), its top-level subtrees put in order
// concurrently, each into its own part of the slice.
func flattenParallel(top *dirState, n int) []*Item {
	var scratch []kid
	kids := sortedKids(top, &scratch)
	out := make([]*Item, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	at := 0
	for _, k := range kids {
		if k.item != nil {
			out[at] = k.item
			at++
		}
		if k.sub == nil {
			continue
		}
		size := lostIn(k.sub)
		part := out[at : at : at+size]
		at += size
		wg.Add(1)
		sem <- struct{}{}
		go func(sub *dirState) {
			defer func() { <-sem; wg.Done() }()
			var scratch []kid
			flatten(sub, part, &scratch)
		}(k.sub)
	}
	wg.Wait()
	return out[:at]
}

// mergeSorted merges the live lost set a with the shadowed set b, both
// sorted by pathx.Compare. A path in both (a file mount point under a later
// mount) is reported once, as what is visible now.
func mergeSorted(a, b []*Item) []*Item {
	if len(b) == 0 {
		return a
	}
	out := make([]*Item, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		switch c := pathx.Compare(a[0].Path, b[0].Path); {
		case c == 0:
			out, a, b = append(out, a[0]), a[1:], b[1:]
		case c < 0:
			out, a = append(out, a[0]), a[1:]
		default:
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}
