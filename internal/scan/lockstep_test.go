//go:build linux

package scan

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/fsys/fsystest"
	"github.com/nix-drift/drift/internal/testutil"
)

// pairLog is a PairVisitor that records what WalkPair hands it: "A /p"
// and "B /p" for a name on one side, "= /p" for one on both, "! op /p"
// for a failure, " q" appended when the name is handed over quietly; it
// descends into every directory the walk reads.
type pairLog struct {
	mu    sync.Mutex
	lines []string
}

func (v *pairLog) add(w *PairWorker, s string) {
	if w.Quiet {
		s += " q"
	}
	v.mu.Lock()
	v.lines = append(v.lines, s)
	v.mu.Unlock()
}

func (v *pairLog) One(w *PairWorker, s, dirfd int, dir string, namez []byte) {
	p := Join(dir, namez[:len(namez)-1])
	v.add(w, "AB"[s:s+1]+" "+p)
	if w.Reads(s, dirfd, dir, namez) {
		it := PairItem{Path: p, NameOff: len(p) - len(namez) + 1, State: w.State, Quiet: w.Quiet}
		it.Has[s], it.Dev[s], it.Ino[s] = true, uint64(w.St[s].Dev), w.St[s].Ino
		w.Children = append(w.Children, it)
	}
}

func (v *pairLog) Both(w *PairWorker, fd [2]int, dir string, namez []byte, typ [2]uint8) {
	p := Join(dir, namez[:len(namez)-1])
	v.add(w, "= "+p)
	it := PairItem{Path: p, NameOff: len(p) - len(namez) + 1, State: w.State, Quiet: w.Quiet}
	for s := range 2 {
		if present, _ := w.Lstat(s, fd[s], dir, namez); present && w.Reads(s, fd[s], dir, namez) {
			it.Has[s], it.Dev[s], it.Ino[s] = true, uint64(w.St[s].Dev), w.St[s].Ino
		}
	}
	if it.Has[0] || it.Has[1] {
		w.Children = append(w.Children, it)
	}
}

func (v *pairLog) Fail(w *PairWorker, path string, s int, op string, err error) {
	v.add(w, "! "+op+" "+"AB"[s:s+1]+" "+path)
}

// walkPair walks a and b with v through fs and returns v's lines, sorted.
func walkPair(t *testing.T, a, b string, fs *fsystest.FS, opts PairOptions) ([]string, bool) {
	t.Helper()
	var roots [2]int
	var dev [2]uint64
	for s, dir := range []string{a, b} {
		fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		testutil.Must(t, err)
		defer unix.Close(fd)
		var st unix.Stat_t
		testutil.Must(t, unix.Fstat(fd, &st))
		roots[s], dev[s] = fd, uint64(st.Dev)
	}
	opts.FS = fs
	v := &pairLog{}
	_, interrupted := WalkPair(context.Background(), roots, dev, opts, v)
	fs.Check(t)
	slices.Sort(v.lines)
	return v.lines, interrupted
}

// WalkPair hands each name of either tree to One or Both once, reads the
// directories the visitor queues, on one side or both, whatever the
// listing order and the descriptors it may keep, skips what Skip says
// (with what is below), and closes every descriptor it opened.
func TestWalkPair(t *testing.T) {
	base := t.TempDir()
	a, b := filepath.Join(base, "a"), filepath.Join(base, "b")
	testutil.Tree(t, a, `
		f /same x
		f /d/only-a 1
		f /d/both 2
		f /gone/x 3
		f /skip/x 4
		l /link -> same
	`)
	testutil.Tree(t, b, `
		f /same y
		f /d/both 2
		f /d/only-b 5
		d /new/sub
		f /skip/y 6
		f /link same
	`)
	want := []string{"= /d", "= /d/both", "= /link", "= /same", "A /d/only-a", "A /gone", "A /gone/x", "B /d/only-b", "B /new", "B /new/sub"}
	for _, pinned := range []int{0, 1} {
		got, interrupted := walkPair(t, a, b, &fsystest.FS{}, PairOptions{Workers: 2, MaxPinned: pinned, Skip: func(p string) bool { return p == "/skip" }})
		if interrupted || !slices.Equal(got, want) {
			t.Errorf("MaxPinned %d: %q (interrupted %v), want %q", pinned, got, interrupted, want)
		}
	}
}

// A directory side A of which cannot be listed is a failure; when the
// item has a State, side B is read alone, quietly; without one it is not.
func TestWalkPairSideAFails(t *testing.T) {
	base := t.TempDir()
	a, b := filepath.Join(base, "a"), filepath.Join(base, "b")
	testutil.Tree(t, a, "f /d/x 1")
	testutil.Tree(t, b, "f /d/x 1\nf /d/y 2")
	fs := &fsystest.FS{OnGetdents: func(fd int) error {
		if fsystest.FDPath(fd) == filepath.Join(a, "d") {
			return unix.EIO
		}
		return nil
	}}
	for _, tc := range []struct {
		state any
		want  []string
	}{
		{nil, []string{"! getdents A /d", "= /d"}},
		{"visited", []string{"! getdents A /d", "= /d", "B /d/x q", "B /d/y q"}},
	} {
		got, _ := walkPair(t, a, b, fs, PairOptions{Workers: 1, RootState: tc.state})
		if !slices.Equal(got, tc.want) {
			t.Errorf("state %v: %q, want %q", tc.state, strings.Join(got, ", "), strings.Join(tc.want, ", "))
		}
	}
}
