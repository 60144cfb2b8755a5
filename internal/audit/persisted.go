package audit

import (
	"fmt"
	"path"
	"time"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/persist"
	"golang.org/x/sys/unix"
)

// PersistedError is the fact that the live path Path, at a boot that ended
// before a given time (an old root's), showed persistent storage, not the
// root: it is covered by the declaration Decl, whose persistent copy Copy
// existed then (born Since; zero when the filesystem does not say), and at
// every boot once the copy exists impermanence and preservation
// bind-mount it at Decl.Path. So that boot's data at Path was in the
// persistent copy, which the wipe never touches, and the old root holds
// at Path only what lay beneath the mount: the empty mount point the boot
// made, or stale data hidden under it.
type PersistedError struct {
	Path  string
	Decl  persist.Entry
	Copy  string
	Since time.Time
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
	return fmt.Sprintf("%s: its persistent copy %s existed then%s and was mounted over it, so the persistent copy already holds that boot's data, and the old root holds only what lay beneath the mount", what, e.Copy, since)
}

// Persisted reports whether the live path p showed its persistent copy at
// a boot that ended at end (an old root's time; zero when not known): p
// is declared and the declaration's persistent copy existed before end
// (its birth time, statx; a copy with no birth time known, or an end not
// known, counts as existing then). nil when p is not declared, its copy
// does not exist, or was made after end (declared since: the old root
// holds the data of that boot). The copy is looked up beneath Root
// without following a symlink.
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
	fd, err := diff.OpenDirIn(m.Root, path.Dir(cp))
	if err != nil {
		return nil
	}
	defer unix.Close(fd)
	var x unix.Statx_t
	if err := unix.Statx(fd, path.Base(cp), unix.AT_SYMLINK_NOFOLLOW|unix.AT_NO_AUTOMOUNT, unix.STATX_BTIME, &x); err != nil {
		return nil
	}
	out := &PersistedError{Path: p, Decl: e, Copy: cp}
	if x.Mask&unix.STATX_BTIME != 0 {
		out.Since = time.Unix(x.Btime.Sec, int64(x.Btime.Nsec))
		if !end.IsZero() && !out.Since.Before(end) {
			return nil
		}
	}
	return out
}
