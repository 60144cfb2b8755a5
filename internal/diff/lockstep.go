package diff

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	ifsys "github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/scan"
)

// The comparison of Compare, on the lockstep walk of two trees
// (scan.WalkPair, whose PairVisitor a comparer is): a name on one side
// only is Added or Removed (a directory's subtree is then walked on that
// side alone), a name on both is classified with WhatChanged, and a
// directory on both sides, on its root's mount, is read next. Regular
// files are compared by content by the walking workers themselves.
//
// System calls per name on both sides, A's and B's together: a regular
// file when contents are compared, 8 (openat2, fstat, one pread of its
// size, close: see regular); with --quick, 2 (fstatat) unless the mtimes
// differ; a directory, 2 fstatat then, read as the next item, 2 openat2,
// 4 getdents64 and 2 close; a symlink, 2 fstatat and 2 readlinkat.

// fileFlags open a regular file to read it: without blocking on a fifo or
// becoming a controlling terminal.
const fileFlags = unix.O_RDONLY | unix.O_NOCTTY | unix.O_NONBLOCK

var sideNames = [2]string{"A", "B"}

// comparer is the scan.PairVisitor of one Compare.
type comparer struct {
	fs    ifsys.FS
	quick bool
	live  *liveSide // nil: nothing but the comparison
	ws    []*cmpWorker
}

// cmpWorker is one walk worker's comparison scratch space and results,
// comparer.ws[scan.PairWorker.ID].
type cmpWorker struct {
	cmp    *contentCmp
	diffs  []Difference
	counts [Failed + 1]int64
	hashed int64
	// live is the entry of side B handed to liveSide.visit by descend,
	// reused for every name: the visit keeps none of it but its strings,
	// so a name costs no scan.Entry on the heap (1,000,000 of them, 108
	// MB, at 1,000,000 entries).
	live scan.Entry
	// mark is how many diffs were recorded when the last directory item
	// this worker processed was done (liveDone).
	mark int
}

// fail records a Failed Difference for path, on side s.
func (c *comparer) fail(w *scan.PairWorker, path string, s int, err error) {
	d := c.ws[w.ID]
	d.diffs = append(d.diffs, Difference{Path: path, Change: Failed, Err: fmt.Errorf("%s: %w", sideNames[s], err)})
	d.counts[Failed]++
}

// Fail records trouble the walk met on side s at path (op's error err,
// scan.PairVisitor.Fail) as a Failed Difference, and reports it on side B
// to liveSide.onError.
func (c *comparer) Fail(w *scan.PairWorker, path string, s int, op string, err error) {
	if s == 1 && op != "mountid" {
		c.liveFail(w, path, op, err)
	}
	c.fail(w, path, s, walkError(op, err))
}

// walkError is the error of a Failed Difference for op's error err (see
// scan.PairVisitor.Fail).
func walkError(op string, err error) error {
	switch op {
	case "", "mountid":
		return err
	case "openat":
		switch err {
		case unix.ENOENT:
			return scan.ErrDirRemoved
		case unix.ELOOP, unix.ENOTDIR:
			return scan.ErrDirReplaced
		}
		return os.NewSyscallError("openat2", err)
	case "getdents":
		if err == unix.ENOENT {
			return scan.ErrDirRemoved
		}
		return os.NewSyscallError("getdents64", err)
	}
	return os.NewSyscallError(op, err)
}
