package audit

import (
	"fmt"
	"path"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/persist"
	"golang.org/x/sys/unix"
)

// MountPointError refuses adopting a path that is itself the mount point
// of a filesystem other than its persistent copy (FSType; Root the path
// mounted from it, "/" but for a bind mount): its data is that whole
// filesystem, which the declaration's bind mount would hide at the next
// boot. drift adopt never copies a mounted filesystem as a path's data:
// the configuration mounts two things at Path.
type MountPointError struct {
	Path, FSType, Root string
}

func (e *MountPointError) Error() string {
	what := "a " + e.FSType + " filesystem"
	if e.Root != "/" {
		what = "a bind mount (" + e.FSType + ", of " + e.Root + ")"
	}
	return fmt.Sprintf("%s is itself a mount point, of %s, not of its persistent copy: its data is that mounted filesystem, which the declaration's bind mount would hide at the next boot; drift adopt does not copy a mounted filesystem", e.Path, what)
}

// Hint is what to do: keep one of the two mounts.
func (e *MountPointError) Hint() string {
	return "keep one of the two: remove the mount at " + e.Path + " from the configuration, or remove the declaration (the mounted filesystem keeps its data where it comes from); to copy it anyway, unmount it and copy by hand"
}

// Adoptable says whether drift adopt may copy the live path p, covered by
// the declaration e, into its persistent copy dest (restore.Destination;
// all three absolute as the live system sees them): nil, or the refusal
// that holds whatever adopt is asked: *UnmountedError (e's storage path
// unusable: Unmounted) or *MountPointError (p is itself the mount point,
// other than /, of a visible mount that does not show dest: neither a
// bind mount of dest nor the same inode). drift adopt refuses through it,
// and diff.Audit.Refusal (no adopt command in drift check's rows) gives
// its message for every declaration.
func (m *Model) Adoptable(p string, e persist.Entry, dest string) error {
	if ue := m.Unmounted(e.StoragePath); ue != nil {
		return ue
	}
	if m.Mounts == nil || p == "/" {
		return nil
	}
	mt := m.Mounts.At(p)
	if mt == nil || m.showsAt(p, dest) {
		return nil
	}
	return &MountPointError{Path: p, FSType: mt.FSType, Root: path.Clean(mt.Root)}
}

// showsAt says whether the mount at p shows dest: a bind mount of dest's
// filesystem and place, or (the whole storage path bind-mounted above, a
// fixture's tree) p and dest are one inode.
func (m *Model) showsAt(p, dest string) bool {
	mt, store := m.Mounts.At(p), m.Mounts.Shows(dest)
	if store != nil && mt.Major == store.Major && mt.Minor == store.Minor && path.Clean(mt.Root) == path.Clean(store.SourcePath(dest)) {
		return true
	}
	a, err1 := fsys.StatIn(m.Root, p)
	b, err2 := fsys.StatIn(m.Root, dest)
	return err1 == nil && err2 == nil && a.Dev == b.Dev && a.Ino == b.Ino && a.Mode&unix.S_IFMT == b.Mode&unix.S_IFMT
}

// notAdoptable is diff.Audit.NotAdoptable and Unusable: each declared
// path Adoptable refuses as a mount point, or that lies at, above or
// below a mount whose root was deleted (DeletedNear: drift adopt refuses
// it next, whatever --prefer says), and each storage path of a
// declaration it refuses as unusable, with its message. A declared path
// that is the mount point of an ephemeral filesystem other than / is also
// a warning (the storage paths have theirs).
func (m *Model) notAdoptable() (byPath, byStorage map[string]string, ws []diff.Warning) {
	if m.Decls == nil {
		return nil, nil, nil
	}
	byPath, byStorage = map[string]string{}, map[string]string{}
	ephAt := map[string][]int{} // mount point -> the ephemeral mounts there, in order
	for i := range m.ephemeral {
		ephAt[m.ephemeral[i].MountPoint] = append(ephAt[m.ephemeral[i].MountPoint], i)
	}
	for _, e := range m.Decls.Entries {
		if _, ok := byStorage[e.StoragePath]; ok {
			continue // Adoptable: an unusable storage path refuses first
		}
		err := m.Adoptable(e.Path, e, e.Source())
		if err == nil {
			if d := m.DeletedNear(e.Path); d != nil { // drift adopt's next refusal
				byPath[e.Path] = fmt.Sprintf("%s: the mount at %s (mount %d) shows an object deleted from persistent storage since it was mounted, and drift adopt refuses a path at, above or below such a mount (the row of %s says how to keep what it shows)", e.Path, d.Mount.MountPoint, d.Mount.ID, d.Mount.MountPoint)
			}
			continue
		}
		if ue, ok := err.(*UnmountedError); ok {
			byStorage[e.StoragePath] = ue.Error()
			continue
		}
		byPath[e.Path] = err.Error()
		if _, ok := err.(*MountPointError); !ok {
			continue
		}
		for _, i := range ephAt[e.Path] {
			mt := &m.ephemeral[i]
			ws = append(ws, diff.Warning{Kind: diff.WarnSetup, Path: e.Path, Message: fmt.Sprintf("%s is declared (%s) and is itself the mount point of a %s filesystem (mount %d), which the next boot wipes: keep one of the two, the mount or the declaration (drift adopt does not copy a mounted filesystem)", e.Path, e.Pos, mt.FSType, mt.ID)})
		}
	}
	if len(byPath) == 0 {
		byPath = nil
	}
	if len(byStorage) == 0 {
		byStorage = nil
	}
	return byPath, byStorage, ws
}
