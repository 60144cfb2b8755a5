package audit

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
)

// UnmountedError is the fact that a persistent storage path should be on a
// filesystem of its own but is not now: the configuration (fileSystems,
// disko) or /etc/fstab mounts something at MountPoint, the storage path
// StoragePath or one of its ancestors, and nothing is mounted there. What
// is written below StoragePath now lands on the filesystem beneath (the
// nix subvolume, the root) and is hidden once the next boot mounts the
// storage over it. Root is the audited system's root, for the hint.
type UnmountedError struct {
	StoragePath, MountPoint, At, Root string
}

// Error says what is not mounted and why it matters.
func (e *UnmountedError) Error() string {
	what := "the persistent storage path " + e.StoragePath
	if e.MountPoint != e.StoragePath {
		what += " (below " + e.MountPoint + ")"
	}
	return fmt.Sprintf("%s should be a mount (%s) but nothing is mounted at %s now: what is written there lands on the filesystem beneath it and is hidden when the next boot mounts it", what, e.At, e.MountPoint)
}

// Hint is the command that mounts it.
func (e *UnmountedError) Hint() string {
	if e.Root == "/" || e.Root == "" {
		return "mount it first: mount " + e.MountPoint
	}
	return "mount the filesystem the system mounts at " + e.MountPoint + " at " + filepath.Join(e.Root, e.MountPoint) + " first"
}

// Warning is the fact as a warning of kind storage about the storage path.
func (e *UnmountedError) Warning() diff.Warning {
	return diff.Warning{Kind: diff.WarnStorage, Path: e.StoragePath, Message: e.Error() + "; " + e.Hint()}
}

// unmountedStorage finds whether the storage path sp is below (or at) a
// mount point the configuration's fileSystems or fstab mount (the deepest
// one, never /) that table shows nothing mounted at; nil when it is not.
func unmountedStorage(root string, table *mounts.Table, cfg *persist.Config, fstab []FSEntry, sp string) *UnmountedError {
	best := &UnmountedError{StoragePath: sp, Root: root}
	consider := func(point, at string) {
		if point != "/" && pathx.Contains(point, sp) && len(point) > len(best.MountPoint) {
			best.MountPoint, best.At = point, at
		}
	}
	if cfg != nil {
		for _, f := range cfg.FileSystems {
			at := `fileSystems."` + f.MountPoint + `"`
			if pos := f.Pos.String(); pos != "" {
				at += " at " + pos
			}
			consider(f.MountPoint, at)
		}
	}
	for _, e := range fstab {
		consider(e.Point, e.At)
	}
	if best.MountPoint == "" || table.At(best.MountPoint) != nil {
		return nil
	}
	return best
}

// Unmounted reports whether the persistent storage path sp should be a
// mount (or below one) that is not mounted now (UnmountedError); nil when
// it is mounted, or nothing mounts it.
func (m *Model) Unmounted(sp string) *UnmountedError {
	var cfg *persist.Config
	if m.Decls != nil {
		cfg = m.Decls.Config
	}
	return unmountedStorage(m.Root, m.Mounts, cfg, m.Fstab, sp)
}

// unmountedWarnings are the storage warnings of the declarations' storage
// paths that are not mounted as they should be, one per storage path.
func (m *Model) unmountedWarnings() []diff.Warning {
	var out []diff.Warning
	for _, sp := range m.storagePaths() {
		if e := m.Unmounted(sp); e != nil {
			out = append(out, e.Warning())
		}
	}
	return slices.Clip(out)
}
