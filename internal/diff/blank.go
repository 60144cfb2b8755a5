package diff

import (
	"context"
	"fmt"
	"strings"

	ifsys "github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/scan"
	"golang.org/x/sys/unix"
)

// maxBlankEntries bounds what Check reads of the blank snapshot
// (Config.Blank): a blank root holds a handful of directories and files.
const maxBlankEntries = 100000

// blankEntry is what the blank snapshot holds at a path that is not a
// directory: its type, size and link target.
type blankEntry struct {
	mode   uint32
	size   int64
	target string
}

// readBlank reads the blank snapshot (Config.Blank) into the tree: each
// directory there is re-made at boot (flagKeep), each other entry is
// marked (flagBlank) and kept in c.blank, for visit to compare with
// what the root holds (sameAsBlank). A blank that cannot be read, or
// holds more than maxBlankEntries entries, is warned about and not used:
// what it would bring back is counted lost.
func (c *classifier) readBlank(ctx context.Context) {
	dir := c.cfg.Blank
	if dir == "" {
		return
	}
	type found struct {
		path string
		e    blankEntry
		dir  bool
	}
	var got []found
	var n int64
	visit := func(parent any, e *scan.Entry) (any, bool) {
		isDir := e.Mode&unix.S_IFMT == unix.S_IFDIR
		if parent == nil {
			return true, isDir
		}
		if n++; n > maxBlankEntries {
			return nil, false
		}
		got = append(got, found{e.Path, blankEntry{e.Mode, e.Size, e.Target}, isDir})
		return true, isDir
	}
	_, err := scan.Walk(ctx, dir, scan.Options{Workers: 1, ReadLinks: true}, visit)
	switch {
	case err != nil:
		c.warn(WarnUnreadable, "/", fmt.Sprintf("cannot read the blank snapshot the wipe makes the root from (%s): %v: what it brings back is counted lost", c.cfg.BlankName, err))
		return
	case n > maxBlankEntries:
		c.warn(WarnUnreadable, "/", fmt.Sprintf("the blank snapshot the wipe makes the root from (%s) holds more than %d entries: not compared, what it brings back is counted lost", c.cfg.BlankName, maxBlankEntries))
		return
	}
	c.blank = map[string]blankEntry{}
	for _, f := range got {
		if f.dir {
			c.tree.insertPath(f.path, true)
			continue
		}
		c.blank[f.path] = f.e
		c.tree.at(c.tree.insertPath(f.path, false)).flags |= flagBlank
	}
}

// sameAsBlank reports whether e, at a path the blank snapshot holds a
// file or link at, is what the wipe brings back: the same type, and the
// same target for a link, the same bytes for a regular file. A socket,
// a device or a fifo is never compared (false).
func (c *classifier) sameAsBlank(e *scan.Entry) bool {
	b, ok := c.blank[e.Path]
	if !ok || b.mode&unix.S_IFMT != e.Mode&unix.S_IFMT {
		return false
	}
	switch e.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		return b.target == e.Target
	case unix.S_IFREG:
		if b.size != e.Size {
			return false
		}
		if e.Size == 0 {
			return true
		}
		return c.sameBlankBytes(strings.TrimPrefix(e.Path, "/"))
	}
	return false
}

// sameBlankBytes compares the regular file rel of the root with the blank
// snapshot's, as the history compares with the previous root (sameBytes);
// false on any error.
func (c *classifier) sameBlankBytes(rel string) bool {
	live, err := ifsys.OpenRoot(c.cfg.Root)
	if err != nil {
		return false
	}
	defer unix.Close(live)
	blank, err := ifsys.OpenRoot(c.cfg.Blank)
	if err != nil {
		return false
	}
	defer unix.Close(blank)
	same, err := sameBytes(live, blank, rel)
	return err == nil && same
}
