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
	s.NotFollowed = append(s.NotFollowed, o.NotFollowed...)
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
