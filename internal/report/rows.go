package report

import (
	"fmt"
	"strings"

	"github.com/nix-drift/drift/internal/diff"
	"golang.org/x/sys/unix"
)

// Row is one line of a people-facing report: a lost path, or a directory lost
// whole (every entry below it lost, all with the same category), which then
// stands for its whole subtree: with the same history against the previous
// root too, or, where listing what differs would take more than
// splitAtMost rows, with its history summed up (Inside).
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
	// Inside counts, for a directory's row whose entries below it differ
	// in history against the previous root, those entries per History
	// (indexed by it; the directory itself is not counted); nil for a row
	// of one history, its item's.
	Inside *[4]int64
}

// splitAtMost is how many rows at most a directory whose entries have one
// category but differ in history is listed in, its own row included (each
// changed or new path apart from the same ones): past it the directory is
// one row whose history is summed up (Row.Inside). One changed file in
// each of ten thousand directories made ten thousand rows, unreadable,
// and the table took minutes to lay out.
const splitAtMost = 24

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
// rows are the same whether a was collapsed or not. A directory whose
// subtree holds more than one category is a row alone, then its contents
// row by row; one whose subtree differs in history only is listed the same
// way in splitAtMost rows at most, else it is one row (Row.Inside).
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
	rows, _ := group(nil, items, -1)
	if !all {
		hidden(a.Lost, rows)
	}
	return rows
}

// group appends to rows the rows of items (whole subtrees, in path order).
// With max 0 or more it stops, reporting false, once that would be more
// than max rows (rows then holds a part of them).
func group(rows []Row, items []*diff.Item, max int) ([]Row, bool) {
	start := len(rows)
	for i := 0; i < len(items); {
		if max >= 0 && len(rows)-start > max {
			return rows, false
		}
		it := items[i]
		end := i + 1
		if it.IsDir() {
			prefix := dirPrefix(it.Path)
			for end < len(items) && strings.HasPrefix(items[end].Path, prefix) {
				end++
			}
		}
		cats, hists := false, false
		for _, x := range items[i+1 : end] {
			cats = cats || x.Category != it.Category
			hists = hists || x.History != it.History
		}
		switch {
		case cats:
			// The directory alone, then its contents row by row.
			rows = append(rows, rowOf(items[i:i+1]))
			i++
			continue
		case hists:
			n := len(rows)
			rows = append(rows, rowOf(items[i:i+1]))
			var ok bool
			if rows, ok = group(rows, items[i+1:end], splitAtMost-1); !ok {
				rows = append(rows[:n], summed(items[i:end]))
			}
		default:
			rows = append(rows, rowOf(items[i:end]))
		}
		i = end
	}
	return rows, max < 0 || len(rows)-start <= max
}

// rowOf is the row of items (a path and everything below it, or the path
// alone).
func rowOf(items []*diff.Item) Row {
	r := Row{Item: items[0]}
	for _, x := range items {
		t := x.Total()
		r.Entries += t.Count
		r.Bytes += t.Bytes
	}
	return r
}

// summed is rowOf for a directory and its subtree, whose histories
// differ: the entries below it counted per history (Row.Inside).
func summed(items []*diff.Item) Row {
	r := rowOf(items)
	r.Inside = new([4]int64)
	for i, x := range items {
		t := x.Total().Count
		if i == 0 {
			t-- // the directory itself, below which it counts
		}
		if int(x.History) < len(r.Inside) {
			r.Inside[x.History] += t
		}
	}
	return r
}

// History is the row's HISTORY: its item's history against the previous
// root ("new", "changed", "same", "" for none); for a row whose entries
// differ in it (Row.Inside: InsideWhy counts them) "mixed" when some are
// new or changed, else "" (the same, or not compared).
func (r Row) History() string {
	switch {
	case r.Inside == nil:
		return r.Item.History.String()
	case r.Inside[diff.HistoryNew]+r.Inside[diff.HistoryChanged] > 0:
		return "mixed"
	}
	return ""
}

// InsideWhy is what a row whose subtree's histories differ adds to its
// WHY: the entries below the directory per history against the previous
// root ("inside: 2 new, 3 changed, 995 same against the previous root");
// "" for any other row.
func InsideWhy(r Row) string {
	if r.Inside == nil {
		return ""
	}
	var parts []string
	for _, h := range diff.Histories {
		if n := r.Inside[h]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, h))
		}
	}
	if n := r.Inside[diff.NoHistory]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d not compared", n))
	}
	return "inside: " + strings.Join(parts, ", ") + " against the previous root"
}

// hidden counts into each directory row the ignored entries of lost (the
// whole lost set, in path order) that lie below it and below no later row:
// what the row leaves out without --all.
func hidden(lost []*diff.Item, rows []Row) {
	var open []int // rows whose directories hold the current path
	next := 0
	for _, it := range lost {
		for len(open) > 0 && !under(it.Path, rows[open[len(open)-1]].Item.Path) {
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

// under reports whether p starts with dirPrefix(dir) (lies below the
// directory dir), without building that prefix: hidden asks it for every
// lost path, up to 1,000,000.
func under(p, dir string) bool {
	if dir == "/" {
		return strings.HasPrefix(p, "/")
	}
	return len(p) > len(dir) && p[len(dir)] == '/' && p[:len(dir)] == dir
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
