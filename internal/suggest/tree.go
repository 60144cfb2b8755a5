package suggest

import (
	"os"
	"path"
	"slices"

	"github.com/nix-drift/drift/internal/fsys"
	"golang.org/x/sys/unix"
)

// walkTree visits p (absolute inside the directory root, not "/") and,
// where fn returns true for a directory, what lies beneath it: each
// directory's entries in lexical order (as filepath.WalkDir), fn given
// each one's path (absolute inside root) and lstat. It never follows a
// symlink, and never looks a whole path up by its name: p's parent is
// opened beneath root (fsys.OpenDirIn, which takes a name of any length)
// and every directory below beneath the one it is in (fsys.Open), so a
// tree deeper than PATH_MAX is walked whole. What cannot be read is left
// out, as WalkDir's callers here did with its errors.
func walkTree(root, p string, fn func(p string, st *unix.Stat_t) bool) {
	fd, err := fsys.OpenDirIn(root, path.Dir(p))
	if err != nil {
		return
	}
	defer unix.Close(fd)
	walkAt(fd, path.Base(p), p, fn)
}

// walkAt is walkTree of name, at p, in the directory dirFD.
func walkAt(dirFD int, name, p string, fn func(p string, st *unix.Stat_t) bool) {
	var st unix.Stat_t
	if unix.Fstatat(dirFD, name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
		return
	}
	if !fn(p, &st) || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return
	}
	fd, err := fsys.Open(dirFD, name, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return
	}
	f := os.NewFile(uintptr(fd), p)
	defer f.Close()
	names, _ := f.Readdirnames(-1)
	slices.Sort(names)
	for _, n := range names {
		walkAt(fd, n, path.Join(p, n), fn)
	}
}

// treeSize is the number of objects at and beneath p in root (p itself
// counted) and the bytes of the regular files among them (walkTree).
func treeSize(root, p string) (entries, bytes int64) {
	walkTree(root, p, func(_ string, st *unix.Stat_t) bool {
		entries++
		if st.Mode&unix.S_IFMT == unix.S_IFREG {
			bytes += st.Size
		}
		return true
	})
	return entries, bytes
}
