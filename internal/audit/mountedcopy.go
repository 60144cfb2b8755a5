package audit

import (
	"io"
	"os"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/fsys"
	"golang.org/x/sys/unix"
)

// MountedUntilAt reports whether copyPath, a directory in persistent
// storage declared by nothing now, was bind-mounted at live until the last
// boot: the rule of markMountedCopies for one path, looked up without the
// vanished walk — the previous boot's root (Model.Previous, found with
// Options.Uncompared or compared) holds an empty directory at live, and
// live is absent now. False without a previous root or on any error.
func (m *Model) MountedUntilAt(copyPath, live string) bool {
	prev := m.Previous()
	if prev == nil || prev.Dir == "" || live == "/" {
		return false
	}
	if _, err := fsys.StatIn(m.Root, live); !fsys.Absent(err) {
		return false // there now (or unknown)
	}
	if st, err := fsys.StatIn(m.Root, copyPath); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return false
	}
	fd, err := fsys.OpenDirIn(prev.Dir, live)
	if err != nil {
		return false
	}
	f := os.NewFile(uintptr(fd), live)
	defer f.Close()
	_, err = f.Readdirnames(1)
	return err == io.EOF // only the empty mount point
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
