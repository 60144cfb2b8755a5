package diff

import (
	"fmt"

	"github.com/nix-drift/drift/internal/units"
)

// unmountedDecl is a declared path the walk found on the ephemeral
// filesystem, not mounted from its persistent copy: warned about once the
// categories are final (warnUnmounted).
type unmountedDecl struct {
	path  string
	decl  int32
	isDir bool // the live path is a directory
}

// noteUnmounted records the declared path p (declaration d) that is not
// mounted (isDir: a directory), for warnUnmounted.
func (c *classifier) noteUnmounted(p string, d int32, isDir bool) {
	c.mu.Lock()
	c.unmounted = append(c.unmounted, unmountedDecl{path: p, decl: d, isDir: isDir})
	c.mu.Unlock()
}

// warnUnmounted warns about every declared path that is not mounted from
// its persistent copy, after the copies comparison (copied: what it found
// the same, per declaration), so that the warning says what the final
// categories say: how much under the path is lost at the next boot, or
// that the persistent copy already holds all of it and nothing is lost.
func (c *classifier) warnUnmounted(copied map[int32]Total) {
	if len(c.unmounted) == 0 {
		return
	}
	lost := c.lostByDecl()
	for _, u := range c.unmounted {
		d := &c.entries[u.decl]
		head := fmt.Sprintf("%s is declared%s but not mounted from %s", u.path, at(d.Pos), d.Source())
		l, cp := lost[u.decl], copied[u.decl]
		var msg string
		kind := WarnNotMounted
		switch {
		case DeclaredFileIsDir(d, u.path, u.isDir):
			kind = WarnSetup // a type mismatch on the root, whatever the copy holds
			msg = fmt.Sprintf("declared-unbacked: %s is declared as a file%s but is a directory: it and all it holds are wiped with the root (%s, %s) and the next boot mounts the file %s in its place; make it a file, or declare it as a directory", u.path, at(d.Pos), units.Plural(l.Count, "path", "paths"), units.Bytes(l.Bytes), d.Source())
		case l.Count > 0 && cp.Count > 0:
			msg = fmt.Sprintf("declared-unbacked: %s: what is written there now is lost at the next boot (%s, %s; %s already the same in the persistent copy)", head, units.Plural(l.Count, "path", "paths"), units.Bytes(l.Bytes), units.Plural(cp.Count, "path is", "paths are"))
		case l.Count > 0:
			msg = fmt.Sprintf("declared-unbacked: %s: what is written there now is lost at the next boot (%s, %s)", head, units.Plural(l.Count, "path", "paths"), units.Bytes(l.Bytes))
		case cp.Count > 0:
			msg = fmt.Sprintf("not mounted: %s: the persistent copy already holds all it has now (%s, %s, the same): nothing is lost at the next boot, which mounts the copy; what is written there before then is lost", head, units.Plural(cp.Count, "path", "paths"), units.Bytes(cp.Bytes))
		default:
			msg = fmt.Sprintf("not mounted: %s: nothing is there now; what is written there before the next boot is lost", head)
		}
		c.warn(kind, u.path, msg)
	}
}

// lostByDecl sums the lost items (Ignored included) by declaration
// (Item.Decl), after the copies pass.
func (c *classifier) lostByDecl() map[int32]Total {
	lost := map[int32]Total{}
	for _, it := range c.lost {
		if it.Decl >= 0 && it.Category.Lost() {
			t := lost[it.Decl]
			t.Add(it.Total())
			lost[it.Decl] = t
		}
	}
	return lost
}
