package diff

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/btrfs"
	ifsys "github.com/nix-drift/drift/internal/fsys"
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
	// Workers walk and compare (each worker reads the files it meets, with
	// two reused buffers); 0 picks scan.DefaultWorkers().
	Workers int

	fs        ifsys.FS // tests: nil is ifsys.Real
	maxPinned int      // tests: directory descriptors kept for children; 0 is scan's cap
	// live, for Check: side B's entries visited too (liveSide).
	live *liveSide
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
	Hashed int64 // files whose contents were compared (both sides: one count)
	// Nested counts the nested subvolumes read (each side its own: a
	// subvolume at the same path in both trees counts twice).
	Nested int64
	// RootDev holds the device (st_dev) of each tree's root: a directory
	// of inode 256 on another device is a nested subvolume (Subvolume).
	RootDev [2]uint64
}

// Subvolume reports whether e, an entry of side s (0 for A, 1 for B), is
// a nested btrfs subvolume: a directory of inode 256 (the root of every
// btrfs subvolume) on another device than its tree's root, the rule check
// uses (Item.Subvolume), so that both name the same object alike.
func (c *Comparison) Subvolume(e *scan.Entry, s int) bool {
	return e != nil && e.Mode&unix.S_IFMT == unix.S_IFDIR && e.Ino == btrfs.RootIno && e.Dev != c.RootDev[s]
}

// Differ reports whether anything is not the same (errors included).
func (c *Comparison) Differ() bool {
	return c.Counts[Added]+c.Counts[Removed]+c.Counts[Changed]+c.Counts[Meta]+c.Counts[Failed] > 0
}

// Compare walks the directories a and b in lockstep, in parallel, never
// following a symlink, and classifies every path found in either with
// WhatChanged. Each work item is one directory of both trees, both opened
// below their roots with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS) and
// listed with getdents64; the sorted names are merged, so nothing is kept
// but the directories in flight. Regular files of the same size are
// compared byte for byte by the walking workers themselves, each opened
// the same way (O_NONBLOCK) and read only once fstat on its descriptor
// shows a regular file; holes of sparse files are skipped. Each walk
// stays on its root's mount: a nested btrfs subvolume (a directory on
// another device, on the same mount: its mount ID, statx STATX_MNT_ID, is
// the root's) is read as part of the tree; a mount point is compared as
// itself, not read.
//
// Per-path trouble (an unreadable file or directory, a file or directory
// replaced or removed while compared) is a Failed Difference; an entry gone
// between its directory's listing and its lstat counts as absent on that
// side. Compare returns an error only when a or b cannot be opened as a
// directory, or ctx is cancelled.
func Compare(ctx context.Context, a, b string, opts CompareOptions) (*Comparison, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
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
	return compareOpen(ctx, rootA, rootB, a, b, opts)
}

// compareOpen is Compare of the directories open as rootA and rootB
// (read-only descriptors the caller closes), named a and b.
func compareOpen(ctx context.Context, rootA, rootB int, a, b string, opts CompareOptions) (*Comparison, error) {
	workers := opts.Workers
	if workers <= 0 {
		workers = scan.DefaultWorkers()
	}
	fs := opts.fs
	if fs == nil {
		fs = ifsys.Real{Raw: scan.RawCalls(workers, rootA, rootB)}
	}
	var st [2]unix.Stat_t
	for s, r := range [2]struct {
		fd   int
		name string
	}{{rootA, a}, {rootB, b}} {
		if err := unix.Fstat(r.fd, &st[s]); err != nil {
			return nil, &os.PathError{Op: "stat", Path: r.name, Err: err}
		}
	}
	rootDev := [2]uint64{uint64(st[0].Dev), uint64(st[1].Dev)}

	c := newComparer(ctx, fs, workers, opts)
	c.roots(&st)
	wopts := scan.PairOptions{FS: fs, Workers: workers, MaxPinned: opts.maxPinned}
	if !opts.Ignore.Empty() {
		wopts.Skip = opts.Ignore.matchSelf
	}
	if opts.live != nil {
		wopts.RootState = opts.live.root
		if opts.live.done != nil {
			c.ws[0].mark = len(c.ws[0].diffs)
			wopts.Done = c.liveDone
		}
	}
	nested, interrupted := scan.WalkPair(ctx, [2]int{rootA, rootB}, rootDev, wopts, c)
	if interrupted {
		return nil, ctx.Err()
	}

	return c.result(a, b, rootDev, nested), nil
}

// newComparer returns the comparer of workers workers reading through fs.
func newComparer(ctx context.Context, fs ifsys.FS, workers int, opts CompareOptions) *comparer {
	c := &comparer{fs: fs, quick: opts.Quick, live: opts.live, ws: make([]*cmpWorker, workers)}
	for i := range c.ws {
		c.ws[i] = &cmpWorker{cmp: newContentCmp(fs)}
		c.ws[i].cmp.ctx = ctx
	}
	return c
}

// roots classifies the roots themselves, st their fstat, as worker 0.
func (c *comparer) roots(st *[2]unix.Stat_t) {
	var ea, eb scan.Entry
	scan.Fill(&ea, "/", &st[0], 0)
	scan.Fill(&eb, "/", &st[1], 0)
	change, what, _ := WhatChanged(&ea, &eb, false, nil) // directories: no content
	c.ws[0].counts[change]++
	if change != Same {
		c.ws[0].diffs = append(c.ws[0].diffs, Difference{Path: "/", Change: change, What: what, A: &ea, B: &eb})
	}
}

// result gathers the workers' findings of the comparison of a and b.
func (c *comparer) result(a, b string, rootDev [2]uint64, nested int64) *Comparison {
	res := &Comparison{A: a, B: b, RootDev: rootDev, Nested: nested}
	for _, w := range c.ws {
		res.Diffs = append(res.Diffs, w.diffs...)
		for k, n := range w.counts {
			res.Counts[k] += n
		}
		res.Hashed += w.hashed
	}
	slices.SortStableFunc(res.Diffs, func(x, y Difference) int { return strings.Compare(x.Path, y.Path) })
	return res
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
