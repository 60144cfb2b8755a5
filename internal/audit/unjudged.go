package audit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/units"
)

// unavailableStorage are the declared storage paths of m that are not
// available under the audited root, which is mounted here, not running
// (--root with the live mount table: a rescue system that mounted the
// root alone): nothing is mounted where the configuration mounts them, or
// they lie on the wiped filesystem (Model.Unmounted, not a symlink or a
// file in the way). On such a root, that the storage is not there says
// nothing of the next boot, which mounts it. With --mountinfo the table
// is the audited system's own: its storage not mounted is a fact of it.
func (m *Model) unavailableStorage() []string {
	if !m.mountedElsewhere {
		return nil
	}
	var out []string
	for _, sp := range m.storagePaths() {
		if e := m.Unmounted(sp); e != nil && e.Blocked == "" && e.Link == "" {
			out = append(out, sp)
		}
	}
	return out
}

// unjudged takes out of a what cannot be judged while storage paths of m
// are not available under the audited root (unavailableStorage): the
// declared-unbacked paths of declarations in them (whether the persistent
// copy holds them is not known: it is not there to read) and the vanished
// paths of such declarations (the copy "lacks" them only because it is not
// mounted). They are not counted as lost (Totals, Lost, Vanished); the
// warning says so once, with how many and the command that mounts the
// storage, in place of Model.Unmounted's warning and of the check's word
// on each declaration there (declared but not mounted from the copy) of those storage paths
// (Warning.Path is the first of them; the others are said in it too).
// ok is false when nothing was taken out.
func (m *Model) unjudged(a *diff.Audit) (w diff.Warning, ok bool) {
	storages := m.unavailableStorage()
	if len(storages) == 0 || a.Decls == nil {
		return diff.Warning{}, false
	}
	in := func(decl int) bool {
		return decl >= 0 && decl < len(a.Decls.Entries) && slices.Contains(storages, a.Decls.Entries[decl].StoragePath)
	}
	// declaredIn: the declared path p is declared in one of storages.
	declaredIn := func(p string) bool {
		return slices.ContainsFunc(a.Decls.Entries, func(e persist.Entry) bool {
			return e.Path == p && slices.Contains(storages, e.StoragePath)
		})
	}
	var unbacked diff.Total
	kept := a.Lost[:0]
	for _, it := range a.Lost {
		if it.Category == diff.DeclaredUnbacked && in(int(it.Decl)) {
			unbacked.Add(it.Total())
			continue
		}
		kept = append(kept, it)
	}
	a.Lost = kept
	if unbacked.Count > 0 {
		t := a.Totals[diff.DeclaredUnbacked]
		t.Count -= unbacked.Count
		t.Bytes -= unbacked.Bytes
		a.Totals[diff.DeclaredUnbacked] = t
	}
	var vanished int64
	keptV := a.Vanished[:0]
	for _, v := range a.Vanished {
		if v.Decl != "" && declaredIn(v.Decl) {
			vanished += v.Entries
			continue
		}
		keptV = append(keptV, v)
	}
	a.Vanished = keptV
	// diff's word on each declaration there ("declared but not mounted
	// from the copy": diff.WarnNotMounted, about the declared path) is
	// about the same copy it could not read.
	dropped := 0
	a.Warnings = slices.DeleteFunc(a.Warnings, func(w diff.Warning) bool {
		if w.Kind == diff.WarnNotMounted && declaredIn(w.Path) {
			dropped++
			return true
		}
		return false
	})
	if unbacked.Count == 0 && vanished == 0 && dropped == 0 {
		return diff.Warning{}, false
	}
	var what []string
	if unbacked.Count == 0 && vanished == 0 {
		what = append(what, "the declared paths")
	}
	if unbacked.Count > 0 {
		what = append(what, units.Plural(unbacked.Count, "declared path", "declared paths")+" with data on the root (declared-unbacked)")
	}
	if vanished > 0 {
		what = append(what, units.Plural(vanished, "declared path", "declared paths")+" gone since the last boot (VANISHED)")
	}
	var why, hints []string
	for _, sp := range storages {
		why = append(why, m.Unmounted(sp).Error())
		hints = append(hints, m.Unmounted(sp).Hint())
	}
	return diff.Warning{Kind: diff.WarnStorage, Path: storages[0], Message: fmt.Sprintf(
		"%s; so %s cannot be judged (whether the persistent copy holds them cannot be read) and are not counted as lost; %s",
		strings.Join(why, "; "), strings.Join(what, " and "), strings.Join(hints, "; "))}, true
}
