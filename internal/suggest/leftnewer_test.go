package suggest

import (
	"slices"
	"testing"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/persist"
)

// TestLeftNamesTheNewerCopies: a declared file whose persistent copy holds
// other bytes modified after the live file is left to the user
// (diff.KeepCopyBack: the copy lacks nothing else) with its path in
// Newer, so that the line names the newer copy; one whose copy is older
// is not in Newer.
func TestLeftNamesTheNewerCopies(t *testing.T) {
	decls := &persist.Set{Entries: []persist.Entry{{Kind: persist.File, StoragePath: "/nix/persist", Path: "/etc/adjtime"}, {Kind: persist.File, StoragePath: "/nix/persist", Path: "/etc/hostid"}}}
	a := &diff.Audit{Decls: decls}
	adj := &diff.Item{Path: "/etc/adjtime", Category: diff.DeclaredUnbacked, Mode: 0o100644, Decl: 0, Copy: diff.CopyDiffers, Mtime: 100}
	adj.SetCopyMtime(200)
	host := &diff.Item{Path: "/etc/hostid", Category: diff.DeclaredUnbacked, Mode: 0o100644, Decl: 1, Copy: diff.CopyDiffers, Mtime: 100}
	host.SetCopyMtime(50)
	a.Lost = []*diff.Item{adj, host}
	left := leftCounter{}
	for _, it := range a.Lost {
		if !leftLost(a, left, it) {
			t.Fatalf("%s not left", it.Path)
		}
	}
	l := left[LeftCopyBack]
	if l == nil || !slices.Equal(l.Newer, []string{"/etc/adjtime"}) {
		t.Errorf("left %+v, want Newer [/etc/adjtime]", l)
	}
}
