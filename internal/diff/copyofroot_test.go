package diff

import (
	"fmt"
	"slices"
	"testing"

	"github.com/nix-drift/drift/internal/persist"
)

// TestOneCopyRuleForASourceOfTheRoot: the vanished walk had its own rule
// for where a declaration keeps a path (copyOf), which said "no copy" for
// a persistent copy of "/" (the declared /srv kept at /: /srv/x at /x),
// so a file of the previous root gone from the live path and from its
// copy was never listed; CopyOf, which check, restore and suggest read,
// says /x. Both now read CopyOf: the file gone from both is vanished,
// the one the copy holds is not. CopyOf also cleans the source: a
// declaration of "/" under /persist has the source "/persist/", and its
// copy of /srv/x was "/persist//srv/x".
func TestOneCopyRuleForASourceOfTheRoot(t *testing.T) {
	root := persist.Entry{Kind: persist.Dir, StoragePath: "/persist", Path: "/"}
	if got := CopyOf(&root, "/srv/x"); got != "/persist/srv/x" {
		t.Errorf("a declaration of / under /persist: CopyOf = %q, want /persist/srv/x", got)
	}
	e := dir("/srv")
	e.SetSourcePath("/")
	if got := CopyOf(&e, "/srv/x"); got != "/x" {
		t.Errorf("source /: CopyOf = %q, want /x", got)
	}
	prev := prevTree(t, "f /srv/gone.txt only in the old root\nf /srv/kept.txt in the copy\n")
	a := check(t, "d /srv\nf /kept.txt in the copy\n", btrfsSystem, []persist.Entry{e}, func(cfg *Config) {
		cfg.PreviousRoot = prev
	})
	var got []string
	for _, v := range a.Vanished {
		got = append(got, fmt.Sprintf("%s decl=%s", v.Path, v.Decl))
	}
	if want := []string{"/srv/gone.txt decl=/srv"}; !slices.Equal(got, want) {
		t.Errorf("vanished %q, want %q", got, want)
	}
}
