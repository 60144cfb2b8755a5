package testutil

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"
)

// Node is one path of a fixture tree (Build): a directory when Dir, else a
// regular file with Content (or Size bytes, sparse, when Size > 0).
type Node struct {
	Dir      bool
	Content  string
	Size     int64
	Mode     os.FileMode // 0: 0755 for directories, 0644 for files
	UID, GID int         // -1: leave as created
	Mtime    time.Time   // zero: Build's mtime
}

// Build creates the paths of tree (relative to dir) under dir, parents as
// 0755 directories, then sets modes, owners and mtimes (deepest first, so a
// directory's mtime is not changed afterwards by what is made in it); a path
// given no Mtime gets mtime. It skips the test when an owner needs root.
// Tree is the short form for trees that need none of this.
func Build(t testing.TB, dir string, tree map[string]Node, mtime time.Time) {
	t.Helper()
	paths := make([]string, 0, len(tree))
	for p := range tree {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		n := tree[p]
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if n.Dir {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(full, []byte(n.Content), 0o644); err != nil {
			t.Fatal(err)
		}
		if n.Size > 0 {
			if err := os.Truncate(full, n.Size); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Every directory and file, deepest first: modes, owners, times.
	var all []string
	if err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		all = append(all, p)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	slices.Reverse(all)
	for _, full := range all {
		rel, _ := filepath.Rel(dir, full)
		n, ok := tree[rel]
		if !ok {
			n = Node{Dir: true, UID: -1}
		}
		fi, err := os.Lstat(full)
		if err != nil {
			t.Fatal(err)
		}
		mode := n.Mode
		if mode == 0 {
			mode = 0o644
			if fi.IsDir() {
				mode = 0o755
			}
		}
		if err := os.Chmod(full, mode); err != nil {
			t.Fatal(err)
		}
		if ok && n.UID >= 0 && (n.UID != 0 || n.GID != 0) {
			if os.Geteuid() != 0 {
				SkipOrFatal(t, RequireHost, "the fixture needs root to chown")
			}
			if err := os.Lchown(full, n.UID, n.GID); err != nil {
				t.Fatal(err)
			}
		}
		mt := n.Mtime
		if mt.IsZero() {
			mt = mtime
		}
		if err := os.Chtimes(full, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
}
