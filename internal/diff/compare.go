package diff

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/scan"
)

// CompareOptions tune Compare. The zero value compares every path by
// content.
type CompareOptions struct {
	// Quick counts a regular file of the same size and mtime in both trees
	// as the same without reading it; it is hashed only when the size
	// matches and the mtime does not.
	Quick bool
	// Ignore skips matching paths, and everything below them, in both trees.
	Ignore *Ignore
	// Workers walk and hash (each worker hashes the files it meets, with
	// one reused buffer); 0 picks scan.DefaultWorkers().
	Workers int

	open openFunc // tests: nil is openBeneath
}

// Difference is one path that is not the same in A and B.
type Difference struct {
	Path   string // relative to the trees' roots, starting with "/"
	Change Change
	What   What
	// A and B are the path's entries in each tree (nil where absent, and
	// for errors on a side that was not read).
	A, B *scan.Entry
	Err  error // Failed only
}

// Comparison is the result of Compare.
type Comparison struct {
	A, B  string       // the roots compared
	Diffs []Difference // every path not Same, in byte order of Path
	// Counts holds the number of paths of each Change, Same included;
	// a path below an unreadable directory is not counted.
	Counts [Failed + 1]int64
	Hashed int64 // files whose content was read (both sides: one count)
}

// Differ reports whether anything is not the same (errors included).
func (c *Comparison) Differ() bool {
	return c.Counts[Added]+c.Counts[Removed]+c.Counts[Changed]+c.Counts[Meta]+c.Counts[Failed] > 0
}

// Compare walks the directories a and b (scan.Walk: in parallel, never
// following a symlink) and classifies every path found in either with
// WhatChanged. Regular files of the same size are hashed (xxh3-128) by the
// walking workers themselves, each file opened below its already-open root
// with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS) and checked to be the
// file walked. Each walk stays on its root's filesystem: a directory on
// another device (a mount point, a nested btrfs subvolume) is compared as
// itself, not read.
//
// Per-path trouble (an unreadable file or directory, a file replaced while
// read) is a Failed Difference; Compare returns an error only when a or b
// cannot be opened as a directory, or ctx is cancelled.
func Compare(ctx context.Context, a, b string, opts CompareOptions) (*Comparison, error) {
	rootA, err := openRoot(a)
	if err != nil {
		return nil, err
	}
	defer unix.Close(rootA)
	rootB, err := openRoot(b)
	if err != nil {
		return nil, err
	}
	defer unix.Close(rootB)

	workers := opts.Workers
	if workers <= 0 {
		workers = scan.DefaultWorkers()
	}
	c := &cmp{opts: opts, failedA: map[string]bool{}, failedB: map[string]bool{}}

	// A: every entry, kept in chunks (no copy as they grow).
	perWorker := make([][][]kept, workers)
	var rootDev uint64
	sopts := scan.Options{Workers: workers, ReadLinks: true, OnError: c.onError(c.failedA, "A")}
	if _, err := scan.Walk(ctx, a, sopts, func(_ any, e *scan.Entry) (any, bool) {
		if e.Path == "/" {
			rootDev = e.Dev
		}
		if c.skip(e, "A") {
			return nil, false
		}
		cs := perWorker[e.Worker]
		if len(cs) == 0 || len(cs[len(cs)-1]) == chunkSize {
			cs = append(cs, make([]kept, 0, chunkSize))
		}
		last := &cs[len(cs)-1]
		*last = append(*last, kept{Path: e.Path, Target: e.Target, Size: e.Size, Mtime: e.Mtime, Ino: e.Ino, Mode: e.Mode, Uid: e.Uid, Gid: e.Gid})
		perWorker[e.Worker] = cs
		return nil, e.Dev == rootDev
	}); err != nil {
		return nil, err
	}
	var chunks [][]kept
	n := 0
	for _, cs := range perWorker {
		chunks = append(chunks, cs...)
		for _, c := range cs {
			n += len(c)
		}
	}
	perWorker = nil
	index := make(map[string]uint32, n)
	for ci, c := range chunks {
		for j := range c {
			index[c[j].Path] = uint32(ci)<<chunkBits | uint32(j)
		}
	}
	seen := make([]atomic.Bool, len(chunks)<<chunkBits)

	// B: each entry against A's.
	hashers := make([]*hasher, workers)
	found := make([][]Difference, workers)
	counts := make([][Failed + 1]int64, workers)
	hashed := make([]int64, workers)
	sopts.OnError = c.onError(c.failedB, "B")
	if _, err := scan.Walk(ctx, b, sopts, func(_ any, e *scan.Entry) (any, bool) {
		if e.Path == "/" {
			rootDev = e.Dev
		}
		if c.skip(e, "B") {
			return nil, false
		}
		w := e.Worker
		descend := e.Dev == rootDev
		i, ok := index[e.Path]
		if !ok {
			eb := *e
			found[w] = append(found[w], Difference{Path: e.Path, Change: Added, B: &eb})
			counts[w][Added]++
			return nil, descend
		}
		seen[i].Store(true)
		ea := chunks[i>>chunkBits][i&(chunkSize-1)].entry()
		change, what, err := WhatChanged(&ea, e, opts.Quick, func() (bool, error) {
			if hashers[w] == nil {
				hashers[w] = newHasher(opts.open)
			}
			hashed[w]++
			return hashers[w].sameFiles(rootA, &ea, rootB, e)
		})
		counts[w][change]++
		if change != Same {
			eb := *e
			found[w] = append(found[w], Difference{Path: e.Path, Change: change, What: what, A: &ea, B: &eb, Err: err})
		}
		return nil, descend
	}); err != nil {
		return nil, err
	}

	res := &Comparison{A: a, B: b}
	for w := range workers {
		res.Diffs = append(res.Diffs, found[w]...)
		for k, n := range counts[w] {
			res.Counts[k] += n
		}
		res.Hashed += hashed[w]
	}
	// Added below a directory A could not read, and removed below one B
	// could not read, are unknown: that directory's error stands for them.
	res.Diffs = slices.DeleteFunc(res.Diffs, func(d Difference) bool {
		if d.Change == Added && under(c.failedA, d.Path) {
			res.Counts[Added]--
			return true
		}
		return false
	})
	for ci, ch := range chunks {
		for j := range ch {
			if !seen[ci<<chunkBits|j].Load() && !under(c.failedB, ch[j].Path) {
				ea := ch[j].entry()
				res.Diffs = append(res.Diffs, Difference{Path: ea.Path, Change: Removed, A: &ea})
				res.Counts[Removed]++
			}
		}
	}
	res.Diffs = append(res.Diffs, c.errs...)
	res.Counts[Failed] += int64(len(c.errs))
	slices.SortStableFunc(res.Diffs, func(x, y Difference) int { return strings.Compare(x.Path, y.Path) })
	return res, nil
}

// kept is what Compare keeps of an entry of A: the fields WhatChanged and
// the hashing read, 72 bytes rather than a scan.Entry's 112.
type kept struct {
	Path, Target   string
	Size, Mtime    int64
	Ino            uint64
	Mode, Uid, Gid uint32
}

func (n *kept) entry() scan.Entry {
	return scan.Entry{Path: n.Path, Target: n.Target, Size: n.Size, Mtime: n.Mtime, Ino: n.Ino, Mode: n.Mode, Uid: n.Uid, Gid: n.Gid}
}

// A's entries are kept in chunks of chunkSize; an entry's index is its chunk's
// number << chunkBits | its place in the chunk.
const (
	chunkBits = 12
	chunkSize = 1 << chunkBits
)

// cmp is the shared state of one Compare.
type cmp struct {
	opts             CompareOptions
	mu               sync.Mutex
	errs             []Difference // walk errors
	failedA, failedB map[string]bool
}

// skip reports whether e is left out: ignored, or seen a second time after
// a directory was replaced during the walk (then Failed).
func (c *cmp) skip(e *scan.Entry, side string) bool {
	if e.Path != "/" && c.opts.Ignore.matchSelf(e.Path) {
		return true
	}
	if e.Replaced {
		c.mu.Lock()
		c.errs = append(c.errs, Difference{Path: e.Path, Change: Failed, Err: fmt.Errorf("%s: directory replaced during the walk", side)})
		c.mu.Unlock()
		return true
	}
	return false
}

func (c *cmp) onError(failed map[string]bool, side string) func(string, error) {
	return func(p string, err error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		failed[p] = true
		c.errs = append(c.errs, Difference{Path: p, Change: Failed, Err: fmt.Errorf("%s: %w", side, err)})
	}
}

// under reports whether an ancestor of p (not p itself) is in set.
func under(set map[string]bool, p string) bool {
	if len(set) == 0 {
		return false
	}
	for q := p; q != "/"; {
		q = q[:max(strings.LastIndexByte(q, '/'), 1)]
		if set[q] {
			return true
		}
	}
	return false
}

func openRoot(dir string) (int, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOTDIR) {
			return -1, fmt.Errorf("%s: not a directory", dir)
		}
		return -1, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	return fd, nil
}
