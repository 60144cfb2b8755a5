package report

import (
	"strings"
	"testing"

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
