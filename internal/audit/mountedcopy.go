package audit

import (
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/mounts"
	"golang.org/x/sys/unix"
)

// MountedUntilAt says whether copyPath, an object in persistent storage
// declared by nothing now, was bind-mounted at live until the last boot,
// and how the model knows it ("" when it does not, or on any error). One
// rule wherever the mount point lies:
//   - on the wiped root, the wipe took the mount point: the previous
//     boot's root (Model.Previous, found with Options.Uncompared or
//     compared) holds an empty directory at live, live is absent now, and
//     copyPath is a directory (markMountedCopies' rule for one path,
//     looked up without the vanished walk);
//   - on another persistent filesystem (a /home subvolume), the mount
//     point outlives the boot: nothing is mounted at live now, and live is
//     what impermanence made to mount over — an empty directory for a
//     directory copy, an empty regular file for a file copy — while the
//     copy holds the data.
func (m *Model) MountedUntilAt(copyPath, live string) string {
	if live == "/" {
		return ""
	}
	cst, err := fsys.StatIn(m.Root, copyPath)
	if err != nil {
		return ""
	}
	lst, err := fsys.StatIn(m.Root, live)
	if fsys.Absent(err) {
		if cst.Mode&unix.S_IFMT == unix.S_IFDIR && m.emptyDirIn(m.previousDir(), live) {
			return "the previous root holds only the empty mount point"
		}
		return ""
	}
	if err != nil || m.Mounts == nil || m.Mounts.At(live) != nil {
		return ""
	}
	on := m.Mounts.Shows(live)
	if on == nil || on.MountPoint == "/" || m.wipedMount(on) || lst.Mode&unix.S_IFMT != cst.Mode&unix.S_IFMT {
		return ""
	}
	switch {
	case cst.Mode&unix.S_IFMT == unix.S_IFDIR && m.emptyDirIn(m.Root, live),
		cst.Mode&unix.S_IFMT == unix.S_IFREG && lst.Size == 0 && cst.Size > 0:
		return fmt.Sprintf("only the empty mount point is left at %s, on the persistent %s", live, on.MountPoint)
	}
	return ""
}

// previousDir is the previous boot's root's directory, "" without one.
func (m *Model) previousDir() string {
	if prev := m.Previous(); prev != nil {
		return prev.Dir
	}
	return ""
}

// emptyDirIn reports whether p is an empty directory beneath root ("":
// no root, false).
func (m *Model) emptyDirIn(root, p string) bool {
	if root == "" {
		return false
	}
	fd, err := fsys.OpenDirIn(root, p)
	if err != nil {
		return false
	}
	f := os.NewFile(uintptr(fd), p)
	defer f.Close()
	_, err = f.Readdirnames(1)
	return err == io.EOF
}

// wipedMount reports whether what the mount mt shows is wiped at boot:
// one the audit found ephemeral, or without the audit a tmpfs or ramfs.
func (m *Model) wipedMount(mt *mounts.Mount) bool {
	if m.Audit == nil {
		return mt.FSType == "tmpfs" || mt.FSType == "ramfs"
	}
	return slices.ContainsFunc(m.Audit.Ephemeral, func(e mounts.Mount) bool { return e.ID == mt.ID })
}

// markMountedCopies sets diff.Vanished.PersistentCopy on each path of the
// previous root that vanished at the last reboot as an empty directory
// while the same path under a persistent storage path of the declarations
// is a directory: the previous root holds only the mount point of a bind
// mount of that copy, which nothing declares now (a vanished path is not
// declared), so its data is in the copy, not in the old root.
func (m *Model) markMountedCopies(a *diff.Audit) {
	storages := m.storagePaths()
	for i := range a.Vanished {
		v := &a.Vanished[i]
		if !v.IsDir() || v.Entries != 1 || v.Decl != "" {
			continue
		}
		for _, sp := range storages {
			st, err := fsys.StatIn(m.Root, sp+v.Path)
			if err == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
				v.PersistentCopy = sp + v.Path
				break
			}
		}
	}
}

// MountedUntilLastBoot gives, for a persistent copy that was bind-mounted
// at a path of the previous root until the last boot and is declared by
// nothing now (diff.Vanished.PersistentCopy), that path; empty without
// the previous root.
func (m *Model) MountedUntilLastBoot() map[string]string {
	out := map[string]string{}
	if m.Audit == nil {
		return out
	}
	for _, v := range m.Audit.Vanished {
		if v.PersistentCopy != "" {
			out[v.PersistentCopy] = v.Path
		}
	}
	return out
}
