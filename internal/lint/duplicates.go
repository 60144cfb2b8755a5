package lint

import (
	"fmt"
	"path"
	"strings"

	"github.com/nix-drift/drift/internal/persist"
)

// duplicates reports entries declared more than once, and paths declared
// both as a file and as a directory.
func (ck *checker) duplicates() {
	type key struct {
		kind persist.Kind
		path string
	}
	// Indexes into primary then dups, not copies: a million entries are
	// held once, not three times.
	n := len(ck.primary)
	at := func(i int) *persist.Entry {
		if i < n {
			return &ck.primary[i]
		}
		return &ck.dups[i-n]
	}
	first := make(map[key]int)
	byPath := make(map[string]int)
	for i := range n + len(ck.dups) {
		ck.tick(4096)
		e := at(i)
		k := key{e.Kind, e.Path}
		if j, ok := first[k]; ok {
			f := at(j)
			where := ""
			if f.StoragePath != e.StoragePath {
				where = fmt.Sprintf(" (storage paths %s and %s)", q(f.StoragePath), q(e.StoragePath))
			}
			ck.add("duplicate", sev("duplicate"), e.Pos, e.Path, "",
				"%s is declared twice%s; first at %s", subject(*e), where, f.Pos)
			continue
		}
		first[k] = i
		if j, ok := byPath[e.Path]; ok && at(j).Kind != e.Kind {
			o := at(j)
			ck.add("file-and-directory", sev("file-and-directory"), e.Pos, e.Path, "",
				"%s is declared as a %s here and as a %s at %s", q(e.Path), kindName(*e), kindName(*o), o.Pos)
			continue
		}
		byPath[e.Path] = i
	}
}

// overlap reports entries inside a persisted directory.
func (ck *checker) overlap() {
	dirs := make(map[string]persist.Entry)
	for _, e := range ck.primary {
		if e.Kind == persist.Dir {
			if _, ok := dirs[e.Path]; !ok {
				dirs[e.Path] = e
			}
		}
	}
	for _, e := range ck.primary {
		ck.tick(4096)
		// /var/lib/../baz is /baz (path-dot reports how it is written).
		for p := parent(path.Clean(e.Path)); p != ""; p = parent(p) {
			d, ok := dirs[p]
			if !ok {
				continue
			}
			if e.Kind == persist.Dir && d.Path == "/var/lib/private" && !openToOthers(d.Mode) {
				// The private-parent-mode fix: /var/lib/private declared
				// 0700 so that systemd accepts the DynamicUser state
				// directories declared below it (impermanence's README).
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
