package audit

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/fsys"
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
//
// Or (MountPoint and Ephemeral empty, Blocked set) the storage path is on a
// filesystem the next boot keeps but drift cannot use it: Blocked, the
// storage path or one of its ancestors, is a symlink (to Link) or not a
// directory (Link ""). drift opens nothing through a symlink, so it can
// neither read the storage path (drift prune, suggest's stray search) nor
// write into it (adopt, restore).
type UnmountedError struct {
	StoragePath, MountPoint, At, Root string
	Ephemeral                         string
	Link                              string
	Blocked                           string
}

// Error says what is not mounted and why it matters.
func (e *UnmountedError) Error() string {
	if e.Blocked != "" {
		what, why := "is not a directory", "it holds no copy"
		if e.Link != "" {
			what, why = "is a symlink (to "+e.Link+")", "drift never reads or writes through a symlink, so it cannot use it"
		}
		if e.Blocked != e.StoragePath {
			what = "lies below " + e.Blocked + ", which " + what
		}
		return fmt.Sprintf("the persistent storage path %s %s: %s", e.StoragePath, what, why)
	}
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
	if e.Blocked != "" && e.Link != "" {
		return "declare the persistent storage path the link points to, or mount the persistent filesystem at " + filepath.Join(e.Root, e.Blocked) + " itself (not a symlink)"
	}
	if e.Blocked != "" {
		return "make " + filepath.Join(e.Root, e.Blocked) + " the directory the persistent filesystem is mounted at, or correct the persistent storage path in the declarations"
	}
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
// drift can use now (UnmountedError): it should be a mount (or below one)
// that is not mounted now; or, mounted by nothing the audit knows of, it
// lies on a filesystem the next boot wipes (the ephemeral mounts of the
// model); or it, or an ancestor, is a symlink or not a directory. nil when
// its data is kept and drift can reach it (nothing there yet is fine: it
// is made). Every command that reads or writes persistent storage (drift
// adopt, drift restore, drift prune) refuses through it, and drift check
// warns of it (Audit.Warnings, kind storage). The answer for each declared
// storage path is computed once, when the model is built (judgeStorage).
func (m *Model) Unmounted(sp string) *UnmountedError {
	if e, ok := m.storage[sp]; ok {
		return e
	}
	return m.unmounted(sp)
}

// judgeStorage computes Unmounted for every storage path the declarations
// name, once the ephemeral mounts are known.
func (m *Model) judgeStorage() {
	m.storage = map[string]*UnmountedError{}
	if m.Decls == nil {
		return
	}
	for _, sp := range m.storagePaths() {
		m.storage[sp] = m.unmounted(sp)
	}
}

func (m *Model) unmounted(sp string) *UnmountedError {
	var cfg *persist.Config
	if m.Decls != nil {
		cfg = m.Decls.Config
	}
	if e := unmountedStorage(m.Root, m.Mounts, cfg, m.Fstab, sp); e != nil {
		return e
	}
	if eph := m.wipedAt(sp); eph != "" {
		ue := &UnmountedError{StoragePath: sp, Root: m.Root, Ephemeral: eph}
		if t, err := fsys.ReadlinkIn(m.Root, sp); err == nil {
			ue.Link = t
		}
		return ue
	}
	if sp == "/" {
		return nil
	}
	if at, link := Blocked(m.Root, sp); at != "" {
		return &UnmountedError{StoragePath: sp, Root: m.Root, Blocked: at, Link: link}
	}
	return nil
}

// Blocked is the first of sp's components (sp included, absolute below
// root) that is a symlink (link its target; "?" when it cannot be read) or
// exists and is not a directory (link ""); "" when sp, or as much of it
// as exists, is a directory reached through directories. Read with
// lstat beneath root, component by component. Model.Unmounted refuses a
// storage path through it; drift prune --list, --undo and empty, which
// read the quarantines without a model, say why one is not read by it.
func Blocked(root, sp string) (at, link string) {
	for p := ""; ; {
		name, _, _ := strings.Cut(strings.TrimPrefix(sp[len(p):], "/"), "/")
		if name == "" {
			return "", ""
		}
		p += "/" + name
		st, err := fsys.StatIn(root, p)
		switch {
		case err != nil:
			return "", "" // nothing there (yet), or unreadable: the open says
		case st.Mode&unix.S_IFMT == unix.S_IFLNK:
			t, err := fsys.ReadlinkIn(root, p)
			if err != nil || t == "" {
				return p, "?"
			}
			return p, t
		case st.Mode&unix.S_IFMT != unix.S_IFDIR:
			return p, ""
		}
	}
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
// paths that are not usable (Unmounted), one per storage path.
func (m *Model) unmountedWarnings() []diff.Warning {
	var out []diff.Warning
	for _, sp := range m.storagePaths() {
		if e := m.Unmounted(sp); e != nil {
			out = append(out, e.Warning())
		}
	}
	return slices.Clip(out)
}
