package restore

import (
	"errors"

	"golang.org/x/sys/unix"
)

// removeAll removes name under dirfd and, for a directory, everything in it,
// through descriptors: no symlink is followed, nothing outside is touched.
func removeAll(dirfd int, name string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return unix.Unlinkat(dirfd, name, 0)
	}
	fd, err := openDirAt(dirfd, name)
	if err != nil {
		return err
	}
	if err := sameObject(fd, &st); err != nil {
		unix.Close(fd)
		return err
	}
	names, err := readNames(fd)
	if err == nil {
		for _, n := range names {
			if err = removeAll(fd, n); err != nil {
				break
			}
		}
	}
	unix.Close(fd)
	if err != nil {
		return err
	}
	return unix.Unlinkat(dirfd, name, unix.AT_REMOVEDIR)
}
