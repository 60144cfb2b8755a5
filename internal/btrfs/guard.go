package btrfs

import (
	"fmt"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nix-drift/drift/internal/mounts"
)

// ErrStorage wraps ErrUnsafe: --old-roots names persistent storage, the
// Nix store, or a place holding either (guardTarget). The wipe would retire
// the root into it and delete what is named like an old root there.
var ErrStorage = fmt.Errorf("%w: persistent storage", ErrUnsafe)

// MountEntry is one line of a mount table that may mount a subvolume of
// the filesystem a wipe acts on: an fstab(5) line (drift wipe's --fstab,
// filtered to the wipe's device) or a fileSystems entry (drift lint).
type MountEntry struct {
	// Point is the mount point; FSType the filesystem type ("" when not
	// known: counted as btrfs); Options the comma-separated options
	// (subvol=, subvolid=).
	Point, FSType, Options string
	// Where names the line for a message: "FILE:LINE", or the option
	// (`fileSystems."/persist"`).
	Where string
}

// StorageMount is the rule drift wipe and drift lint share for the
// subvolume paths a wipe acts on (--subvol, --old-roots): it returns
// "WHERE mounts SUBVOL at POINT" for the first btrfs entry of entries that
// mounts, elsewhere than / or /sysroot, a subvolume that is target, holds
// it or lies inside it (by subvol=, or by subvolid= through idPath, the
// paths of the filesystem's subvolumes by id; nil resolves none); "" when
// none does. Such a subvolume is the system's persistent storage or Nix
// store: retiring or deleting anything that overlaps it takes its data.
// target and the subvol= values are paths relative to the top level, with
// or without a leading "/".
func StorageMount(entries []MountEntry, target string, idPath map[uint64]string) string {
	target = cleanSubvol(target)
	for _, e := range entries {
		if e.FSType != "" && e.FSType != "btrfs" || e.Point == "/" || e.Point == "/sysroot" {
			continue
		}
		sv, ok := entrySubvol(e.Options, idPath)
		if !ok || !overlaps(sv, target) {
			continue
		}
		return fmt.Sprintf("%s mounts %s at %s", e.Where, orTop(sv), e.Point)
	}
	return ""
}

// entrySubvol is the subvolume mount options select: subvol= (cleaned),
// else subvolid= resolved through idPath; ok is false when they select
// none that is known.
func entrySubvol(opts string, idPath map[uint64]string) (string, bool) {
	for _, o := range strings.Split(opts, ",") {
		if v, ok := strings.CutPrefix(o, "subvol="); ok {
			return cleanSubvol(mounts.Unescape(v)), true
		}
	}
	for _, o := range strings.Split(opts, ",") {
		if v, ok := strings.CutPrefix(o, "subvolid="); ok {
			id, err := strconv.ParseUint(v, 10, 64)
			if p, known := idPath[id]; err == nil && known {
				return p, true
			}
		}
	}
	return "", false
}

// cleanSubvol is p relative to the top level, clean, without slashes at
// either end ("" for the top level itself).
func cleanSubvol(p string) string { return strings.Trim(path.Clean("/"+p), "/") }

// overlaps reports whether a and b (relative to the top level) are the
// same path or one is inside the other; the top level ("") overlaps
// nothing here: every path is inside it.
func overlaps(a, b string) bool {
	return a != "" && b != "" && (a == b || within(a, b) || within(b, a))
}

// orTop names p for a message, "the top level" for "".
func orTop(p string) string {
	if p == "" {
		return "the top level"
	}
	return p
}

// nixStoreOn says where a Nix store lies on the path rel (relative to
// the top level: rel itself or a directory on its way, NixStore), "" when
// none does.
func (t *Top) nixStoreOn(rel string) string {
	parts := strings.Split(rel, "/")
	for i := range parts {
		dir := strings.Join(parts[:i+1], "/")
		if mark := NixStore(filepath.Join(t.Dir, dir)); mark != "" {
			return dir + "/" + mark
		}
	}
	return ""
}

// guardTarget says why the subvolume path rel (--subvol or --old-roots,
// relative to the top level) is persistent storage by the system's
// facts, "" when none says so: the fstab file (this filesystem's lines)
// mounts a subvolume overlapping it elsewhere than / (StorageMount), or a
// subvolume overlapping it is mounted in this namespace (mounted, as
// MountedIDs), other than the top level and the ones skip accepts (the
// root itself, whose mount Plan refuses on its own terms; an old root,
// kept while mounted).
func (t *Top) guardTarget(rel, fstab string, subs []Subvolume, mounted map[uint64][]string, skip func(Subvolume) bool) string {
	idPath := map[uint64]string{}
	for _, s := range subs {
		idPath[s.ID] = s.Path
	}
	if at := StorageMount(fstabEntries(fstab, t.Source), rel, idPath); at != "" {
		return "overlaps persistent storage: " + at
	}
	for _, s := range subs {
		if !overlaps(s.Path, rel) || (skip != nil && skip(s)) {
			continue
		}
		if mps := mounted[s.ID]; len(mps) > 0 {
			return fmt.Sprintf("overlaps persistent storage: subvolume %s (%d) is mounted at %s", s.Path, s.ID, strings.Join(mps, ", "))
		}
	}
	return ""
}

// checkOldRoots refuses (ErrStorage) the --old-roots directory when
// it holds a Nix store (nixStoreOn), guardTarget finds a reason, or when
// one of its components has a storage name (storageNames) and it holds
// something that is not an old root: persistent storage typed for
// old_roots. An old root there is a subvolume with an old-root name that
// looks like a root (rootLike: a date-named home snapshot is none), so an
// empty or fresh directory passes whatever its name. In a preview the
// reason is a warning instead.
func (t *Top) checkOldRoots(p *Plan, existing []OldRoot, subs []Subvolume, mounted map[uint64][]string) error {
	opts := p.Options
	inOldRoot := func(s Subvolume) bool {
		for _, r := range existing {
			if r.managed() && (s.Path == r.Path || within(r.Path, s.Path)) {
				return true
			}
		}
		return false
	}
	why := ""
	if mark := t.nixStoreOn(opts.OldRoots); mark != "" {
		why = fmt.Sprintf("holds a Nix store (%s)", mark)
	} else {
		why = t.guardTarget(opts.OldRoots, opts.Fstab, subs, mounted, inOldRoot)
	}
	if why == "" {
		for _, part := range strings.Split(opts.OldRoots, "/") {
			base := strings.ToLower(strings.TrimPrefix(part, "@"))
			if !storageNames[base] {
				continue
			}
			if what := noOldRoot(existing); what != "" {
				why = fmt.Sprintf("is named %q, what persistent storage or the Nix store is called, and holds %s", part, what)
			}
			break
		}
	}
	if why == "" {
		return nil
	}
	msg := fmt.Sprintf("--old-roots %s %s; the wipe would retire the root into it and delete what is named like an old root there. Old roots belong in a directory of their own (old_roots): check --old-roots", opts.OldRoots, why)
	if opts.Preview {
		p.Warnings = append(p.Warnings, msg+" (drift wipe refuses to run)")
		return nil
	}
	return fmt.Errorf("%w: %s", ErrStorage, msg)
}

// noOldRoot names the first entry of entries that is no old root: one
// that is not a subvolume with an old-root name ("etc, which is no old
// root"), else one with such a name that does not look like a root
// (OldRoot.NotRoot); "" when every entry is an old root.
func noOldRoot(entries []OldRoot) string {
	for _, r := range entries {
		if !r.managed() {
			return r.Name + ", which is no old root"
		}
	}
	for _, r := range entries {
		if r.NotRoot != "" {
			return r.Name + ", which is named like an old root but is none: it " + r.NotRoot
		}
	}
	return ""
}
