package report

import (
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/restore"
	"github.com/nix-drift/drift/internal/units"
)

// WriteRestorePlan prints what drift restore --dry-run would do, one
// object a line: the source, the destination and how entry declares it
// (declared false: not declared), the directories made, each object with
// its mode, owner and size (paths under root), what is skipped, what only
// the replaced destination holds (deleted), the RestoreSummary and the
// ReplacedSummary.
func WriteRestorePlan(w io.Writer, root string, res *restore.Result, entry persist.Entry, declared bool) {
	fmt.Fprintf(w, "dry run: nothing is changed\n")
	fmt.Fprintf(w, "would restore %s\n", escape.Name(res.Source))
	how := "not declared"
	if declared {
		how = "declared " + entry.Kind.String() + " " + entry.Path
		if pos := entry.Pos.String(); pos != "" {
			how += " at " + pos
		}
	}
	replace := ""
	if res.Replaced {
		replace = ", replacing what is there"
	}
	fmt.Fprintf(w, "           to %s (%s%s)\n", escape.Name(res.DestFull), escape.Name(how), replace)
	for _, d := range res.MkDirs {
		fmt.Fprintf(w, "mkdir    %s\n", escape.Name(path.Join(root, d)))
	}
	for _, it := range res.Items {
		dest := escape.Name(path.Join(root, it.Dest))
		switch it.Kind {
		case restore.KindHardlink:
			fmt.Fprintf(w, "%-8s %-18s %s => %s\n", it.Kind, "", dest, escape.Name(path.Join(root, it.Target)))
		case restore.KindSymlink:
			fmt.Fprintf(w, "%-8s %-18s %s -> %s\n", it.Kind, fmt.Sprintf("%d:%d", it.UID, it.GID), dest, escape.Name(it.Target))
		case restore.KindFile:
			fmt.Fprintf(w, "%-8s %04o %-13s %s (%s)\n", it.Kind, it.Mode, fmt.Sprintf("%d:%d", it.UID, it.GID), dest, units.Bytes(it.Size))
		case restore.KindDir:
			kind, note := restoredDir(res, it)
			fmt.Fprintf(w, "%-8s %04o %-13s %s%s\n", kind, it.Mode, fmt.Sprintf("%d:%d", it.UID, it.GID), dest, note)
		default:
			fmt.Fprintf(w, "%-8s %04o %-13s %s\n", it.Kind, it.Mode, fmt.Sprintf("%d:%d", it.UID, it.GID), dest)
		}
	}
	for _, s := range res.Skipped {
		fmt.Fprintf(w, "skip     %s (%s)\n", escape.Name(s.Path), s.Reason)
	}
	for _, p := range res.Deletes.Only {
		fmt.Fprintf(w, "delete   %s (only the destination holds it)\n", escape.Name(path.Join(root, p)))
	}
	WriteNewer(w, root, res)
	fmt.Fprintf(w, "would copy %s\n", RestoreSummary(res))
	if res.Replaced {
		fmt.Fprintf(w, "would delete %s\n", ReplacedSummary(res))
	}
}

// WriteNewer prints, one a line, the destination files the replacement
// overwrites with an older file of the old root (restore.Deletion.Newer),
// both modification times in UTC: "replace NEWER PATH (modified …; the
// old root's …)". drift restore --force prints them in a dry run and a
// real run alike. A time after now says so (futureStamps).
func WriteNewer(w io.Writer, root string, res *restore.Result) {
	for _, n := range res.Deletes.Newer {
		there, old := futureStamps(n.There, n.Copy, time.Time{})
		fmt.Fprintf(w, "replace NEWER %s (modified %s; the old root's %s)\n", escape.Name(path.Join(root, n.Dest)), there, old)
	}
}

// stamp is ns since the epoch as UTC to the second.
func stamp(ns int64) string { return time.Unix(0, ns).UTC().Format("2006-01-02 15:04:05 UTC") }

// stamps is a and b (ns since the epoch) as stamp prints them, for a line
// that prints both and says which is newer: when the two differ below the
// second only, each gets as many digits of its fraction (1 to 9, cut, not
// rounded) as it takes to tell them apart, "2026-12-07 10:00:00.3 UTC" and
// "2026-12-07 10:00:00.4 UTC", so that "newer" is never printed between two
// times that read the same.
func stamps(a, b int64) (string, string) {
	sa, sb := stamp(a), stamp(b)
	if a == b || sa != sb {
		return sa, sb
	}
	const frac = ".000000000"
	for n := 1; ; n++ {
		layout := "2006-01-02 15:04:05" + frac[:n+1] + " UTC"
		sa, sb = time.Unix(0, a).UTC().Format(layout), time.Unix(0, b).UTC().Format(layout)
		if sa != sb || n == len(frac)-1 {
			return sa, sb
		}
	}
}

// ReplacedSummary says what replacing the destination deletes (or did):
// "what is there: 12 objects (3.0 KiB), 2 of them (1.0 KiB) only there,
// not in the old root", or "…, each replaced by the old root's object at
// its path"; "" when nothing was replaced. The destination may be a
// persistent copy: what replaces it is always the old root's.
func ReplacedSummary(res *restore.Result) string {
	if !res.Replaced {
		return ""
	}
	d := res.Deletes
	s := fmt.Sprintf("what is there: %s (%s)", units.Plural(d.Entries, "object", "objects"), units.Bytes(d.Bytes))
	newer := ""
	if len(d.Newer) > 0 {
		newer = fmt.Sprintf("; %s newer than the old root's (replace NEWER)", units.Plural(int64(len(d.Newer)), "file", "files"))
	}
	if len(d.Only) == 0 {
		return s + ", each replaced by the old root's object at its path" + newer
	}
	return s + fmt.Sprintf(", %d of them (%s) only there, not in the old root", len(d.Only), units.Bytes(d.OnlyBytes)) + newer
}

// restoredDir is the kind column and the note after the path of the
// directory it in a plan: "subvol" for one made as a btrfs subvolume
// (restore.Item.Subvolume), "dir" with why it is not one where the
// destination cannot hold one (restore.Result.SubvolumesPlain).
func restoredDir(res *restore.Result, it restore.Item) (kind, note string) {
	switch {
	case !it.Subvolume:
		return string(it.Kind), ""
	case res.SubvolumesPlain != "":
		return string(it.Kind), " (a btrfs subvolume in the old root: a plain directory here, " + escape.Name(res.SubvolumesPlain) + ")"
	}
	return "subvol", ""
}

// RestoreSummary counts a restore's objects, every kind it lists: "2 files
// (1.5 KiB), 1 directory, 1 symlink", then hard links, fifos and skipped
// objects when any. Directories that are btrfs subvolumes in the old root
// are counted apart: "1 subvolume", or "1 subvolume as a plain directory"
// where the destination cannot hold one (restore.Result.SubvolumesPlain).
func RestoreSummary(res *restore.Result) string {
	var files, dirs, subvols, links, hard, fifos int64
	for _, it := range res.Items {
		switch it.Kind {
		case restore.KindFile:
			files++
		case restore.KindDir:
			if it.Subvolume {
				subvols++
				continue
			}
			dirs++
		case restore.KindSymlink:
			links++
		case restore.KindHardlink:
			hard++
		case restore.KindFifo:
			fifos++
		}
	}
	parts := []string{fmt.Sprintf("%s (%s)", units.Plural(files, "file", "files"), units.Bytes(res.Bytes))}
	if dirs > 0 {
		parts = append(parts, units.Plural(dirs, "directory", "directories"))
	}
	switch {
	case subvols > 0 && res.SubvolumesPlain != "":
		parts = append(parts, units.Plural(subvols, "subvolume as a plain directory", "subvolumes as plain directories"))
	case subvols > 0:
		parts = append(parts, units.Plural(subvols, "subvolume", "subvolumes"))
	}
	if links > 0 {
		parts = append(parts, units.Plural(links, "symlink", "symlinks"))
	}
	if hard > 0 {
		parts = append(parts, units.Plural(hard, "hard link", "hard links"))
	}
	if fifos > 0 {
		parts = append(parts, units.Plural(fifos, "fifo", "fifos"))
	}
	if n := len(res.Skipped); n > 0 {
		parts = append(parts, units.Plural(int64(n), "skipped", "skipped"))
	}
	return strings.Join(parts, ", ")
}
