package prune

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/nix-drift/drift/internal/fsys"
	"golang.org/x/sys/unix"
)

// openParent opens the parent directory of rel (relative to dirFD, not
// empty) with fsys.OpenNoXDev and returns it with rel's last component.
func openParent(dirFD int, rel string) (int, string, error) {
	dir, base := path.Split(rel)
	if dir = strings.TrimSuffix(dir, "/"); dir == "" {
		dir = "."
	}
	fd, err := fsys.OpenNoXDev(dirFD, dir, unix.O_RDONLY|unix.O_DIRECTORY) // not O_PATH: it is fsynced
	return fd, base, err
}

// mkdirIn makes the directory name (one component) in dirFD, mode 0700,
// unless it is there, and opens it (fsys.OpenNoXDev): a symlink or non-directory
// there is an error.
func mkdirIn(dirFD int, name string) (int, error) {
	if err := unix.Mkdirat(dirFD, name, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, err
	}
	return fsys.OpenNoXDev(dirFD, name, unix.O_RDONLY|unix.O_DIRECTORY)
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
	fd, err := fsys.OpenNoXDev(dirFD, name, unix.O_RDONLY|unix.O_NONBLOCK)
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
// opened through fsys.OpenNoXDev: a mount point below is an EXDEV error, and what
// lies below it stays), nor entering a directory on another device than
// the one holding it (a nested btrfs subvolume: an error naming it, and it
// stays with what holds it).
func removeTree(dirFD int, name string) error {
	var parent unix.Stat_t
	if err := unix.Fstat(dirFD, &parent); err != nil {
		return err
	}
	return removeTreeOn(dirFD, uint64(parent.Dev), name)
}

// removeTreeOn is removeTree of name in dirFD, whose device is dev.
func removeTreeOn(dirFD int, dev uint64, name string) error {
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
	if uint64(st.Dev) != dev {
		return fmt.Errorf("%s: a btrfs subvolume or a mount point (another device): drift never deletes one", name)
	}
	fd, err := fsys.OpenNoXDev(dirFD, name, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	d := os.NewFile(uintptr(fd), name)
	defer d.Close()
	for {
		names, err := d.Readdirnames(256)
		for _, n := range names {
			if rerr := removeTreeOn(fd, dev, n); rerr != nil {
				return fmt.Errorf("%s/%w", name, rerr)
			}
		}
		if err != nil {
			break
		}
	}
	return unix.Unlinkat(dirFD, name, unix.AT_REMOVEDIR)
}
