package restore

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/scan"
	"golang.org/x/sys/unix"
)

// SymlinkError reports a path component that is a symlink: restore never
// goes through one, on either side.
type SymlinkError struct {
	Side   string // "source" or "destination"
	Path   string // the component, as a full path (root included)
	Target string // what it points at
}

func (e *SymlinkError) Error() string {
	return fmt.Sprintf("%s path component %s is a symlink (to %s): drift never goes through a symlink", e.Side, e.Path, e.Target)
}

// NotDirError reports a path component that exists and is not a
// directory (nor a symlink): nothing can be put below it.
type NotDirError struct {
	Side string // "source" or "destination"
	Path string // the component, as a full path (root included)
	// Below is how many components of the path looked for lie below it.
	Below int
}

func (e *NotDirError) Error() string { return fmt.Sprintf("%s %s: not a directory", e.Side, e.Path) }

// components splits a clean absolute path into its names ("/" gives none).
func components(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// beneath is an opened root directory that paths are resolved under.
type beneath struct {
	fd   int
	dir  string // the root's path, for messages
	side string // "source" or "destination"
	// cross is how many leading components may be mount points (the
	// persistent storage path's own components); below them none may be.
	cross int
}

func openRoot(dir, side string) (*beneath, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("%s root %s: %w", side, dir, err)
	}
	return &beneath{fd: fd, dir: dir, side: side}, nil
}

func (b *beneath) close() { unix.Close(b.fd) }

func (b *beneath) full(comps []string) string {
	return path.Join(b.dir, "/"+strings.Join(comps, "/"))
}

// openDirs opens the directories comps beneath the root one at a time, each
// with openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS (so no component, and no
// symlink raced in, is ever followed), as deep as they exist. It returns an
// fd of the deepest directory opened (the root's own fd duplicated when none)
// and how many components it opened. A component that is a symlink is a
// *SymlinkError; one that is a mount point, past the first b.cross, a
// *MountError; one that is not a directory is a *NotDirError.
func (b *beneath) openDirs(comps []string) (fd, n int, err error) {
	fd, err = unix.Dup(b.fd)
	if err != nil {
		return -1, 0, err
	}
	for i, name := range comps {
		next, err := openDir(fd, name, i < b.cross)
		if err == nil {
			unix.Close(fd)
			fd = next
			continue
		}
		var st unix.Stat_t
		serr := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
		switch {
		case errors.Is(serr, unix.ENOENT):
			return fd, i, nil
		case serr != nil:
			err = serr
		case errors.Is(err, unix.EXDEV):
			err = &MountError{Side: b.side, Path: b.full(comps[:i+1])}
		case st.Mode&unix.S_IFMT == unix.S_IFLNK:
			target, _ := readlinkAt(fd, name)
			err = &SymlinkError{Side: b.side, Path: b.full(comps[:i+1]), Target: target}
		case st.Mode&unix.S_IFMT != unix.S_IFDIR:
			err = &NotDirError{Side: b.side, Path: b.full(comps[:i+1]), Below: len(comps) - i - 1}
		default:
			err = fmt.Errorf("%s %s: %w", b.side, b.full(comps[:i+1]), err)
		}
		unix.Close(fd)
		return -1, 0, err
	}
	return fd, len(comps), nil
}

// openDirAt opens the directory name (one component) under dirfd, refusing a
// symlink and a mount point (EXDEV): fsys.OpenNoXDev.
func openDirAt(dirfd int, name string) (int, error) { return openDir(dirfd, name, false) }

// openDir is openDirAt that, with cross, lets name be a mount point
// (fsys.Open).
func openDir(dirfd int, name string, cross bool) (int, error) {
	if cross {
		return fsys.Open(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY)
	}
	return fsys.OpenNoXDev(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY)
}

// readlinkAt reads the symlink name under dirfd, whatever its length
// (scan.ReadLink).
func readlinkAt(dirfd int, name string) (string, error) {
	buf := make([]byte, 256)
	return scan.ReadLink(&buf, func(b []byte) (int, error) { return unix.Readlinkat(dirfd, name, b) })
}

// dirMeta is the owner and mode a created parent directory gets.
type dirMeta struct {
	mode     uint32
	uid, gid int
}

// statDir returns the owner and mode of the directory comps beneath the root.
func (b *beneath) statDir(comps []string) (dirMeta, error) {
	fd, n, err := b.openDirs(comps)
	if err != nil {
		return dirMeta{}, err
	}
	defer unix.Close(fd)
	if n < len(comps) {
		return dirMeta{}, unix.ENOENT
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return dirMeta{}, err
	}
	return dirMeta{mode: st.Mode &^ unix.S_IFMT, uid: int(st.Uid), gid: int(st.Gid)}, nil
}

// mkdirMeta creates the directory name under dirfd with m's owner and mode,
// and returns an fd of it (opened as openDirAt does) for the caller to close.
func mkdirMeta(dirfd int, name string, m dirMeta) (int, error) {
	if err := unix.Mkdirat(dirfd, name, 0o700); err != nil {
		return -1, err
	}
	fd, err := openDirAt(dirfd, name)
	if err != nil {
		return -1, err
	}
	err = unix.Fchown(fd, m.uid, m.gid)
	if err == nil {
		err = unix.Fchmod(fd, m.mode)
	}
	if err == nil {
		err = unix.Fsync(fd)
	}
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// openSides opens req.From (the source side) and req.Root (the
// destination side) for a copy to dest (clean, absolute, as the live
// system sees it), and returns dest's components. The destination may
// cross no mount boundary below req.Base (the persistent storage path,
// which may itself be a mount; without it, below dest's parent). Errors:
// either root not an openable directory; dest not below req.Base.
func openSides(req Request, dest string) (src, dst *beneath, dcomps []string, err error) {
	dcomps = components(dest)
	cross := len(dcomps) - 1
	if req.Base != "" {
		base, err := CleanPath(req.Base)
		if err != nil || !pathx.HasPrefix(dest, base) {
			return nil, nil, nil, fmt.Errorf("destination %s is not below %q", dest, req.Base)
		}
		cross = len(components(base))
	}
	if src, err = openRoot(req.From, "source"); err != nil {
		return nil, nil, nil, err
	}
	if req.FromName != "" {
		src.dir = req.FromName // messages name the source as the user knows it
	}
	if dst, err = openRoot(req.Root, "destination"); err != nil {
		src.close()
		return nil, nil, nil, err
	}
	dst.cross = cross
	return src, dst, dcomps, nil
}
