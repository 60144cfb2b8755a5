package report

import (
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/restore"
)

// TestRestoreSummaryCountsEveryKindListed: the summary counts every kind
// of object the plan lists, a fifo included (a fresh-user test saw "4
// files … 1 directory" under a plan listing a fifo too).
func TestRestoreSummaryCountsEveryKindListed(t *testing.T) {
	res := &restore.Result{Bytes: 3, Items: []restore.Item{{Kind: restore.KindFile}, {Kind: restore.KindDir}, {Kind: restore.KindFifo}, {Kind: restore.KindSymlink}, {Kind: restore.KindHardlink}}}
	if got, want := RestoreSummary(res), "1 file (3 B), 1 directory, 1 symlink, 1 hard link, 1 fifo"; got != want {
		t.Errorf("RestoreSummary = %q, want %q", got, want)
	}
}

// TestReplacedSummaryNamesTheOldRoot: what replaces the destination is the
// old root's object, even where the destination is a persistent copy. A
// tester's drift restore --force replaced the persistent copy with the old
// root's file and printed "each replaced by the copy's object at its
// path": the persistent copy's, which it had just deleted, to read it as
// a user does.
func TestReplacedSummaryNamesTheOldRoot(t *testing.T) {
	for _, tc := range []struct {
		d    restore.Deletion
		want string
	}{
		{restore.Deletion{Entries: 1, Bytes: 5}, "what is there: 1 object (5 B), each replaced by the old root's object at its path"},
		{restore.Deletion{Entries: 3, Bytes: 17, Only: []string{"/srv/app/only-here"}, OnlyBytes: 6}, "what is there: 3 objects (17 B), 1 of them (6 B) only there, not in the old root"},
	} {
		got := ReplacedSummary(&restore.Result{Replaced: true, Deletes: tc.d})
		if got != tc.want {
			t.Errorf("ReplacedSummary = %q, want %q", got, tc.want)
		}
		if strings.Contains(got, "copy") {
			t.Errorf("ReplacedSummary = %q: names a copy", got)
		}
	}
}

// TestRestoreNamesSubvolumes: a directory that is a btrfs subvolume in the
// old root is listed and counted as one where the restore makes it one
// ("subvol"), and as a plain directory, saying why, where it cannot.
func TestRestoreNamesSubvolumes(t *testing.T) {
	items := []restore.Item{
		{Dest: "/p/machines", Kind: restore.KindDir, Mode: 0o700},
		{Dest: "/p/machines/box", Kind: restore.KindDir, Mode: 0o755, Subvolume: true},
		{Dest: "/p/machines/box/inner", Kind: restore.KindDir, Mode: 0o755, Subvolume: true},
	}
	for _, tc := range []struct {
		plain, summary, line string
	}{
		{"", "0 files (0 B), 1 directory, 2 subvolumes", "subvol   0755 0:0           /mnt/p/machines/box\n"},
		{"/mnt/p is not on btrfs", "0 files (0 B), 1 directory, 2 subvolumes as plain directories",
			"dir      0755 0:0           /mnt/p/machines/box (a btrfs subvolume in the old root: a plain directory here, /mnt/p is not on btrfs)\n"},
	} {
		res := &restore.Result{Source: "/old/machines", Dest: "/p/machines", DestFull: "/mnt/p/machines", Items: items, SubvolumesPlain: tc.plain}
		if got := RestoreSummary(res); got != tc.summary {
			t.Errorf("RestoreSummary = %q, want %q", got, tc.summary)
		}
		var b strings.Builder
		WriteRestorePlan(&b, "/mnt", res, persist.Entry{}, false)
		if !strings.Contains(b.String(), "\n"+tc.line) || !strings.Contains(b.String(), "\ndir      0700 0:0           /mnt/p/machines\n") {
			t.Errorf("plan (plain %q):\n%s\nwant the line %q", tc.plain, b.String(), tc.line)
		}
	}
}
