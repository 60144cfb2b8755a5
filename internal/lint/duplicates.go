package lint

import (
	"fmt"
	"path"
	"strings"

	"github.com/nix-drift/drift/internal/hashindex"
	"github.com/nix-drift/drift/internal/persist"
)

// duplicates reports entries declared more than once, and paths declared
// both as a file and as a directory.
func (ck *checker) duplicates() {
	// Indexes into primary then dups, not copies: a million entries are
	// held once, not three times, and indexed in 8 bytes each.
	n := len(ck.primary)
	at := func(i int) *persist.Entry {
		if i < n {
			return &ck.primary[i]
		}
		return &ck.dups[i-n]
	}
	// byPath holds the first entry of each path; other the first entry of
	// the other kind of a path declared both ways (rare).
	byPath, other := &ck.index, hashindex.Index{}
	pathHash := func(i int) uint64 { return hashindex.HashString(at(i).Path) }
	byPath.Reset()
	byPath.Grow(n+len(ck.dups), pathHash)
	for i := range n + len(ck.dups) {
		ck.tick(4096)
		e := at(i)
		h := hashindex.HashString(e.Path)
		j := byPath.Find(h, func(j int) bool { return at(j).Path == e.Path })
		if j < 0 {
			byPath.Add(h, i, pathHash)
			continue
		}
		if at(j).Kind != e.Kind {
			k := other.Find(h, func(k int) bool { return at(k).Path == e.Path })
			if k < 0 {
				other.Add(h, i, pathHash)
				o := at(j)
				ck.add("file-and-directory", sev("file-and-directory"), e.Pos, e.Path, "",
					"%s is declared as a %s here and as a %s at %s", q(e.Path), kindName(*e), kindName(*o), o.Pos)
				continue
			}
			j = k
		}
		if ck.skip("duplicate", sev("duplicate"), e.Pos, e.Path) {
			continue
		}
		f := at(j)
		where := ""
		if f.StoragePath != e.StoragePath {
			where = fmt.Sprintf(" (storage paths %s and %s)", q(f.StoragePath), q(e.StoragePath))
		}
		ck.add("duplicate", sev("duplicate"), e.Pos, e.Path, "",
			"%s is declared twice%s; first at %s", subject(*e), where, f.Pos)
	}
}

// overlap reports entries inside a persisted directory.
func (ck *checker) overlap() {
	// dirs holds the first directory entry of each path (an index into
	// primary: 4 bytes a slot, not a copy of the entry).
	dirs := &ck.index // the table duplicates used, emptied
	hashOf := func(i int) uint64 { return hashindex.HashString(ck.primary[i].Path) }
	dirs.Reset()
	dirs.Grow(len(ck.primary), hashOf)
	for i, e := range ck.primary {
		if e.Kind == persist.Dir {
			h := hashindex.HashString(e.Path)
			if dirs.Find(h, func(j int) bool { return ck.primary[j].Path == e.Path }) < 0 {
				dirs.Add(h, i, hashOf)
			}
		}
	}
	for _, e := range ck.primary {
		ck.tick(4096)
		// /var/lib/../baz is /baz (path-dot reports how it is written).
		for p := parent(path.Clean(e.Path)); p != ""; p = parent(p) {
			j := dirs.Find(hashindex.HashString(p), func(j int) bool { return ck.primary[j].Path == p })
			if j < 0 {
				continue
			}
			d := &ck.primary[j]
			if e.Kind == persist.Dir && d.Path == "/var/lib/private" && !openToOthers(d.Mode) {
				// The private-parent-mode fix: /var/lib/private declared
				// 0700 so that systemd accepts the DynamicUser state
				// directories declared below it (impermanence's README).
				break
			}
			rule := "nested-directory"
			if e.Kind != persist.Dir {
				rule = "file-in-directory"
			}
			if ck.skip(rule, sev(rule), e.Pos, e.Path) {
				break
			}
			if e.Kind == persist.Dir {
				ck.add("nested-directory", sev("nested-directory"), e.Pos, e.Path, "",
					"directory %s lies inside the persisted directory %s (%s): two bind mounts on one tree", q(e.Path), q(d.Path), d.Pos)
			} else {
				ck.add("file-in-directory", sev("file-in-directory"), e.Pos, e.Path, "",
					"file %s lies inside the persisted directory %s (%s): the directory's mount can hide it", q(e.Path), q(d.Path), d.Pos)
			}
			break
		}
	}
}

// parent returns the parent of a clean absolute path, "" for "/".
func parent(p string) string {
	if p == "/" || p == "" {
		return ""
	}
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}
