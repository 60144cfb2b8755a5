package report

import (
	"strings"

	"github.com/nix-drift/drift/internal/diff"
	"golang.org/x/sys/unix"
)

// Row is one line of a people-facing report: a lost path, or a directory lost
// whole (every entry below it lost, all with the same category and the same
// history against the previous root), which then stands for its whole
// subtree.
type Row struct {
	// Item is the path's own item (for a collapsed directory: the directory).
	Item *diff.Item
	// Entries counts the paths the row stands for (1 for a single path, the
	// directory plus everything below it for a collapsed directory).
	Entries int64
	// Bytes sums the apparent sizes of the regular files among them.
	Bytes int64
	// Hidden counts the ignored entries left out below a directory's row
	// (Rows without all), the row's own: those not below a later row.
	Hidden diff.Total
}

// Type names a raw st_mode: "file", "dir", "symlink", "fifo", "socket",
// "char", "block"; "subvolume" for a nested btrfs subvolume.
func Type(it *diff.Item) string {
	switch it.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		if it.Subvolume {
			return "subvolume"
		}
		return "dir"
	case unix.S_IFLNK:
		return "symlink"
	case unix.S_IFIFO:
		return "fifo"
	case unix.S_IFSOCK:
		return "socket"
	case unix.S_IFCHR:
		return "char"
	case unix.S_IFBLK:
		return "block"
	}
	return "file"
}

// Rows groups the lost items of a (sorted by pathx.Compare) into rows;
// an item that stands for its contents (diff.Item.Below) counts them. The
// rows are the same whether a was collapsed or not.
// Ignored items are left out unless all is set.
func Rows(a *diff.Audit, all bool) []Row {
	items := a.Lost
	if !all {
		items = make([]*diff.Item, 0, len(a.Lost))
		for _, it := range a.Lost {
			if it.Category != diff.Ignored {
				items = append(items, it)
			}
		}
	}
	var rows []Row
	for i := 0; i < len(items); {
		it := items[i]
		end := i + 1
		if it.IsDir() {
			prefix := dirPrefix(it.Path)
			for end < len(items) && strings.HasPrefix(items[end].Path, prefix) {
				end++
			}
		}
		same := true
		for j := i + 1; j < end; j++ {
			if items[j].Category != it.Category || items[j].History != it.History {
				same = false
				break
			}
		}
		if !same {
			// Mixed subtree: the directory alone, then its contents row by row.
			end = i + 1
		}
		r := Row{Item: it}
		for j := i; j < end; j++ {
			t := items[j].Total()
			r.Entries += t.Count
			r.Bytes += t.Bytes
		}
		rows = append(rows, r)
		i = end
	}
	if !all {
		hidden(a.Lost, rows)
	}
	return rows
}

// hidden counts into each directory row the ignored entries of lost (the
// whole lost set, in path order) that lie below it and below no later row:
// what the row leaves out without --all.
func hidden(lost []*diff.Item, rows []Row) {
	var open []int // rows whose directories hold the current path
	next := 0
	for _, it := range lost {
		for len(open) > 0 && !strings.HasPrefix(it.Path, dirPrefix(rows[open[len(open)-1]].Item.Path)) {
			open = open[:len(open)-1]
		}
		if next < len(rows) && rows[next].Item == it {
			if it.IsDir() {
				open = append(open, next)
			}
			next++
			continue
		}
		if it.Category == diff.Ignored && len(open) > 0 {
			rows[open[len(open)-1]].Hidden.Add(it.Total())
		}
	}
}

// dirPrefix is what the paths below the directory p start with.
func dirPrefix(p string) string {
	if p == "/" {
		return "/"
	}
	return p + "/"
}

// topDir is the first component of p ("/etc" for "/etc/ssh/x", "/" for "/").
func topDir(p string) string {
	if p == "/" {
		return "/"
	}
	if i := strings.IndexByte(p[1:], '/'); i >= 0 {
		return p[:i+1]
	}
	return p
}
