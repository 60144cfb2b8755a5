package rehearse

import (
	"strings"

	"github.com/nix-drift/drift/internal/diff"
)

// lies is a set of the places a declared path's data lies while its
// persistent copy lacks it (Path.lies): a bit per place, in the order
// String names them.
type lies uint8

const (
	// liesWiped: on the wiped root, declared but not backed
	// (diff.DeclaredUnbacked).
	liesWiped lies = 1 << iota
	// liesBeneathWiped: on the wiped root beneath a mount (diff.Shadowed).
	liesBeneathWiped
	// liesOtherFS: visible on a persistent filesystem other than the
	// root, not mounted from the copy (diff.Covered, visible).
	liesOtherFS
	// liesBeneathOtherFS: on a persistent filesystem beneath a mount
	// (diff.Covered, not visible).
	liesBeneathOtherFS
)

var liesWords = [...]string{"on the wiped root", "hidden beneath a mount on the wiped root",
	"on a persistent filesystem other than the root where it is not mounted from its copy", "hidden beneath a mount on a persistent filesystem"}

// liesOf is where the data of the declared lost item it lies: one bit of
// lies, 0 for an item of another category.
func liesOf(it *diff.Item) lies {
	switch {
	case it.Category == diff.DeclaredUnbacked:
		return liesWiped
	case it.Category == diff.Shadowed:
		return liesBeneathWiped
	case it.Category == diff.Covered && it.Visible():
		return liesOtherFS
	case it.Category == diff.Covered:
		return liesBeneathOtherFS
	}
	return 0
}

// String says where the data lies, for the adopt step of the Next line:
// "its data still on the wiped root or …", or that the persistent copy
// lacks it when l is empty.
func (l lies) String() string {
	var w []string
	for i, s := range liesWords {
		if l&(1<<i) != 0 {
			w = append(w, s)
		}
	}
	if len(w) == 0 {
		return "its persistent copy lacks its data"
	}
	return "its data still " + strings.Join(w, " or ")
}
