package persist

import (
	"path"
	"slices"
	"sort"

	"github.com/nix-drift/drift/internal/hashindex"
	"github.com/nix-drift/drift/internal/pathx"
)

type entryKey struct {
	kind        Kind
	storagePath string
	path        string
}

func keyOf(e Entry) entryKey { return entryKey{e.Kind, e.StoragePath, e.Path} }

// entryHash is the hash of e's entryKey (hashindex).
func entryHash(e *Entry) uint64 {
	return hashindex.Mix(hashindex.HashString(e.Path), hashindex.HashString(e.StoragePath)) + uint64(e.Kind)
}

// Merge appends o's entries and diagnostics to s, counting exact
// duplicates in s.Duplicates: an entry whose Kind, StoragePath and Path
// equal those of an entry already in s (the first occurrence, and its
// Pos, stays in Entries; the other is counted in the Duplicate of its key,
// with its Pos while there is room), and o's Duplicates likewise. A diagnostic equal to one
// already in s is dropped. o is not modified; a nil o is a no-op. Where s
// has none yet, s may share o's slices (clipped: appending to s never
// writes into o), so that merging a million entries into an empty set
// copies none.
func (s *Set) Merge(o *Set) {
	if o == nil {
		return
	}
	dm := dupMerger{s: s}
	if len(s.Duplicates) == 0 {
		s.Duplicates = slices.Clip(o.Duplicates) // one record per key already
		dm.ready = len(o.Duplicates) == 0
	} else {
		for i := range o.Duplicates {
			dm.add(&o.Duplicates[i])
		}
	}
	s.mergeEntries(o.Entries, &dm)
	s.Malformed = appendShared(s.Malformed, o.Malformed)
	s.Options = appendShared(s.Options, o.Options)
	s.Storage = appendShared(s.Storage, o.Storage)
	s.Imports = appendShared(s.Imports, o.Imports)
	s.NotFollowed = appendShared(s.NotFollowed, o.NotFollowed)
	if o.Config != nil {
		if s.Config == nil {
			s.Config = &Config{}
		}
		s.Config.Merge(o.Config)
	}
	s.mergeDiagnostics(o.Diagnostics)
}

// appendShared is append(to, from...), except that an empty to gets from
// itself, clipped.
func appendShared[T any](to, from []T) []T {
	if len(to) == 0 && len(from) > 0 {
		return slices.Clip(from)
	}
	return append(to, from...)
}

// mergeEntries is Merge's part for entries: indexed by key (hashindex);
// an entry whose key s holds already is counted in Duplicates (dm).
func (s *Set) mergeEntries(es []Entry, dm *dupMerger) {
	sameKey := func(a, b *Entry) bool { return keyOf(*a) == keyOf(*b) }
	s.Entries = mergeIndexed(s.Entries, es, entryHash, sameKey, func(e Entry) { d := newDuplicate(&e); dm.add(&d) })
}

// mergeDiagnostics is Merge's part for diagnostics: one of each.
func (s *Set) mergeDiagnostics(ds []Diagnostic) {
	same := func(a, b *Diagnostic) bool { return *a == *b }
	s.Diagnostics = mergeIndexed(s.Diagnostics, ds, diagHash, same, func(Diagnostic) {})
}

// mergeIndexed appends to dst the items of src that no item of dst (nor an
// earlier one of src) is the same as, found through a hashindex of hash,
// and hands each other one to dup. While dst is empty and src holds no two
// the same, src itself is returned (clipped), not copied: a million
// entries read once are merged without a second slice.
func mergeIndexed[T any](dst, src []T, hash func(*T) uint64, same func(a, b *T) bool, dup func(T)) []T {
	if len(dst) == 0 && len(src) > 0 && distinct(src, hash, same) {
		return slices.Clip(src)
	}
	var seen hashindex.Index
	hashOf := func(i int) uint64 { return hash(&dst[i]) }
	for i := range dst {
		seen.Add(hash(&dst[i]), i, hashOf)
	}
	for i := range src {
		x := &src[i]
		h := hash(x)
		if seen.Find(h, func(j int) bool { return same(&dst[j], x) }) >= 0 {
			dup(*x)
			continue
		}
		dst = append(dst, *x)
		seen.Add(h, len(dst)-1, hashOf)
	}
	return dst
}

// distinct reports whether no two items of xs are the same.
func distinct[T any](xs []T, hash func(*T) uint64, same func(a, b *T) bool) bool {
	var seen hashindex.Index
	hashOf := func(i int) uint64 { return hash(&xs[i]) }
	seen.Grow(len(xs), hashOf) // one table, not one per doubling
	for i := range xs {
		h := hash(&xs[i])
		if seen.Find(h, func(j int) bool { return same(&xs[j], &xs[i]) }) >= 0 {
			return false
		}
		seen.Add(h, i, hashOf)
	}
	return true
}

// Covering returns the entry that keeps p alive across a reboot: a file
// entry whose Path equals p, or else the deepest directory entry whose Path
// equals p or is an ancestor of p, compared component by component
// (/home/a covers /home/a/x but never /home/ab). p is cleaned lexically
// first. It is linear in len(s.Entries).
func (s *Set) Covering(p string) (Entry, bool) {
	p = path.Clean(p)
	best := -1
	for i, e := range s.Entries {
		if e.Path == p && e.Kind == File {
			return e, true
		}
		if e.Kind == Dir && pathx.HasPrefix(p, e.Path) && (best < 0 || len(e.Path) > len(s.Entries[best].Path)) {
			best = i
		}
	}
	if best < 0 {
		return Entry{}, false
	}
	return s.Entries[best], true
}

// StoragePaths lists the persistent storage paths of s's entries and then
// extra (the one new declarations go to, for example), each once, in order
// of first appearance, never "/" or "". s may be nil. It is linear in
// len(s.Entries) times the number of storage paths (a handful).
func (s *Set) StoragePaths(extra ...string) []string {
	var out []string
	add := func(sp string) {
		if sp != "" && sp != "/" && !slices.Contains(out, sp) {
			out = append(out, sp)
		}
	}
	if s != nil {
		for _, e := range s.Entries {
			add(e.StoragePath)
		}
	}
	for _, sp := range extra {
		add(sp)
	}
	return out
}

// Sort orders entries by Path, then Kind, then StoragePath, and diagnostics
// by position; reports and tests use it for stable output.
func (s *Set) Sort() {
	sort.SliceStable(s.Entries, func(i, j int) bool {
		a, b := s.Entries[i], s.Entries[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.StoragePath < b.StoragePath
	})
	sort.SliceStable(s.Diagnostics, func(i, j int) bool {
		a, b := s.Diagnostics[i].Pos, s.Diagnostics[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}
