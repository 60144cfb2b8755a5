package report

import (
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
