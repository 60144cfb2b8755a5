package lint

import (
	"fmt"
	"path"
	"strings"

	"github.com/nix-drift/drift/internal/hashindex"
	"github.com/nix-drift/drift/internal/persist"
)

// duplicates reports the paths declared more than once as one kind
// (persist.Repeats, the rule drift check warns by too: one finding per
// path, at its second declaration, with the count and the first few
// places), and the paths declared both as a file and as a directory. Past
// c.MaxPerRule, the paths are only counted (persist.Repeats keeps no more):
// the rule's summary finding says how many more there are.
func (ck *checker) duplicates() {
	ck.fileAndDirectory()
	// One past the limit, whole: its position is the summary's.
	limit := ck.c.MaxPerRule
	if limit > 0 {
		limit++
	}
	reps, more := persist.Repeats(ck.primary, ck.dups, limit)
	for i := range reps {
		r := &reps[i]
		if ck.skip("duplicate", sev("duplicate"), r.Again[0], r.First.Path) {
			continue
		}
		where, also := "", ""
		if r.Other != "" {
			where = fmt.Sprintf(" (storage paths %s and %s)", q(r.First.StoragePath), q(r.Other))
		}
		if a := r.Also(); a != "" {
			also = "; also at " + a
		}
		ck.add("duplicate", sev("duplicate"), r.Again[0], r.First.Path, "",
			"%s is declared %s%s; first at %s%s", subject(r.First), r.Times(), where, r.First.Pos, also)
	}
	if more > 0 {
		ck.overflow("duplicate", sev("duplicate"), more)
	}
}

// fileAndDirectory reports the paths declared both as a file and as a
// directory, once each, at the first declaration of the second kind.
func (ck *checker) fileAndDirectory() {
	// byPath holds the first entry of each path (an index into primary:
	// the duplicates have the kind of an entry there); other the first
	// entry of the other kind of a path declared both ways (rare).
	byPath, other := &ck.index, hashindex.Index{}
	pathHash := func(i int) uint64 { return hashindex.HashString(ck.primary[i].Path) }
	byPath.Reset()
	byPath.Grow(len(ck.primary), pathHash)
	for i := range ck.primary {
		ck.tick(4096)
		e := &ck.primary[i]
		h := hashindex.HashString(e.Path)
		j := byPath.Find(h, func(j int) bool { return ck.primary[j].Path == e.Path })
		if j < 0 {
			byPath.Add(h, i, pathHash)
			continue
		}
		if ck.primary[j].Kind == e.Kind || other.Find(h, func(k int) bool { return ck.primary[k].Path == e.Path }) >= 0 {
			continue
		}
		other.Add(h, i, pathHash)
		o := &ck.primary[j]
		ck.add("file-and-directory", sev("file-and-directory"), e.Pos, e.Path, "",
			"%s is declared as a %s here and as a %s at %s", q(e.Path), kindName(*e), kindName(*o), o.Pos)
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
