package audit

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
	"golang.org/x/sys/unix"
)

// UnmountedError is the fact that a persistent storage path holds no copy
// now: what is written below it is not kept. Either the configuration
// (fileSystems, disko) or /etc/fstab mounts something at MountPoint, the
// storage path StoragePath or one of its ancestors, and nothing is mounted
// there now: what is written below StoragePath lands on the filesystem
// beneath (the nix subvolume, the root) and is hidden once the next boot
// mounts the storage over it. Or (MountPoint empty) nothing the audit
// knows of mounts it, and StoragePath lies on a filesystem the next boot
// wipes, mounted at Ephemeral ("/": the root; a storage path mistyped, or a
// rescue system with only the root mounted): what is written there is gone
// at the next boot. Root is the audited system's root, for the hint.
// Link, when not "", is the target of StoragePath, a symlink there (on the
// wiped filesystem: the link itself is gone at the next boot, and drift
// never writes through a symlink).
type UnmountedError struct {
	StoragePath, MountPoint, At, Root string
	Ephemeral                         string
	Link                              string
}

// Error says what is not mounted and why it matters.
func (e *UnmountedError) Error() string {
	if e.MountPoint == "" {
		on := "the ephemeral root (/)"
		if e.Ephemeral != "/" {
			on = "the ephemeral filesystem mounted at " + e.Ephemeral
		}
		if e.Link != "" {
			return fmt.Sprintf("the persistent storage path %s is a symlink (to %s) on %s, wiped at every boot: the link is gone at the next boot, and drift never writes through a symlink", e.StoragePath, e.Link, on)
		}
		return fmt.Sprintf("the persistent storage path %s lies on %s, wiped at every boot: nothing is mounted at %s, so it holds no copy, and what is written there is gone at the next boot", e.StoragePath, on, e.StoragePath)
	}
	what := "the persistent storage path " + e.StoragePath
	if e.MountPoint != e.StoragePath {
		what += " (below " + e.MountPoint + ")"
	}
	return fmt.Sprintf("%s should be a mount (%s) but nothing is mounted at %s now: what is written there lands on the filesystem beneath it and is hidden when the next boot mounts it", what, e.At, e.MountPoint)
}

// Hint is the command that mounts it.
func (e *UnmountedError) Hint() string {
	if e.MountPoint == "" && e.Link != "" {
		return "mount the persistent filesystem at " + filepath.Join(e.Root, e.StoragePath) + " itself (not a symlink), or declare the storage path the link points to"
	}
	if e.MountPoint == "" {
		if e.Root == "/" || e.Root == "" {
			return "mount the persistent filesystem at " + e.StoragePath + " (or above it) first, or correct the persistent storage path in the declarations"
		}
		return "mount the persistent filesystem at " + filepath.Join(e.Root, e.StoragePath) + " (or above it) first, or correct the persistent storage path in the declarations"
	}
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

// Unmounted reports whether the persistent storage path sp holds no copy
// now (UnmountedError): it should be a mount (or below one) that is not
// mounted now, or, mounted by nothing the audit knows of, it lies on a
// filesystem the next boot wipes (the ephemeral mounts of the model). nil
// when its data is kept. Every command that writes into persistent storage
// (drift adopt, drift restore, drift prune's quarantine) refuses through
// it.
func (m *Model) Unmounted(sp string) *UnmountedError {
	var cfg *persist.Config
	if m.Decls != nil {
		cfg = m.Decls.Config
	}
	if e := unmountedStorage(m.Root, m.Mounts, cfg, m.Fstab, sp); e != nil {
		return e
	}
	if eph := m.wipedAt(sp); eph != "" {
		ue := &UnmountedError{StoragePath: sp, Root: m.Root, Ephemeral: eph}
		buf := make([]byte, 4096)
		if n, err := unix.Readlink(filepath.Join(m.Root, sp), buf); err == nil {
			ue.Link = string(buf[:n])
		}
		return ue
	}
	return nil
}

// wipedAt is the mount point of the ephemeral filesystem that shows the
// storage path sp (never /) now, "" when it is on a persistent one. A root
// of a type no wipe is known for (ext4: drift check only assumes it is
// wiped because persistence is declared or --ephemeral / says so, and
// warns) is not taken to be wiped here: a refusal rests on what is known.
func (m *Model) wipedAt(sp string) string {
	if sp == "/" || m.Mounts == nil {
		return ""
	}
	shows := m.Mounts.Shows(sp)
	if shows == nil {
		return ""
	}
	for _, e := range m.ephemeral {
		if e.ID != shows.ID || e.MountPoint != shows.MountPoint {
			continue
		}
		if e.MountPoint == "/" && !slices.Contains(wipedTypes, e.FSType) {
			return ""
		}
		return e.MountPoint
	}
	return ""
}

// wipedTypes are the filesystem types a root is wiped on: a btrfs, zfs or
// bcachefs subvolume rolled back or replaced at boot, a tmpfs made anew.
var wipedTypes = []string{"btrfs", "tmpfs", "zfs", "bcachefs"}

// unmountedWarnings are the storage warnings of the declarations' storage
// paths that are not mounted as they should be, one per storage path.
// notAdoptable is diff.Audit.NotAdoptable: the declared paths whose
// storage path m.Unmounted refuses, and those at which an ephemeral
// filesystem other than / is mounted (drift adopt's MountPointError).
// A declared mount point is also a warning (the storage paths have theirs).
func (m *Model) notAdoptable(eph []mounts.Mount) (map[string]string, []diff.Warning) {
	if m.Decls == nil {
		return nil, nil
	}
	var ws []diff.Warning
	out := map[string]string{}
	bad := map[string]string{}
	for _, sp := range m.storagePaths() {
		if e := m.Unmounted(sp); e != nil {
			bad[sp] = "its persistent storage path " + sp + " is not usable: mount it first"
		}
	}
	for _, e := range m.Decls.Entries {
		if why, ok := bad[e.StoragePath]; ok {
			out[e.Path] = why
			continue
		}
		for _, mt := range eph {
			if mt.MountPoint == e.Path && e.Path != "/" {
				out[e.Path] = "it is itself the mount point of a " + mt.FSType + " filesystem: keep the mount or the declaration"
				ws = append(ws, diff.Warning{Kind: diff.WarnSetup, Path: e.Path, Message: fmt.Sprintf("%s is declared (%s) and is itself the mount point of a %s filesystem (mount %d), which the next boot wipes: keep one of the two, the mount or the declaration (drift adopt does not copy a mounted filesystem)", e.Path, e.Pos, mt.FSType, mt.ID)})
			}
		}
	}
	if len(out) == 0 {
		return nil, ws
	}
	return out, ws
}

func (m *Model) unmountedWarnings() []diff.Warning {
	var out []diff.Warning
	for _, sp := range m.storagePaths() {
		if e := m.Unmounted(sp); e != nil {
			out = append(out, e.Warning())
		}
	}
	return slices.Clip(out)
}
