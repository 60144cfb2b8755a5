package adopt

import (
	"fmt"
	"path"
	"strings"

	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/pathx"
	"golang.org/x/sys/unix"
)

// bindMount bind-mounts the persistent copy dest over the live path p
// (both absolute as the live system under root sees them), as impermanence
// and preservation do at boot. Both are opened beneath root without
// following a symlink (O_PATH), and the mount is made between those
// descriptors, so no path is resolved twice. The persistent copy must be
// below storage; a live path that is not the same kind of object (a
// directory over a directory, a file over a file) is an error.
func bindMount(root, dest, p, storage string) error {
	rfd, err := fsys.OpenRoot(root)
	if err != nil {
		return err
	}
	defer unix.Close(rfd)
	open := func(q string) (int, uint32, error) {
		fd, err := fsys.Open(rfd, strings.TrimPrefix(q, "/"), unix.O_PATH)
		if err != nil {
			return -1, 0, fmt.Errorf("open %s: %w", path.Join(root, q), err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return -1, 0, err
		}
		return fd, st.Mode & unix.S_IFMT, nil
	}
	if !pathx.HasPrefix(dest, storage) {
		return fmt.Errorf("%s is not below the persistent storage path %s", dest, storage)
	}
	sfd, smode, err := open(dest)
	if err != nil {
		return err
	}
	defer unix.Close(sfd)
	tfd, tmode, err := open(p)
	if err != nil {
		return err
	}
	defer unix.Close(tfd)
	if smode != tmode || smode != unix.S_IFDIR && smode != unix.S_IFREG {
		return fmt.Errorf("%s and %s are not both directories or both files", path.Join(root, dest), path.Join(root, p))
	}
	return unix.Mount(fmt.Sprintf("/proc/self/fd/%d", sfd), fmt.Sprintf("/proc/self/fd/%d", tfd), "", unix.MS_BIND, "")
}
