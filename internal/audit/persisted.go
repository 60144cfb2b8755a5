package audit

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/persist"
	"golang.org/x/sys/unix"
)

// PersistedError is drift restore's refusal of the live path Path from an
// old root: at that boot Path showed persistent storage, not the root, or
// the persistent copy holds Path's data already. Path is covered by the
// declaration Decl, whose persistent copy Copy existed then (born Since;
// zero when the filesystem does not say), and at every boot once the copy
// exists impermanence and preservation bind-mount it at Decl.Path, so
// that boot's data at Path was in the persistent copy, which the wipe
// never touches, and the old root holds at Path only what lay beneath the
// mount: the empty mount point the boot made, or stale data hidden under
// it. Unless the old root shows the copy was not mounted (Unmounted, see
// beneath.go): then only a copy holding the same or newer data refuses.
type PersistedError struct {
	Path  string
	Decl  persist.Entry
	Copy  string
	Since time.Time
	// Placeholder, when not "", is why the refusal stands although the
	// copy's birth time is after that boot (a copy replaced by a rename,
	// as editors and sops write, is born anew): the old root holds at
	// Path only "an empty file" or "an empty directory", the placeholder
	// a mount point leaves, and the copy there is not empty. MountedNow
	// says the mount table shows Decl.Path mounted now.
	Placeholder string
	MountedNow  bool
	// Renamed says the copy was made anew after that boot (a rename) but
	// the mount at Decl.Path still shows the copy it replaced, born
	// Since, before that boot ended: the copy existed then, whatever the
	// old root holds at Path.
	Renamed bool
	// Unmounted says the old root holds data at Decl.Path, more than a
	// mount point leaves, so the copy was not mounted over it for all of
	// that boot (beneath.go); the refusal then stands only because the
	// copy holds Dest (Copy joined with the rest of Path) too: the same
	// bytes (Same), or changed at Newer, no earlier than the old root's
	// newest change there (OldAt).
	Unmounted    bool
	Dest         string
	Same         bool
	Newer, OldAt time.Time
	// Then, when not "", names the declarations the old root's boot ran
	// with (DeclaredThen), which mount the copy at Decl.Path: what the old
	// root holds at Path lay beneath that mount, whatever it is.
	Then string
}

// Error says where that boot's data was.
func (e *PersistedError) Error() string {
	since := ""
	if !e.Since.IsZero() {
		since = " (since " + e.Since.UTC().Format(time.RFC3339) + ")"
	}
	what := fmt.Sprintf("%s is a declared %s", e.Path, e.Decl.Kind)
	if e.Path != e.Decl.Path {
		what = fmt.Sprintf("%s is inside the declared %s %s", e.Path, e.Decl.Kind, e.Decl.Path)
	}
	if e.Then != "" {
		return fmt.Sprintf("%s: the declarations that boot ran with (%s) mount its persistent copy %s over it, so the persistent copy holds that boot's data, and the old root holds only what lay beneath the mount, hidden", what, e.Then, e.Copy)
	}
	if e.Same {
		return fmt.Sprintf("%s: its persistent copy %s already holds the same bytes at %s, and the old root holds more than a mount point leaves at %s (the copy was not mounted over it then): nothing to restore", what, e.Copy, e.Dest, e.Decl.Path)
	}
	if e.Unmounted {
		return fmt.Sprintf("%s: its persistent copy %s holds %s too, changed %s, no earlier than the old root's newest change there (%s): the old root holds more than a mount point leaves at %s (the copy was not mounted over it, at least not for all of that boot), but restoring would replace newer data with older", what, e.Copy, e.Dest, e.Newer.UTC().Format(time.RFC3339), e.OldAt.UTC().Format(time.RFC3339), e.Decl.Path)
	}
	if e.Placeholder != "" {
		mounted := ""
		if e.MountedNow {
			mounted = ", is mounted at " + e.Decl.Path + " now"
		}
		return fmt.Sprintf("%s: its persistent copy %s is not empty%s and was made anew%s after that boot (as a rename makes a file anew), and the old root holds there only %s, the placeholder a mount point leaves: what lay beneath the mount, not that boot's data", what, e.Copy, mounted, since, e.Placeholder)
	}
	if e.Renamed {
		return fmt.Sprintf("%s: its persistent copy %s existed then%s and was mounted over it (replaced by a rename since: the mount at %s still shows the copy it replaced), so the persistent copy already holds that boot's data, and the old root holds only what lay beneath the mount", what, e.Copy, since, e.Decl.Path)
	}
	return fmt.Sprintf("%s: its persistent copy %s existed then%s and was mounted over it, so the persistent copy already holds that boot's data, and the old root holds only what lay beneath the mount", what, e.Copy, since)
}

// Hint says how to restore anyway (--beneath-mount, drift restore's flag
// that overrides this refusal).
func (e *PersistedError) Hint() string {
	if e.Unmounted {
		return "drift restore brings back what the wipe took and the persistent copy lacks. To replace " + e.Dest + " with the old root's anyway: --beneath-mount"
	}
	return "drift restore brings back what the wipe took; the wipe never touched " + e.Copy + ". To put what lay beneath the mount there anyway: --beneath-mount"
}

// Persisted reports whether the live path p showed its persistent copy at
// a boot that ended at end (an old root's time; zero when not known): p
// is declared and the declaration's persistent copy existed before end
// (its birth time, statx; a copy with no birth time known, or an end not
// known, counts as existing then), and the old root (m.From) does not
// show otherwise: data at the declared path, more than a mount point
// leaves, says the copy was not mounted over it then, and only a copy
// that holds p's data too, the same or newer, still refuses
// (mountedThen, beneath.go). nil when p is not declared, its copy
// does not exist, or was made after end (declared since: the old root
// holds the data of that boot), except that a copy made anew by a rename
// while mounted counts from the copy the mount still shows (Renamed: the
// mount at the declared path shows another inode, born before end), and
// an empty placeholder in the
// old root (m.From: an empty file or directory at p, what a mount point
// leaves) never replaces a non-empty persistent copy: a copy replaced by
// a rename is born anew while it is still bind-mounted (MountedNow, from
// the mount table). The copy is looked up beneath Root, the old root's
// object beneath m.From.Dir, without following a symlink.
func (m *Model) Persisted(p string, end time.Time) *PersistedError {
	if m.Decls == nil {
		return nil
	}
	e, ok := m.Decls.Covering(p)
	if !ok {
		return nil
	}
	cp := path.Clean(e.Source())
	if cp == "/" {
		return nil
	}
	fd, err := fsys.OpenDirIn(m.Root, path.Dir(cp))
	if err != nil {
		return nil
	}
	defer unix.Close(fd)
	var x unix.Statx_t
	if err := unix.Statx(fd, path.Base(cp), unix.AT_SYMLINK_NOFOLLOW|unix.AT_NO_AUTOMOUNT, unix.STATX_BTIME, &x); err != nil {
		return nil
	}
	out := &PersistedError{Path: p, Decl: e, Copy: cp}
	if m.From != nil && m.From.Dir != "" {
		changed := func() time.Time {
			fd, err := fsys.OpenRoot(m.From.Dir)
			if err != nil {
				return time.Time{} // not known
			}
			defer unix.Close(fd)
			return diff.ChangedAt(fd, p)
		}
		switch mounted, ok := diff.MountedThen(m.declaredThen(), m.From, e, p, changed); {
		case mounted:
			name := m.FromName
			if name == "" {
				name = m.From.Dir
			}
			out.Then = path.Join(name, persist.DeclarationsFile)
			return out
		case ok:
			return m.unmountedThen(out) // not declared then, or written since the mounts: not mounted
		}
	}
	if x.Mask&unix.STATX_BTIME != 0 {
		out.Since = time.Unix(x.Btime.Sec, int64(x.Btime.Nsec))
		if !end.IsZero() && !out.Since.Before(end) {
			if pe := m.placeholder(out); pe != nil {
				return pe
			}
			if born, ok := m.replacedCopy(e, x); ok && born.Before(end) {
				out.Since, out.Renamed, out.MountedNow = born, true, true
				return out
			}
			return nil
		}
	}
	return m.mountedThen(out)
}

// replacedCopy is the birth time of the object the mount at e.Path shows
// when that is not the persistent copy now (x, its statx: a rename made
// the copy anew since the mount was made), ok false when nothing is
// mounted there, the mount shows x itself, or no birth time is known.
func (m *Model) replacedCopy(e persist.Entry, x unix.Statx_t) (time.Time, bool) {
	if m.Mounts == nil || m.Mounts.At(e.Path) == nil || path.Clean(e.Path) == "/" {
		return time.Time{}, false
	}
	fd, err := fsys.OpenDirIn(m.Root, path.Dir(path.Clean(e.Path)))
	if err != nil {
		return time.Time{}, false
	}
	defer unix.Close(fd)
	var shown unix.Statx_t
	if err := unix.Statx(fd, path.Base(e.Path), unix.AT_SYMLINK_NOFOLLOW|unix.AT_NO_AUTOMOUNT, unix.STATX_BTIME|unix.STATX_INO, &shown); err != nil || shown.Mask&unix.STATX_BTIME == 0 {
		return time.Time{}, false
	}
	if shown.Ino == x.Ino && shown.Dev_major == x.Dev_major && shown.Dev_minor == x.Dev_minor {
		return time.Time{}, false
	}
	return time.Unix(shown.Btime.Sec, int64(shown.Btime.Nsec)), true
}

// placeholder is pe with Placeholder set when the old root holds at
// pe.Path an empty file or directory and the persistent copy there (the
// copy joined with the rest of pe.Path) exists and is not empty; nil
// otherwise, or when there is no old root.
func (m *Model) placeholder(pe *PersistedError) *PersistedError {
	if m.From == nil || m.From.Dir == "" {
		return nil
	}
	old, oldEmpty := emptyAt(m.From.Dir, pe.Path)
	if old == "" || !oldEmpty {
		return nil
	}
	dest := path.Join(pe.Copy, strings.TrimPrefix(pe.Path, pe.Decl.Path))
	if now, empty := emptyAt(m.Root, dest); now == "" || empty {
		return nil
	}
	pe.Placeholder = "an empty " + old
	pe.MountedNow = m.Mounts != nil && m.Mounts.At(pe.Decl.Path) != nil // ShowsCopy, the declaration known
	return pe
}

// ShowsCopy reports whether the live path p shows its persistent copy now:
// p is declared and the mount table has a mount at the declaration's path
// (impermanence and preservation bind-mount the copy there), so what is
// written at p under Root lands in the persistent copy. drift restore --to
// live refuses through Persisted where it does.
func (m *Model) ShowsCopy(p string) bool {
	if m.Decls == nil || m.Mounts == nil {
		return false
	}
	e, ok := m.Decls.Covering(p)
	return ok && m.Mounts.At(e.Path) != nil
}

// emptyAt says what is at p beneath root, read without following a
// symlink: kind "file" (a regular file), "directory" or "other" ("" when
// nothing is there or it cannot be read), and whether it is an empty file
// or a directory with no entries.
func emptyAt(root, p string) (kind string, empty bool) {
	if path.Clean(p) == "/" {
		return "", false
	}
	fd, err := fsys.OpenDirIn(root, path.Dir(p))
	if err != nil {
		return "", false
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstatat(fd, path.Base(p), &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return "", false
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		return "file", st.Size == 0
	case unix.S_IFDIR:
		d, err := unix.Openat(fd, path.Base(p), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return "", false
		}
		defer unix.Close(d)
		buf := make([]byte, 4096)
		n, err := unix.Getdents(d, buf)
		if err != nil {
			return "", false
		}
		_, _, names := unix.ParseDirent(buf[:n], -1, nil)
		return "directory", len(names) == 0
	}
	return "other", false
}
