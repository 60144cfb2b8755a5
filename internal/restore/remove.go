package restore

import (
	"errors"

	"github.com/nix-drift/drift/internal/btrfs"
	"golang.org/x/sys/unix"
)

// removeAll removes name under dirfd and, for a directory, everything in it,
// through descriptors: no symlink is followed, nothing outside is touched,
// and a directory on another device than the one holding it (a btrfs
// subvolume, a mount point) is never entered nor removed: a *MountError
// naming it (Subvolume set), what was removed before it gone.
func removeAll(dirfd int, name string) error { return remove(dirfd, name, false) }

// removeCopy is removeAll of a copy drift made (the temporary copy of a
// run, or one a killed run left: partial.Parse): the btrfs subvolumes in
// it, or it itself one, are the ones the copy made (Request.Subvolumes),
// and are removed too (rmdir(2) of a subvolume's root once empty, Linux
// 4.18 and later). A mount point is still never entered nor removed.
func removeCopy(dirfd int, name string) error { return remove(dirfd, name, true) }

func remove(dirfd int, name string, subvols bool) error {
	var parent unix.Stat_t
	if err := unix.Fstat(dirfd, &parent); err != nil {
		return err
	}
	return removeOn(dirfd, uint64(parent.Dev), name, name, subvols)
}

// removeOn is removeAll of name (shown as shown) under dirfd, whose device
// is dev; with subvols, a btrfs subvolume (its own device) is removed too.
func removeOn(dirfd int, dev uint64, name, shown string, subvols bool) error {
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
	if uint64(st.Dev) != dev {
		if !subvols || !btrfs.IsSubvolumeRootAt(dirfd, &st) {
			return &MountError{Side: "destination", Path: shown, Subvolume: true}
		}
		dev = uint64(st.Dev) // its entries are on its own device
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
			if err = removeOn(fd, dev, n, shown+"/"+n, subvols); err != nil {
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

// Deletion is what replacing an existing destination deletes: every object
// of the tree there, those restore does not copy (a socket, a device)
// included (Entries; Bytes sums its regular files' sizes), and of
// those the ones the copy has nothing at, which only the destination
// holds (Only: their destinations, absolute as the live system sees them,
// in walk order; OnlyBytes).
type Deletion struct {
	Entries, Bytes int64
	Only           []string
	OnlyBytes      int64
	// Newer are the regular files there that the copy replaces with a
	// regular file modified earlier (the destination's is newer than the
	// old root's: replacing it goes back in time), in walk order.
	Newer []Newer
}

// Newer is a destination file newer than the copy's file that replaces
// it: its destination (absolute as the live system sees it) and both
// modification times (ns since the epoch).
type Newer struct {
	Dest        string
	There, Copy int64
}

// deletion is what replacing the destination walked into there (nil:
// none) deletes when the copy holds items.
func deletion(there *Result, items []Item) Deletion {
	var d Deletion
	if there == nil {
		return d
	}
	copied := make(map[string]int64, len(items)) // dest → a regular file's mtime, -1 for another kind
	for _, it := range items {
		copied[it.Dest] = -1
		if it.Kind == KindFile {
			copied[it.Dest] = it.Mtime
		}
	}
	d.Entries, d.Bytes = int64(len(there.Items)+len(there.Skipped)), there.Bytes
	for _, it := range there.Items {
		m, ok := copied[it.Dest]
		switch {
		case !ok:
			d.Only = append(d.Only, it.Dest)
			d.OnlyBytes += it.Size
		case it.Kind == KindFile && m >= 0 && it.Mtime > m:
			d.Newer = append(d.Newer, Newer{Dest: it.Dest, There: it.Mtime, Copy: m})
		}
	}
	for _, sk := range there.Skipped { // a socket, a device: removed too
		d.Only = append(d.Only, sk.Path)
	}
	return d
}

// notSubvolume refuses (a *MountError with Subvolume) the directory st
// under the open directory dirfd when it lies on another device than
// dirfd: a btrfs subvolume, which replacing would delete. full names it.
func notSubvolume(dirfd int, st *unix.Stat_t, full string) error {
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil
	}
	var parent unix.Stat_t
	if err := unix.Fstat(dirfd, &parent); err != nil {
		return err
	}
	if parent.Dev != st.Dev {
		return &MountError{Side: "destination", Path: full, Subvolume: true}
	}
	return nil
}
