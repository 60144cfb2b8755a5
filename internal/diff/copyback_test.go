package diff

import (
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/persist"
)

// TestKeepCopyBackOffersOnlyWhatChangesSomething: once drift adopt
// --prefer persistent /srv/www has copied into the persistent copy what it
// lacked, what is left lost below /srv/www is the live index.html whose
// copy holds other bytes, and a live directory sub (holding precious)
// where the copy holds a file. drift check listed them as before
// (KeepChoose) with --prefer live and --prefer persistent again, the
// second changing nothing: a row that could not clear. The model now says
// KeepCopyBack for each (the copy's comes back at the next boot; only
// --prefer live changes anything), and CopyLacks(/srv/www) is false.
// Before that adopt, with new.txt missing from the copy, the declared
// path lacks something (KeepChoose for new.txt, CopyLacks true), while
// index.html is KeepCopyBack either way (its own --prefer persistent
// changes nothing).
func TestKeepCopyBackOffersOnlyWhatChangesSomething(t *testing.T) {
	decls := &persist.Set{Entries: []persist.Entry{{Kind: persist.Dir, StoragePath: "/persist", Path: "/srv/www"}}}
	index := &Item{Path: "/srv/www/index.html", Category: DeclaredUnbacked, Mode: 0o100644, Decl: 0, Copy: CopyDiffers}
	sub := &Item{Path: "/srv/www/sub", Category: DeclaredUnbacked, Mode: 0o40755, Decl: 0, Copy: CopyDiffers}
	precious := &Item{Path: "/srv/www/sub/precious", Category: DeclaredUnbacked, Mode: 0o100600, Decl: 0, Copy: CopyMissing}
	newTxt := &Item{Path: "/srv/www/new.txt", Category: DeclaredUnbacked, Mode: 0o100644, Decl: 0, Copy: CopyMissing}

	before := &Audit{Decls: decls, Lost: []*Item{index, newTxt, sub, precious}}
	for _, c := range []struct {
		it   *Item
		want Keep
	}{{index, KeepCopyBack}, {newTxt, KeepChoose}, {sub, KeepCopyBack}, {precious, KeepCopyBack}} {
		if k, what := before.Keep(c.it); k != c.want || what != "/srv/www" {
			t.Errorf("before: %s: %v %q, want %v /srv/www", c.it.Path, k, what, c.want)
		}
	}
	if !before.CopyLacks("/srv/www") {
		t.Error("before: CopyLacks(/srv/www) false, want true: new.txt is missing from the copy")
	}

	after := &Audit{Decls: decls, Lost: []*Item{index, sub, precious}}
	for _, it := range after.Lost {
		if k, what := after.Keep(it); k != KeepCopyBack || what != "/srv/www" {
			t.Errorf("after: %s: %v %q, want copy-back /srv/www", it.Path, k, what)
		}
	}
	// drift adopt --prefer live of precious alone is refused (the copy
	// holds a file at sub): the command that keeps it takes sub.
	for it, want := range map[*Item]string{index: "/srv/www/index.html", sub: "/srv/www/sub", precious: "/srv/www/sub"} {
		if got := after.CopyBackAt(it); got != want {
			t.Errorf("CopyBackAt(%s) %q, want %q", it.Path, got, want)
		}
	}
	if after.CopyLacks("/srv/www") {
		t.Error("after: CopyLacks(/srv/www) true, want false: --prefer persistent would change nothing")
	}
	why := KeepCopyBack.Why()
	for _, want := range []string{"comes back at the next boot", "old root", "drift restore", "--prefer live keeps the live version"} {
		if !strings.Contains(why, want) {
			t.Errorf("Why %q lacks %q", why, want)
		}
	}
}
