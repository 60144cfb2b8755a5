package btrfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// CheckSubvolume verifies that rel (relative to the top level, "/root" or
// "@") names a subvolume reached through no symlink, and returns its clean
// path relative to the top level ("root") and its subvolume id. Errors: rel
// empty or escaping the top level, a component that is a symlink or
// missing, a directory that is not a subvolume's root.
func (t *Top) CheckSubvolume(rel string) (string, uint64, error) {
	clean := strings.Trim(path.Clean("/"+rel), "/")
	if clean == "" || strings.HasPrefix(path.Clean(rel), "..") {
		return "", 0, fmt.Errorf("%q: not a subvolume path below the top level", rel)
	}
	if err := t.checkNoSymlinks(clean); err != nil {
		return "", 0, err
	}
	dir := filepath.Join(t.Dir, clean)
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return "", 0, fmt.Errorf("/%s on %s: %w", clean, t.Source, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR || st.Ino != RootIno {
		return "", 0, fmt.Errorf("/%s on %s: not a btrfs subvolume", clean, t.Source)
	}
	info, err := SubvolumeOf(dir)
	if err != nil {
		return "", 0, err
	}
	return clean, info.ID, nil
}

// OldRootsDir lists the entries of dir, a directory of old roots seen
// anywhere (a mount of the top level's old_roots, or a copy on another
// filesystem), like Top.OldRoots: in chronological order, names parsed in
// loc. A directory with inode RootIno that BTRFS_IOC_GET_SUBVOL_INFO places at
// the root of a subvolume is KindSubvolume (with its id and creation time;
// no privilege needed) and drift's retirement mark (XattrRetired); Nested
// and Mounted stay empty. A missing dir is an error.
func OldRootsDir(dir string, loc *time.Location) ([]OldRoot, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []OldRoot
	for _, e := range ents {
		r := OldRoot{Name: e.Name(), Path: filepath.Join(dir, e.Name())}
		ino, err := r.lstat(r.Path, loc)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if r.Kind == KindDir && ino == RootIno {
			if info, err := SubvolumeOf(r.Path); err == nil {
				r.Kind, r.ID, r.OTime = KindSubvolume, info.ID, info.OTime.In(loc)
				r.RetiredBoot, r.RetiredFrom, r.RetiredAt = parseRetiredMark(getxattr(r.Path, XattrRetired), loc)
			}
		}
		r.resolveTime(loc)
		r.judgeRootLike(r.Path)
		out = append(out, r)
	}
	SortOldRoots(out)
	return out, nil
}

// PreviousRoot returns the newest entry of roots by real time (the order of
// SortOldRoots, never string order) whose kind is among kinds and which skip
// does not reject: the root of the previous boot. skip lets a caller pass
// over the subvolume mounted as the live root (a root renamed into
// old_roots after it was mounted is not the previous boot's). Entries whose
// names are not old-root names (ParseName: a manual-backup kept there) are
// never the previous root. ok is false when nothing qualifies.
func PreviousRoot(roots []OldRoot, kinds []Kind, skip func(OldRoot) bool) (r OldRoot, ok bool) {
	if last := RecentRoots(roots, kinds, skip, 1); len(last) == 1 {
		return last[0], true
	}
	return OldRoot{}, false
}

// OldRootsBeside returns where old roots are kept for the root subvolume at
// rootPath (relative to the top level): the seed's layout puts old_roots
// next to it ("root" -> "old_roots", "nixos/@" -> "nixos/old_roots"). A root
// that is itself inside an old_roots directory (a wipe renamed it after it
// was mounted) gives that directory.
func OldRootsBeside(rootPath string) string {
	dir := path.Dir(strings.Trim(path.Clean("/"+rootPath), "/"))
	def := DefaultOptions().OldRoots
	if path.Base(dir) == def {
		return dir
	}
	if dir == "." {
		return def
	}
	return path.Join(dir, def)
}
