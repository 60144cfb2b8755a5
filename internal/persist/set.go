package persist

import (
	"path"
	"sort"
	"strings"

	"github.com/nix-drift/drift/internal/mounts"
)

type entryKey struct {
	kind        Kind
	storagePath string
	path        string
}

func keyOf(e Entry) entryKey { return entryKey{e.Kind, e.StoragePath, e.Path} }

// Merge appends o's entries and diagnostics to s, moving exact duplicates
// to s.Duplicates: an entry whose Kind, StoragePath and Path equal those of
// an entry already in s (the first occurrence, and its Pos, stays in
// Entries; the other is kept in Duplicates with its own Pos, so every
// duplicate can be reported with both positions). A diagnostic equal to one
// already in s is dropped. o is not modified; a nil o is a no-op.
func (s *Set) Merge(o *Set) {
	if o == nil {
		return
	}
	seen := make(map[entryKey]bool, len(s.Entries)+len(o.Entries))
	for _, e := range s.Entries {
		seen[keyOf(e)] = true
	}
	for _, e := range o.Entries {
		k := keyOf(e)
		if seen[k] {
			s.Duplicates = append(s.Duplicates, e)
			continue
		}
		seen[k] = true
		s.Entries = append(s.Entries, e)
	}
	s.Duplicates = append(s.Duplicates, o.Duplicates...)
	s.Malformed = append(s.Malformed, o.Malformed...)
	s.Options = append(s.Options, o.Options...)
	s.Storage = append(s.Storage, o.Storage...)
	s.Imports = append(s.Imports, o.Imports...)
	if o.Config != nil {
		if s.Config == nil {
			s.Config = &Config{}
		}
		s.Config.Merge(o.Config)
	}
	dseen := make(map[Diagnostic]bool, len(s.Diagnostics))
	for _, d := range s.Diagnostics {
		dseen[d] = true
	}
	for _, d := range o.Diagnostics {
		if !dseen[d] {
			dseen[d] = true
			s.Diagnostics = append(s.Diagnostics, d)
		}
	}
}

// Lookup returns the first entry (directory or file) declaring exactly the
// live path p. p is cleaned lexically first (path.Clean), so "/var/log/"
// finds the entry "/var/log". It is linear in len(s.Entries); for many
// lookups use Index.
func (s *Set) Lookup(p string) (Entry, bool) {
	p = path.Clean(p)
	for _, e := range s.Entries {
		if e.Path == p {
			return e, true
		}
	}
	return Entry{}, false
}

// Covering returns the entry that keeps p alive across a reboot: a file
// entry whose Path equals p, or else the deepest directory entry whose Path
// equals p or is an ancestor of p, compared component by component
// (/home/a covers /home/a/x but never /home/ab). p is cleaned lexically
// first. It is linear in len(s.Entries); a walk that asks for every path
// should build an Index once and ask it instead.
func (s *Set) Covering(p string) (Entry, bool) {
	p = path.Clean(p)
	best := -1
	for i, e := range s.Entries {
		if e.Path == p && e.Kind == File {
			return e, true
		}
		if e.Kind == Dir && mounts.HasPrefix(p, e.Path) && (best < 0 || len(e.Path) > len(s.Entries[best].Path)) {
			best = i
		}
	}
	if best < 0 {
		return Entry{}, false
	}
	return s.Entries[best], true
}

// Index is a read-only lookup table over a Set's entries, built by
// Set.Index. Lookup and Covering cost one map probe per path component, and
// are safe for concurrent use. It does not see entries added to the Set
// after it was built.
type Index struct {
	first map[string]Entry
	dirs  map[string]Entry
	files map[string]Entry
}

// Index builds an Index of s's entries. Where several entries share a path
// (one per storage path), the first one wins, as in Set.Lookup and
// Set.Covering.
func (s *Set) Index() *Index {
	ix := &Index{first: make(map[string]Entry), dirs: make(map[string]Entry), files: make(map[string]Entry)}
	for _, e := range s.Entries {
		if _, dup := ix.first[e.Path]; !dup {
			ix.first[e.Path] = e
		}
		m := ix.dirs
		if e.Kind == File {
			m = ix.files
		}
		if _, dup := m[e.Path]; !dup {
			m[e.Path] = e
		}
	}
	return ix
}

// Lookup is Set.Lookup through the index.
func (ix *Index) Lookup(p string) (Entry, bool) {
	e, ok := ix.first[path.Clean(p)]
	return e, ok
}

// Covering is Set.Covering through the index.
func (ix *Index) Covering(p string) (Entry, bool) {
	p = path.Clean(p)
	if e, ok := ix.files[p]; ok {
		return e, true
	}
	for {
		if e, ok := ix.dirs[p]; ok {
			return e, true
		}
		if p == "/" || p == "." || p == "" {
			return Entry{}, false
		}
		i := strings.LastIndexByte(p, '/')
		switch {
		case i < 0:
			return Entry{}, false
		case i == 0:
			p = "/"
		default:
			p = p[:i]
		}
	}
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
