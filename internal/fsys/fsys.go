package fsys

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// beneath is the resolution of every open inside a root: no symlink in any
// component (the last one included), no /proc magic link, never above the
// directory the path is relative to (".." out of it and an absolute path
// are EXDEV).
const beneath = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// openRetries bounds the retries of an openat2 that says EAGAIN: a rename
// or mount raced with the lookup (RESOLVE_BENEATH, RESOLVE_IN_ROOT), or,
// with O_NONBLOCK, another process holds a lease on the file; the latter
// never ends by itself, so a caller racing it gets the error instead of
// spinning.
const openRetries = 8

// Open opens rel (relative, no leading "/"; "." for dirFD itself) beneath
// the directory dirFD with flags (O_CLOEXEC and O_NOFOLLOW added), never
// through a symlink in any component and never outside dirFD: openat2 with
// RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS. It returns
// the new descriptor, which the caller closes. Errors are the system
// call's unix.Errno, unwrapped: ELOOP a symlink on the way or at the end
// (ENOTDIR at the end with O_DIRECTORY), EXDEV a way out of dirFD,
// ENOENT, ENOTDIR a non-directory on the way…; EINVAL for a name
// holding a NUL byte. EINTR is retried; EAGAIN openRetries times, then
// returned (with O_NONBLOCK it is also what a file under another
// process's lease gives until the lease is broken, up to
// /proc/sys/fs/lease-break-time later). Before Linux 5.6 there is no
// weaker fallback: the error wraps ENOSYS and says that openat2 needs
// Linux 5.6 or later.
//
// A rel longer than one openat2 takes (PATH_MAX, 4096 bytes with its NUL;
// a deep enough name is) is opened in chunks by openLong, each beneath the
// directory the one before opened, with the same resolution; a shorter
// one is one openat2. So are OpenNoXDev's, OpenZ's, Lstat's and
// Readlink's.
func Open(dirFD int, rel string, flags int) (int, error) {
	if strings.IndexByte(rel, 0) >= 0 {
		return -1, unix.EINVAL
	}
	return openRel(dirFD, rel, howOf(flags, beneath))
}

// OpenNoXDev is Open that also never crosses a mount point
// (RESOLVE_NO_XDEV): a mount point on the way, or rel itself one, is
// EXDEV. It is how drift opens where it writes.
func OpenNoXDev(dirFD int, rel string, flags int) (int, error) {
	if strings.IndexByte(rel, 0) >= 0 {
		return -1, unix.EINVAL
	}
	return openRel(dirFD, rel, howOf(flags, beneath|unix.RESOLVE_NO_XDEV))
}

// OpenZ is Open of a NUL-terminated name (namez[len(namez)-1] == 0, no
// other NUL in it): it allocates nothing, for a walk's opens.
func OpenZ(dirFD int, namez []byte, flags int) (int, error) {
	if len(namez) > unix.PathMax {
		return openLong(dirFD, string(namez[:len(namez)-1]), howOf(flags, beneath))
	}
	return openat2(dirFD, namez, howOf(flags, beneath))
}

// OpenInRoot opens rel (relative; "." for rootFD itself) with flags
// (O_CLOEXEC added, O_NOFOLLOW not: the caller adds it to refuse a link at
// the end) resolved as if rootFD were "/" (RESOLVE_IN_ROOT|
// RESOLVE_NO_MAGICLINKS): a symlink on the way is followed, but an
// absolute target or ".." never leads out of rootFD. This is how a
// configuration is read as the system it describes sees it, under another
// root. Errors as Open's (ENOSYS wrapped and said before Linux 5.6; a
// caller may fall back then), except that a rel longer than PATH_MAX is
// ENAMETOOLONG, not opened in chunks: a chunk would resolve an absolute
// link as if its own start, not rootFD, were "/". (Configurations are
// read by it, at short names.)
func OpenInRoot(rootFD int, rel string, flags int) (int, error) {
	if strings.IndexByte(rel, 0) >= 0 {
		return -1, unix.EINVAL
	}
	h := unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	return openat2(rootFD, append([]byte(rel), 0), h)
}

// maxRel is the longest name one openat2 takes: PATH_MAX bytes with the
// terminating NUL.
const maxRel = unix.PathMax - 1

// openRel is openat2 of rel under dirFD with how: one system call for a
// rel of at most maxRel bytes, openLong's chunks for a longer one.
func openRel(dirFD int, rel string, how unix.OpenHow) (int, error) {
	if len(rel) > maxRel {
		return openLong(dirFD, rel, how)
	}
	return openat2(dirFD, append([]byte(rel), 0), how)
}

// openLong opens rel, longer than maxRel, under dirFD: it cuts rel at a
// "/" into chunks of at most maxRel bytes (a component is at most NAME_MAX,
// 255 bytes, so a cut is always found), opens each chunk but the last as a
// directory (O_PATH|O_DIRECTORY) beneath the one before, with how's
// resolution (no symlink in any component, never above the chunk's start,
// with RESOLVE_NO_XDEV never across a mount point, a chunk's last
// component included), and the last chunk with how itself. Each chunk is
// held beneath its own start, so a ".." that would lead out of a chunk is
// EXDEV even where the whole rel would stay beneath dirFD (drift's paths
// are clean: they hold no ".."). Errors: openat2's for the chunk that
// failed (ENAMETOOLONG for a component longer than maxRel).
func openLong(dirFD int, rel string, how unix.OpenHow) (int, error) {
	fd := dirFD
	// No O_NOFOLLOW: RESOLVE_NO_SYMLINKS refuses a symlink at a chunk's end
	// as one on the way (ELOOP, where O_NOFOLLOW|O_DIRECTORY says ENOTDIR).
	dirHow := unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: how.Resolve}
	for len(rel) > maxRel {
		cut := strings.LastIndexByte(rel[:maxRel+1], '/')
		if cut <= 0 {
			closeUnless(fd, dirFD)
			return -1, unix.ENAMETOOLONG
		}
		next, err := openat2(fd, append([]byte(rel[:cut]), 0), dirHow)
		closeUnless(fd, dirFD)
		if err != nil {
			return -1, err
		}
		fd, rel = next, strings.TrimLeft(rel[cut:], "/")
		if rel == "" {
			rel = "."
		}
	}
	r, err := openat2(fd, append([]byte(rel), 0), how)
	closeUnless(fd, dirFD)
	return r, err
}

// closeUnless closes fd unless it is keep (the caller's descriptor).
func closeUnless(fd, keep int) {
	if fd != keep {
		unix.Close(fd)
	}
}

// howOf is the open_how of flags|O_CLOEXEC|O_NOFOLLOW resolved by resolve.
func howOf(flags int, resolve uint64) unix.OpenHow {
	return unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC | unix.O_NOFOLLOW), Resolve: resolve}
}

// openat2 is raw openat2(2) of namez (NUL-terminated) under dirFD, with
// the retries and errors Open describes.
func openat2(dirFD int, namez []byte, how unix.OpenHow) (int, error) {
	for try := 0; ; try++ {
		r, _, e := unix.Syscall6(unix.SYS_OPENAT2, uintptr(dirFD), uintptr(unsafe.Pointer(&namez[0])), uintptr(unsafe.Pointer(&how)), unsafe.Sizeof(how), 0, 0)
		switch {
		case e == 0:
			return int(r), nil
		case e == unix.EINTR || e == unix.EAGAIN && try < openRetries:
			continue
		case e == unix.ENOSYS:
			return -1, enosys()
		}
		return -1, e
	}
}

// enosys is the error of openat2 on a kernel without it (before 5.6).
func enosys() error { return fmt.Errorf("openat2: %w (needs Linux 5.6 or later)", unix.ENOSYS) }

// OpenRoot opens the directory dir as a root that paths are opened
// beneath (O_PATH|O_DIRECTORY|O_CLOEXEC); the caller closes it. dir
// itself is resolved as open(2) does (a symlink to a directory is
// followed: the user named it). Errors: open(2)'s unix.Errno.
func OpenRoot(dir string) (int, error) {
	return unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
}

// OpenRead opens the file rel beneath dirFD (Open) for reading, without
// blocking on a fifo or becoming a controlling terminal
// (O_RDONLY|O_NOCTTY|O_NONBLOCK). It asks for O_NOATIME (reading leaves
// access times as they were: an audit does not touch what it reads), and
// opens without it where that is refused (EPERM: a file neither owned by
// the caller nor opened with CAP_FOWNER). Any type of file opens: the
// caller checks it is a regular one (safefile.FromFD). Errors: Open's.
func OpenRead(dirFD int, rel string) (int, error) {
	flags := unix.O_RDONLY | unix.O_NOCTTY | unix.O_NONBLOCK
	fd, err := Open(dirFD, rel, flags|unix.O_NOATIME)
	if err == unix.EPERM {
		fd, err = Open(dirFD, rel, flags)
	}
	return fd, err
}

// inParent calls f with a descriptor of rel's parent directory (opened
// with Open, O_PATH; dirFD itself for a top-level name) and rel's last
// component, so that f can fstatat or readlinkat the name without
// following it.
func inParent(dirFD int, rel string, f func(fd int, name string) error) error {
	dir, base := path.Split(rel)
	fd := dirFD
	if dir = strings.TrimSuffix(dir, "/"); dir != "" {
		var err error
		if fd, err = Open(dirFD, dir, unix.O_PATH|unix.O_DIRECTORY); err != nil {
			return err
		}
		defer unix.Close(fd)
	}
	return f(fd, base)
}

// Lstat fills st with what rel (relative, no leading "/", not empty) is
// beneath dirFD, never through a symlink: the components on the way are
// opened with Open, the last one is not followed (fstatat
// AT_SYMLINK_NOFOLLOW). Errors: Open's for the way, fstatat's for the
// last component; Absent tells which mean that nothing is there.
func Lstat(dirFD int, rel string, st *unix.Stat_t) error {
	return inParent(dirFD, rel, func(fd int, name string) error {
		return unix.Fstatat(fd, name, st, unix.AT_SYMLINK_NOFOLLOW)
	})
}

// Readlink returns the target of the symlink rel (relative, not empty)
// beneath dirFD, the way there opened as Lstat does. A target is at most
// PATH_MAX bytes. Errors: Open's, readlinkat's (EINVAL: not a symlink).
func Readlink(dirFD int, rel string) (string, error) {
	var target string
	err := inParent(dirFD, rel, func(fd int, name string) error {
		buf := make([]byte, unix.PathMax)
		n, err := unix.Readlinkat(fd, name, buf)
		if err == nil {
			target = string(buf[:n])
		}
		return err
	})
	return target, err
}

// Absent reports whether an error of Lstat, Open or their In forms means
// that nothing is there to see: missing (ENOENT), a non-directory (ENOTDIR)
// or a symlink (ELOOP) where a directory is on the way, or a way out of
// the root (EXDEV).
func Absent(err error) bool {
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EXDEV)
}

// StatIn lstats p (absolute inside root, "/etc/ssh"; "/" for root itself)
// beneath the directory root, never through a symlink in any component
// (OpenRoot, then Lstat). Errors: OpenRoot's, Lstat's (Absent).
func StatIn(root, p string) (unix.Stat_t, error) {
	var st unix.Stat_t
	fd, err := OpenRoot(root)
	if err != nil {
		return st, err
	}
	defer unix.Close(fd)
	if rel := strings.TrimLeft(p, "/"); rel == "" {
		err = unix.Fstat(fd, &st)
	} else {
		err = Lstat(fd, rel, &st)
	}
	return st, err
}

// OpenDirIn opens the directory p (absolute inside root; "/" for root
// itself) beneath root for reading (O_RDONLY|O_DIRECTORY), never through a
// symlink (Open). The caller closes it. Errors: OpenRoot's, Open's (ELOOP:
// a symlink on the way; ENOTDIR: p is not a directory, or a symlink;
// EXDEV: ".." out of root).
func OpenDirIn(root, p string) (int, error) {
	fd, err := OpenRoot(root)
	if err != nil {
		return -1, err
	}
	defer unix.Close(fd)
	rel := strings.TrimLeft(p, "/")
	if rel == "" {
		rel = "."
	}
	return Open(fd, rel, unix.O_RDONLY|unix.O_DIRECTORY)
}

// ReadlinkIn reads the symlink p (absolute inside root, not root itself)
// beneath root, never through a symlink on the way (Readlink). Errors:
// OpenRoot's, Readlink's.
func ReadlinkIn(root, p string) (string, error) {
	fd, err := OpenRoot(root)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	return Readlink(fd, strings.TrimLeft(p, "/"))
}
