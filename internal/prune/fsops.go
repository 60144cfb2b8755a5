package prune

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// openIn opens rel (relative; "." for dirFD itself) beneath dirFD with
// flags (O_CLOEXEC, O_NOFOLLOW added), never through a symlink, never
// across a mount point and never outside dirFD: openat2 with
// RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS|
// RESOLVE_NO_XDEV. Errors: the syscall's (ELOOP: a symlink on the way;
// EXDEV: a mount point on the way; ENOSYS: Linux before 5.6).
func openIn(dirFD int, rel string, flags int) (int, error) {
	if strings.IndexByte(rel, 0) >= 0 {
		return -1, unix.EINVAL
	}
	how := unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC | unix.O_NOFOLLOW),
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV,
	}
	name := append([]byte(rel), 0)
	for try := 0; ; try++ {
		r, _, e := unix.Syscall6(unix.SYS_OPENAT2, uintptr(dirFD), uintptr(unsafe.Pointer(&name[0])), uintptr(unsafe.Pointer(&how)), unsafe.Sizeof(how), 0, 0)
		switch {
		case e == 0:
			return int(r), nil
		case e == unix.EINTR || e == unix.EAGAIN && try < 8:
			continue
		case e == unix.ENOSYS:
			return -1, fmt.Errorf("openat2: %w (needs Linux 5.6 or later)", e)
		}
		return -1, e
	}
}

// openParent opens the parent directory of rel (relative to dirFD, not
// empty) with openIn and returns it with rel's last component.
func openParent(dirFD int, rel string) (int, string, error) {
	dir, base := path.Split(rel)
	if dir = strings.TrimSuffix(dir, "/"); dir == "" {
		dir = "."
	}
	fd, err := openIn(dirFD, dir, unix.O_RDONLY|unix.O_DIRECTORY) // not O_PATH: it is fsynced
	return fd, base, err
}

// mkdirIn makes the directory name (one component) in dirFD, mode 0700,
// unless it is there, and opens it (openIn): a symlink or non-directory
// there is an error.
func mkdirIn(dirFD int, name string) (int, error) {
	if err := unix.Mkdirat(dirFD, name, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, err
	}
	return openIn(dirFD, name, unix.O_RDONLY|unix.O_DIRECTORY)
}

// writeAtomic writes data as name in dirFD: to name.tmp (created
// exclusively, never through a symlink), synced, renamed over name, and
// the directory synced; a crash leaves the old file or the new one, never
// a part.
func writeAtomic(dirFD int, name string, data []byte) error {
	tmp := name + ".tmp"
	_ = unix.Unlinkat(dirFD, tmp, 0) // a leftover of an interrupted write
	fd, err := unix.Openat(dirFD, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), tmp)
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = unix.Renameat(dirFD, tmp, dirFD, name)
	}
	if err != nil {
		_ = unix.Unlinkat(dirFD, tmp, 0)
		return err
	}
	return unix.Fsync(dirFD)
}

// readIn reads the regular file name of dirFD, at most 64 MiB.
func readIn(dirFD int, name string) ([]byte, error) {
	fd, err := openIn(dirFD, name, unix.O_RDONLY|unix.O_NONBLOCK)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() || st.Size() > 64<<20 {
		return nil, fmt.Errorf("%s: not a regular file of at most 64 MiB", name)
	}
	return os.ReadFile(fmt.Sprintf("/proc/self/fd/%d", fd))
}

// present reports whether name exists in dirFD (not followed).
func present(dirFD int, name string) (bool, error) {
	var st unix.Stat_t
	err := unix.Fstatat(dirFD, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return false, nil
	}
	return err == nil, err
}

// removeTree deletes name in dirFD and everything below it, never
// following a symlink and never crossing a mount point (a directory
// opened through openIn: a mount point below is an EXDEV error, and what
// lies below it stays). An empty btrfs subvolume is removed by rmdir
// (Linux 4.18 or later).
func removeTree(dirFD int, name string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(dirFD, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return unix.Unlinkat(dirFD, name, 0)
	}
	fd, err := openIn(dirFD, name, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	d := os.NewFile(uintptr(fd), name)
	defer d.Close()
	for {
		names, err := d.Readdirnames(256)
		for _, n := range names {
			if rerr := removeTree(fd, n); rerr != nil {
				return fmt.Errorf("%s/%w", name, rerr)
			}
		}
		if err != nil {
			break
		}
	}
	return unix.Unlinkat(dirFD, name, unix.AT_REMOVEDIR)
}
