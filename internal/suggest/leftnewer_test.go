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

// TestLeftNamesTheDeclaredPathsWithANewerCopy: a declared directory whose
// copy lacks a and holds a newer b (KeepChoose for a) is in NewerAdopt,
// b in Newer, so that its line offers --prefer persistent first; one
// whose copy's b is older is not.
func TestLeftNamesTheDeclaredPathsWithANewerCopy(t *testing.T) {
	decls := &persist.Set{Entries: []persist.Entry{{Kind: persist.Dir, StoragePath: "/p", Path: "/srv/new"}, {Kind: persist.Dir, StoragePath: "/p", Path: "/srv/half"}}}
	item := func(p string, decl int32, copy diff.CopyState, copyMtime int64) *diff.Item {
		it := &diff.Item{Path: p, Category: diff.DeclaredUnbacked, Mode: 0o100644, Decl: decl, Copy: copy, Mtime: 100}
		if copyMtime != 0 {
			it.SetCopyMtime(copyMtime)
		}
		return it
	}
	a := &diff.Audit{Decls: decls, Lost: []*diff.Item{item("/srv/half/a", 1, diff.CopyMissing, 0), item("/srv/half/b", 1, diff.CopyDiffers, 50),
		item("/srv/new/a", 0, diff.CopyMissing, 0), item("/srv/new/b", 0, diff.CopyDiffers, 200)}}
	left := leftCounter{}
	for _, it := range a.Lost {
		leftLost(a, left, it)
	}
	l := left[LeftChoose]
	if l == nil || !slices.Equal(l.Adopt, []string{"/srv/half", "/srv/new"}) || !slices.Equal(l.NewerAdopt, []string{"/srv/new"}) || !slices.Equal(l.Newer, []string{"/srv/new/b"}) {
		t.Errorf("left %+v, want NewerAdopt [/srv/new], Newer [/srv/new/b]", l)
	}
}

// TestLeftGroupsByTheDeclaredPathAsCheck: a fresh user's drift suggest
// said, on one line, that the copy's version of 19 paths comes back and
// --prefer persistent would change nothing, offering drift adopt --prefer
// live of declared paths whose copies lack files — for which the line
// above offered --prefer persistent too. A lost path whose own copy
// differs (diff.KeepCopyBack) below a declared path whose copy lacks
// others (diff.Audit.CopyLacks) is counted with the choice, as drift
// check's combined line groups it; only a declared path whose copy lacks
// nothing is on the copy-back line.
func TestLeftGroupsByTheDeclaredPathAsCheck(t *testing.T) {
	decls := &persist.Set{Entries: []persist.Entry{{Kind: persist.Dir, StoragePath: "/p", Path: "/srv/half"}, {Kind: persist.File, StoragePath: "/p", Path: "/etc/hostid"}}}
	a := &diff.Audit{Decls: decls, Lost: []*diff.Item{
		{Path: "/etc/hostid", Category: diff.DeclaredUnbacked, Mode: 0o100644, Decl: 1, Copy: diff.CopyDiffers, Mtime: 100},
		{Path: "/srv/half/a", Category: diff.DeclaredUnbacked, Mode: 0o100644, Decl: 0, Copy: diff.CopyMissing, Mtime: 100},
		{Path: "/srv/half/b", Category: diff.DeclaredUnbacked, Mode: 0o100644, Decl: 0, Copy: diff.CopyDiffers, Mtime: 100},
	}}
	left := leftCounter{}
	for _, it := range a.Lost {
		leftLost(a, left, it)
	}
	back, choose := left[LeftCopyBack], left[LeftChoose]
	if back == nil || !slices.Equal(back.Adopt, []string{"/etc/hostid"}) || back.Count != 1 {
		t.Errorf("copy-back %+v, want /etc/hostid alone", back)
	}
	if choose == nil || !slices.Equal(choose.Adopt, []string{"/srv/half"}) || !slices.Equal(choose.Paths, []string{"/srv/half/a", "/srv/half/b"}) {
		t.Errorf("choose %+v, want /srv/half with both its paths", choose)
	}
}
