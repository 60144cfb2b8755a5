package diff

import "path"

// copyBacks is what Audit.copyBacks finds once in Lost: the live
// directories whose persistent copy holds another object (CopyDiffers),
// the declared paths whose persistent copy lacks a lost path drift adopt
// --prefer persistent would copy (CopyLacks), and the paths below each
// declared path whose copy is newer (CopyNewerBelow).
type copyBacks struct {
	differs map[string]bool
	lacks   map[string]bool
	newer   map[string][]string
}

// at says whether the persistent copy holds another object at it or at
// a live directory above it, below the declaration covering it:
// KeepCopyBack.
func (c *copyBacks) at(it *Item) bool {
	return c.where(it) != ""
}

// where is the path at or above it where the persistent copy holds
// another object (it's own, CopyDiffers; else the nearest live directory
// above it whose copy is another type), "" when there is none.
func (c *copyBacks) where(it *Item) string {
	if it.Copy == CopyDiffers {
		return it.Path
	}
	for p := it.Path; p != "/" && len(c.differs) > 0; {
		p = path.Dir(p)
		if c.differs[p] {
			return p
		}
	}
	return ""
}

// copyBacks computes copyBacks at the first call, from Lost as it is then
// (as Differing: once Check is done, never from two goroutines at once
// before the first call returns).
func (a *Audit) copyBacks() *copyBacks {
	if a.copyBack != nil {
		return a.copyBack
	}
	c := &copyBacks{}
	for _, it := range a.Lost {
		if it.Copy == CopyDiffers && it.IsDir() {
			if c.differs == nil {
				c.differs = map[string]bool{}
			}
			c.differs[it.Path] = true
		}
	}
	for _, it := range a.Lost {
		if a.Decls == nil || hiddenStale(it) || a.shownDeleted(it) != nil {
			continue
		}
		if it.CopyNewer() {
			if e, ok := a.Decls.Covering(it.Path); ok {
				if c.newer == nil {
					c.newer = map[string][]string{}
				}
				c.newer[e.Path] = append(c.newer[e.Path], it.Path)
			}
		}
		if c.at(it) {
			continue
		}
		if it.Category != DeclaredUnbacked && it.Category != Covered && it.Category != Shadowed && it.Category != Ignored {
			continue
		}
		if e, ok := a.Decls.Covering(it.Path); ok {
			if c.lacks == nil {
				c.lacks = map[string]bool{}
			}
			c.lacks[e.Path] = true
		}
	}
	a.copyBack = c
	return c
}

// CopyLacks says whether drift adopt --prefer persistent of the declared
// path decl (persist.Entry.Path) copies anything: some lost path below it
// (Ignored ones included: adopting a declared path copies all of it) that
// its persistent copy lacks, not below a live directory where the copy
// holds another kind of object (which the copy's object replaces whole).
// Where it is false and the copy differs (Differing), only --prefer live
// changes anything: every lost path below decl is KeepCopyBack.
func (a *Audit) CopyLacks(decl string) bool {
	return a.copyBacks().lacks[decl]
}

// CopyNewerBelow are the lost paths below the declared path decl (Ignored
// ones included), in Lost's order, whose persistent copy holds another
// object of the same type modified after the live one (Item.CopyNewer):
// where drift adopt --prefer live of decl would replace newer data, so
// that --prefer persistent is offered first for it.
func (a *Audit) CopyNewerBelow(decl string) []string {
	return a.copyBacks().newer[decl]
}

// CopyBackAt is, for a KeepCopyBack item, the path drift adopt --prefer
// live takes to keep it: its own, or that of the live directory above it
// whose persistent copy is another type of object (adopting the path
// alone is refused: the copy holds no directory there). "" for any
// other item.
func (a *Audit) CopyBackAt(it *Item) string {
	if k, _ := a.Keep(it); k != KeepCopyBack {
		return ""
	}
	return a.copyBacks().where(it)
}
