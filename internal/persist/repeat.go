package persist

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/nix-drift/drift/internal/hashindex"
	"github.com/nix-drift/drift/internal/persist/nix"
)

// RepeatShown is how many places of a path declared more than once a
// message names: the first declaration and the next RepeatShown-1; the
// others are counted ("and 4 more").
const RepeatShown = 4

// RepeatWarnings is how many paths declared more than once the reader and
// Load warn of (a diagnostic each, Code "duplicate"); one more diagnostic
// counts the others. drift lint lists them up to its own limit per rule.
const RepeatWarnings = 1000

// Duplicate is an entry of Set.Entries read again with the same Kind,
// StoragePath and Path: the first repetition as read (Entry), N how many
// repetitions there are (1 or more) and where the next ones are (at most
// RepeatShown-2 of them, in the order read: Repeats gives them). A
// million copies of one line are one Duplicate, not a million entries;
// and a record holds the Entry's fields packed with the count and
// places: 88 bytes, not 120 as an Entry with a count and a slice
// (500,000 paths declared twice must fit in 10x the input's text).
type Duplicate struct {
	kind      Kind
	evaluated bool
	N         int32
	// The Entry's fields (Entry); pos is its Pos.
	storagePath, path string
	origin            *Origin
	more              *entryMore
	pos               place
	at                *[RepeatShown - 2]place // nil while N is 1; the first N-1 are set
}

// place is a Pos in less memory (Duplicate): lines and columns past
// math.MaxInt32 are read as math.MaxInt32.
type place struct {
	file      string
	line, col int32
}

func placeOf(p Pos) place {
	return place{p.File, int32(min(p.Line, math.MaxInt32)), int32(min(p.Col, math.MaxInt32))}
}

func (p place) pos() Pos { return Pos{File: p.file, Line: int(p.line), Col: int(p.col)} }

// newDuplicate is the record of one repetition, e.
func newDuplicate(e *Entry) Duplicate {
	d := Duplicate{N: 1}
	d.setEntry(e)
	return d
}

// setEntry sets d's first repetition to e.
func (d *Duplicate) setEntry(e *Entry) {
	d.kind, d.evaluated, d.storagePath, d.path = e.Kind, e.Evaluated, e.StoragePath, e.Path
	d.origin, d.more, d.pos = e.Origin, e.more, placeOf(e.Pos)
}

// Entry is the first repetition as read (its own Pos).
func (d *Duplicate) Entry() Entry {
	return Entry{Kind: d.kind, Evaluated: d.evaluated, StoragePath: d.storagePath, Path: d.path,
		Origin: d.origin, Pos: d.pos.pos(), more: d.more}
}

// Pos is where the first repetition is.
func (d *Duplicate) Pos() Pos { return d.pos.pos() }

// places are the places of repetitions 2 to N (at most RepeatShown-2).
func (d *Duplicate) places() []place {
	if d.at == nil {
		return nil
	}
	return d.at[:min(int(d.N)-1, len(d.at))]
}

func (d *Duplicate) key() entryKey { return entryKey{d.kind, d.storagePath, d.path} }

func (d *Duplicate) hash() uint64 {
	return hashindex.Mix(hashindex.HashString(d.path), hashindex.HashString(d.storagePath)) + uint64(d.kind)
}

// again counts one more repetition of d, at pos.
func (d *Duplicate) again(pos Pos) {
	d.place(int(d.N)-1, placeOf(pos))
	d.N = min(d.N, math.MaxInt32-1) + 1
}

// place records p as the place of repetition i+2 if there is room. The
// array written is d's own: records copied from d (Merge shares slices)
// keep theirs.
func (d *Duplicate) place(i int, p place) {
	if i >= len(d.at) {
		return
	}
	at := new([RepeatShown - 2]place)
	if d.at != nil {
		*at = *d.at
	}
	at[i] = p
	d.at = at
}

// add counts o's repetitions (o has d's key) into d.
func (d *Duplicate) add(o *Duplicate) {
	next := int(d.N) - 1
	d.place(next, o.pos)
	for i, p := range o.places() {
		d.place(next+1+i, p)
	}
	d.N = int32(min(int64(d.N)+int64(o.N), math.MaxInt32))
}

// dupMerger adds duplicates to a set's Duplicates, one record per key,
// through a table of them made when first needed.
type dupMerger struct {
	s     *Set
	seen  hashindex.Index
	ready bool // seen holds s.Duplicates
	owned bool // s.Duplicates is this merge's copy: its records may change
}

func (m *dupMerger) hashOf(i int) uint64 { return m.s.Duplicates[i].hash() }

// add adds d: to the record of its key, or as a record of its own.
func (m *dupMerger) add(d *Duplicate) {
	ds := &m.s.Duplicates
	if !m.ready {
		m.seen.Grow(len(*ds), m.hashOf)
		for i := range *ds {
			m.seen.Add(m.hashOf(i), i, m.hashOf)
		}
		m.ready = true
	}
	h := d.hash()
	if i := m.seen.Find(h, func(i int) bool { return (*ds)[i].key() == d.key() }); i >= 0 {
		if !m.owned {
			*ds = slices.Clone(*ds) // it may be another set's (Merge shares slices)
			m.owned = true
		}
		(*ds)[i].add(d)
		return
	}
	*ds = append(*ds, *d)
	m.seen.Add(h, len(*ds)-1, m.hashOf)
}

// Repeat is a path declared more than once as the same kind: the rule
// that drift check's warnings (the diagnostics with Code "duplicate") and
// drift lint's duplicate rule both read (impermanence asserts that no
// path is declared twice; two bind mounts on one path hide each other),
// whether the declarations name one storage path or several. First is the
// first declaration, N how many there are (2 or more), Again where the
// next ones are (at most RepeatShown-1: entries in order, then
// duplicates), Other a storage path other than First's that declares the
// path ("" when none does).
type Repeat struct {
	First Entry
	N     int
	Again []Pos
	Other string
}

// Times says how many times r's path is declared: "twice", "7 times".
func (r *Repeat) Times() string {
	if r.N == 2 {
		return "twice"
	}
	return strconv.Itoa(r.N) + " times"
}

// Also names the declarations after the first two: "" when there are two,
// else the next ones Again holds and how many more there are
// ("x.nix:4:3, x.nix:5:3 and 3 more").
func (r *Repeat) Also() string {
	if r.N <= 2 || len(r.Again) < 2 {
		return ""
	}
	s := ""
	for i, p := range r.Again[1:] {
		if i > 0 {
			s += ", "
		}
		s += p.String()
	}
	if more := r.N - 1 - len(r.Again); more > 0 {
		s += fmt.Sprintf(" and %d more", more)
	}
	return s
}

// Repeats finds the paths declared more than once as one kind in
// entries and dups (a Set's Entries and Duplicates, or several sets' one
// after the other; every Duplicate repeats an entry of entries), in the
// order their second declaration is found (entries first). The first max
// of them are returned whole (all when max ≤ 0); more counts the others.
// Time: linear in len(entries)+len(dups) (two passes through hashindex
// tables); memory: 4 to 8 bytes a declaration and 12 a repeated path,
// besides what is returned.
func Repeats(entries []Entry, dups []Duplicate, max int) (reps []Repeat, more int) {
	key := func(e *Entry) uint64 { return hashindex.Mix(hashindex.HashString(e.Path), uint64(e.Kind)) }
	same := func(a, b *Entry) bool { return a.Path == b.Path && a.Kind == b.Kind }
	var byPath hashindex.Index // the first entry of each path and kind
	hashOf := func(i int) uint64 { return key(&entries[i]) }
	byPath.Grow(len(entries), hashOf)
	first := func(e *Entry) int {
		return byPath.Find(key(e), func(j int) bool { return same(&entries[j], e) })
	}
	// The paths repeated, by their first entry, in the order found.
	type group struct{ first, rep int32 } // rep: index in reps, -1 past max
	var groups []group
	var byFirst hashindex.Index
	groupHash := func(j int32) uint64 { return hashindex.Mix(uint64(j), 0) }
	groupOf := func(j int) *group {
		g := byFirst.Find(groupHash(int32(j)), func(g int) bool { return groups[g].first == int32(j) })
		if g < 0 {
			rep := int32(-1)
			if max <= 0 || len(reps) < max {
				rep = int32(len(reps))
				reps = nix.AppendDoubling(reps, Repeat{First: entries[j], N: 1})
			} else {
				more++
			}
			groups = nix.AppendDoubling(groups, group{int32(j), rep})
			g = len(groups) - 1
			byFirst.Add(groupHash(int32(j)), g, func(g int) uint64 { return groupHash(groups[g].first) })
		}
		return &groups[g]
	}
	note := func(r *Repeat, pos Pos, storage string, n int) {
		r.N += n
		if len(r.Again) < RepeatShown-1 {
			r.Again = append(r.Again, pos)
		}
		if r.Other == "" && storage != r.First.StoragePath {
			r.Other = storage
		}
	}
	for i := range entries {
		e := &entries[i]
		j := first(e)
		if j < 0 {
			byPath.Add(key(e), i, hashOf)
			continue
		}
		if g := groupOf(j); g.rep >= 0 {
			note(&reps[g.rep], e.Pos, e.StoragePath, 1)
		}
	}
	for k := range dups {
		d := &dups[k]
		j := first(&Entry{Kind: d.kind, Path: d.path})
		if j < 0 {
			continue // not a repetition of these entries
		}
		if g := groupOf(j); g.rep >= 0 {
			r := &reps[g.rep]
			note(r, d.pos.pos(), d.storagePath, int(d.N))
			for _, p := range d.places() {
				if len(r.Again) < RepeatShown-1 {
					r.Again = append(r.Again, p.pos())
				}
			}
		}
	}
	return reps, more
}

// Repeats is Repeats of s's entries and duplicates.
func (s *Set) Repeats(max int) ([]Repeat, int) { return Repeats(s.Entries, s.Duplicates, max) }

// repeatDiagnostics are the warnings of the paths s declares more than
// once: one each (Code "duplicate", at its second declaration) for the
// first RepeatWarnings, and one counting the others.
func (s *Set) repeatDiagnostics() []Diagnostic {
	reps, more := s.Repeats(RepeatWarnings)
	var out []Diagnostic
	for i := range reps {
		r := &reps[i]
		msg := fmt.Sprintf("%s %s is declared %s", r.First.Kind, r.First.Path, r.Times())
		if r.Other != "" {
			msg += fmt.Sprintf(", with the storage paths %s and %s", r.First.StoragePath, r.Other)
		}
		msg += fmt.Sprintf(" (first at %s", r.First.Pos)
		if also := r.Also(); also != "" {
			msg += "; also at " + also
		}
		out = append(out, Diagnostic{Pos: r.Again[0], Severity: Warning, Message: msg + ")", Hint: "remove one of them", Code: "duplicate"})
	}
	if more > 0 {
		out = append(out, Diagnostic{Severity: Warning, Code: "duplicate",
			Message: fmt.Sprintf("%d more paths are declared more than once", more),
			Hint:    "drift lint lists them"})
	}
	return out
}

// warnRepeats replaces s's diagnostics with Code "duplicate" by
// repeatDiagnostics: ReadData's, once the whole file is read (each path
// once, with its count), and Load's once every file is merged (a path
// declared in two files too).
func (s *Set) warnRepeats() {
	isRepeat := func(d Diagnostic) bool { return d.Code == "duplicate" }
	if slices.ContainsFunc(s.Diagnostics, isRepeat) {
		// A copy: s may share its diagnostics with the set merged in.
		s.Diagnostics = slices.DeleteFunc(slices.Clone(s.Diagnostics), isRepeat)
	}
	s.Diagnostics = append(s.Diagnostics, s.repeatDiagnostics()...)
}
