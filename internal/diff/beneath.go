package diff

import (
	"fmt"
	"path"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// openRetries bounds the retries of an openat2 that says EAGAIN: a rename
// or mount raced with RESOLVE_BENEATH's lookup, or (O_NONBLOCK) another
// process holds a lease on the file; the latter never ends by itself.
const openRetries = 8

// openAt opens rel (relative, no leading "/"; "." for dirFD itself) beneath
// the directory dirFD with flags (O_CLOEXEC and O_NOFOLLOW added), never
// through a symlink in any component and never outside dirFD: openat2 with
// RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS. There is no
// weaker fallback: before Linux 5.6 (ENOSYS) it fails, saying so. EAGAIN
// is retried openRetries times, then returned (with O_NONBLOCK it is also
// what a file under another process's lease gives until the lease is
// broken, up to /proc/sys/fs/lease-break-time later). Every open of a path
// inside an audited or previous root goes through here.
func openAt(dirFD int, rel string, flags int) (int, error) {
	if strings.IndexByte(rel, 0) >= 0 {
		return -1, unix.EINVAL
	}
	return openat2(dirFD, append([]byte(rel), 0), flags)
}

// openat2 is openAt of a NUL-terminated name (namez[len(namez)-1] == 0):
// raw openat2(2), so the lockstep walk's opens (realFS.open) allocate
// nothing.
func openat2(dirFD int, namez []byte, flags int) (int, error) {
	how := unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC | unix.O_NOFOLLOW),
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	}
	for try := 0; ; try++ {
		r, _, e := unix.Syscall6(unix.SYS_OPENAT2, uintptr(dirFD), uintptr(unsafe.Pointer(&namez[0])), uintptr(unsafe.Pointer(&how)), unsafe.Sizeof(how), 0, 0)
		switch {
		case e == 0:
			return int(r), nil
		case e == unix.EINTR || e == unix.EAGAIN && try < openRetries:
			continue
		case e == unix.ENOSYS:
			return -1, fmt.Errorf("openat2: %w (needs Linux 5.6 or later)", e)
		}
		return -1, e
	}
}

// openBeneath opens the regular file rel below rootFD for reading (openAt),
// without blocking on a fifo or becoming a controlling terminal. It asks for
// O_NOATIME (reading leaves access times as they were: an audit does not
// touch what it reads), and opens without it where that is refused (EPERM:
// a file neither owned by the caller nor opened with CAP_FOWNER).
func openBeneath(rootFD int, rel string) (int, error) {
	flags := unix.O_RDONLY | unix.O_NOCTTY | unix.O_NONBLOCK
	fd, err := openAt(rootFD, rel, flags|unix.O_NOATIME)
	if err == unix.EPERM {
		fd, err = openAt(rootFD, rel, flags)
	}
	return fd, err
}

// inParent calls f with a descriptor of rel's parent directory (opened with
// openAt; dirFD itself for a top-level name) and rel's last component, so
// that f can fstatat/readlinkat the name without following it.
func inParent(dirFD int, rel string, f func(fd int, name string) error) error {
	dir, base := path.Split(rel)
	fd := dirFD
	if dir = strings.TrimSuffix(dir, "/"); dir != "" {
		var err error
		if fd, err = openAt(dirFD, dir, unix.O_PATH|unix.O_DIRECTORY); err != nil {
			return err
		}
		defer unix.Close(fd)
	}
	return f(fd, base)
}

// statBeneath lstats rel (no leading "/", not empty) beneath dirFD; no
// symlink is ever followed.
func statBeneath(dirFD int, rel string, st *unix.Stat_t) error {
	return inParent(dirFD, rel, func(fd int, name string) error {
		return unix.Fstatat(fd, name, st, unix.AT_SYMLINK_NOFOLLOW)
	})
}

// readlinkBeneath reads the symlink rel beneath dirFD.
func readlinkBeneath(dirFD int, rel string) (string, error) {
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
