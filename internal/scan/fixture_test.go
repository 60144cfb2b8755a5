//go:build linux

package scan

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// A tree is a literal fixture: path (slash-separated, relative) to what is
// there. Parents are created as needed, in path order.
type tree map[string]node

type node interface {
	create(t testing.TB, root, path string)
}

type (
	dirNode      struct{}
	fileNode     struct{ content string }
	symlinkNode  struct{ target string }
	hardlinkNode struct {
		to string // relative path of an earlier file
	}
	fifoNode   struct{}
	socketNode struct{}
	sparseNode struct{ size int64 }
)

var (
	dir_  = dirNode{}
	fifo  = fifoNode{}
	sock  = socketNode{}
	file  = func(s string) node { return fileNode{s} }
	link  = func(target string) node { return symlinkNode{target} }
	hard  = func(to string) node { return hardlinkNode{to} }
	spars = func(n int64) node { return sparseNode{n} }
)

func (dirNode) create(t testing.TB, root, p string) {
	if err := os.MkdirAll(filepath.Join(root, p), 0o755); err != nil {
		t.Fatal(err)
	}
}

func (n fileNode) create(t testing.TB, root, p string) {
	if err := os.WriteFile(filepath.Join(root, p), []byte(n.content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (n symlinkNode) create(t testing.TB, root, p string) {
	if err := os.Symlink(n.target, filepath.Join(root, p)); err != nil {
		t.Fatal(err)
	}
}

func (n hardlinkNode) create(t testing.TB, root, p string) {
	if err := os.Link(filepath.Join(root, n.to), filepath.Join(root, p)); err != nil {
		t.Fatal(err)
	}
}

func (fifoNode) create(t testing.TB, root, p string) {
	if err := unix.Mkfifo(filepath.Join(root, p), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (socketNode) create(t testing.TB, root, p string) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: filepath.Join(root, p)}); err != nil {
		t.Fatal(err)
	}
}

func (n sparseNode) create(t testing.TB, root, p string) {
	f, err := os.Create(filepath.Join(root, p))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(n.size); err != nil {
		t.Fatal(err)
	}
}

// create builds tr under root, in path order, hard links last.
func create(t testing.TB, root string, tr tree) {
	t.Helper()
	paths := make([]string, 0, len(tr))
	for p := range tr {
		paths = append(paths, p)
	}
	sort.SliceStable(paths, func(i, j int) bool {
		_, hi := tr[paths[i]].(hardlinkNode)
		_, hj := tr[paths[j]].(hardlinkNode)
		if hi != hj {
			return hj // hard links last: their targets must exist
		}
		return paths[i] < paths[j]
	})
	for _, p := range paths {
		if d := filepath.Dir(p); d != "." {
			dirNode{}.create(t, root, d)
		}
		tr[p].create(t, root, p)
	}
}

// generate builds a seeded pseudo-random tree of about n entries.
func generate(t testing.TB, root string, seed uint64, n int) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	dirs := []string{"."}
	for i := 0; i < n; i++ {
		parent := dirs[r.IntN(len(dirs))]
		p := filepath.Join(parent, fmt.Sprintf("e%d", i))
		switch x := r.IntN(100); {
		case x < 15:
			dirNode{}.create(t, root, p)
			dirs = append(dirs, p)
		case x < 18:
			symlinkNode{"../" + fmt.Sprintf("e%d", r.IntN(i+1))}.create(t, root, p)
		case x < 19:
			symlinkNode{".."}.create(t, root, p)
		default:
			fileNode{strings.Repeat("x", r.IntN(64))}.create(t, root, p)
		}
	}
}

// truth is what filepath.WalkDir and Lstat find: Entry.Path-style path to
// file type bits.
func truth(t testing.TB, root string) map[string]uint32 {
	t.Helper()
	got := map[string]uint32{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if rel == "." {
			rel = ""
		}
		got["/"+rel] = st.Mode & unix.S_IFMT
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// collector gathers a Walk's entries from concurrent Visitor calls.
type collector struct {
	mu      sync.Mutex
	entries map[string]Entry
	dups    []string
}

func (c *collector) visit(parent any, e *Entry) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]Entry{}
	}
	if _, ok := c.entries[e.Path]; ok {
		c.dups = append(c.dups, e.Path)
	}
	c.entries[e.Path] = *e
	return nil, true
}

func (c *collector) types() map[string]uint32 {
	m := make(map[string]uint32, len(c.entries))
	for p, e := range c.entries {
		m[p] = e.Mode & unix.S_IFMT
	}
	return m
}

// diffTypes reports the differences between two path→type sets.
func diffTypes(t testing.TB, got, want map[string]uint32) {
	t.Helper()
	var msgs []string
	for p, w := range want {
		g, ok := got[p]
		switch {
		case !ok:
			msgs = append(msgs, fmt.Sprintf("missing %q (type %o)", p, w))
		case g != w:
			msgs = append(msgs, fmt.Sprintf("%q: type %o, want %o", p, g, w))
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			msgs = append(msgs, fmt.Sprintf("unexpected %q", p))
		}
	}
	sort.Strings(msgs)
	if len(msgs) > 20 {
		msgs = append(msgs[:20], fmt.Sprintf("... and %d more", len(msgs)-20))
	}
	for _, m := range msgs {
		t.Error(m)
	}
}
