package restore

import (
	"errors"

	"github.com/nix-drift/drift/internal/btrfs"
	"golang.org/x/sys/unix"
)

// mkdirAt makes the directory name under dirfd, mode 0700 (meta gives it
// the source's mode once it is filled), and returns a descriptor of it
// (opened as openDirAt does) for the caller to close. With subvol it is
// a new btrfs subvolume's root (btrfs.CreateSubvolumeAt), made 0700 at
// once too.
func mkdirAt(dirfd int, name string, subvol bool) (int, error) {
	if !subvol {
		if err := unix.Mkdirat(dirfd, name, 0o700); err != nil {
			return -1, err
		}
		return openDirAt(dirfd, name)
	}
	if err := btrfs.CreateSubvolumeAt(dirfd, name); err != nil {
		return -1, err
	}
	fd, err := openDirAt(dirfd, name)
	if err != nil {
		return -1, err
	}
	var st unix.Stat_t
	if err = unix.Fstat(fd, &st); err == nil && st.Ino != btrfs.RootIno {
		err = errors.New("replaced as it was made: not the subvolume made")
	}
	if err == nil {
		err = unix.Fchmod(fd, 0o700)
	}
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}
