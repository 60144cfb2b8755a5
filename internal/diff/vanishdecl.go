package diff

import (
	"strings"
	"time"

	ifsys "github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/scan"
	"golang.org/x/sys/unix"
)

// What the last reboot destroyed at or below a declared path. A declared
// path whose persistent copy was not mounted over it at that boot
// (DeclaredUnbacked then) kept its data on the ephemeral root, and the
// wipe took it with the root: check predicted the loss, and after the
// boot it is gone from the live path and from the copy. Such a path is
// listed as vanished (Vanished.Decl set), with the restore that puts it
// back into the persistent copy. A path the copy holds is not: it
// persisted (the boot showed the copy, or the copy held it already), and
// one the live path still shows is there.

// declaredGone reports whether the path p of the previous root, at or
// below the declared path of entries[decl], is gone (never when it lay
// beneath the mount of its copy at the previous root's boot, by
// MountedThen: the declarations that boot ran with, Config.PreviousDecls,
// kept p at the same copy, and p was not changed after the mount phase):
// absent from the
// persistent copy and from the live path, both looked up beneath liveFD
// (the audited root, through its mounts, never through a symlink). At the
// declared path of a file, impermanence's symlink to a missing copy
// counts as absent. A lookup that fails otherwise than absent says "not
// gone": nothing is listed that is not known to be lost.
//
// other reports the other way the wipe takes such a path's data: the
// persistent copy holds p too, a regular file as the previous root's
// (prev, its entry there; looked up beneath prevFD) but with other bytes.
// The copy was not mounted over p at that boot, the boot wrote its bytes
// on the root, and the copy is what the next boot showed in their place
// (check's declared-unbacked with other bytes, "the stale copy comes back
// in its place", before the wipe): the old root's bytes are only in the
// old root. olderCopy when the copy changed before them (ReplacesCopy):
// drift restore --force puts them back into the copy, the rule restore
// reads (audit's mountedThen). newerCopy when the copy changed no earlier
// (a tie too): which version is to be kept is not known (both were
// written during that boot, or the copy since), and drift restore puts
// the old root's back only with --force --beneath-mount. When the old
// root records no declarations (MountedThen not known), either is only for
// data changed after that boot's mounts (WrittenAfterMounts): data hidden
// beneath a mount looks the same. A copy with the same bytes holds p.
func (c *classifier) declaredGone(liveFD, prevFD int, decl int32, p string, prev *scan.Entry) (gone bool, other otherCopy) {
	e := c.tree.entries[decl]
	cp := CopyOf(&e, p)
	if cp == "" {
		return false, noOther
	}
	// The old root's ctime at p, lstat'ed only when a rule reads it (with
	// no declarations of that boot, only for a copy with other bytes), and
	// once: MountedThen reads it only with them, WrittenAfterMounts below
	// only without.
	changed := func() time.Time { return ChangedAt(prevFD, p) }
	mounted, known := MountedThen(c.cfg.PreviousDecls, c.cfg.PreviousRoot, e, p, changed)
	if mounted {
		return false, noOther // mounted at that boot: what lay beneath it
	}
	var st unix.Stat_t
	rel := cp[1:]
	if rel == "" {
		rel = "." // a source of "/": the audited root itself
	}
	if err := ifsys.Lstat(liveFD, rel, &st); err == nil {
		other := c.otherCopyOf(liveFD, cp, &st, prevFD, p, prev)
		if other != noOther && !known && !WrittenAfterMounts(c.cfg.PreviousRoot, changed) {
			// No declarations of that boot: data hidden beneath the mount
			// (written before it, a service started before its bind mount)
			// looks like data the wipe took, older or newer than the copy;
			// only data written after the mounts is known to have lain on
			// the root. Listing it printed a restore that replaced the
			// copy the system had used all along with the stale data.
			other = noOther
		}
		return false, other
	} else if !ifsys.Absent(err) {
		return false, noOther // unknown
	}
	err := ifsys.Lstat(liveFD, p[1:], &st)
	if ifsys.Absent(err) {
		return true, noOther
	}
	return err == nil && p == e.Path && e.Kind == persist.File && st.Mode&unix.S_IFMT == unix.S_IFLNK, noOther
}

// otherCopy is how the persistent copy holds a path of the previous root
// that the copy was not mounted over at that boot (declaredGone's other).
type otherCopy uint8

const (
	// noOther: the copy lacks it, holds the same bytes, or is not a
	// regular file where the old root has one (or could not be read).
	noOther otherCopy = iota
	// olderCopy: a regular file with other bytes, changed before the old
	// root's (ReplacesCopy): Vanished.StaleCopy.
	olderCopy
	// newerCopy: a regular file with other bytes, changed no earlier than
	// the old root's: Vanished.NewerCopy.
	newerCopy
)

// ChangedAt is the ctime of p (absolute) beneath fd (an old root, opened
// with fsys.OpenRoot), never through a symlink, in whole seconds; zero
// when it cannot be read or fd < 0: MountedThen's evidence, for the
// vanished walk (declaredGone) and internal/audit's Persisted alike.
func ChangedAt(fd int, p string) time.Time {
	var st unix.Stat_t
	if fd < 0 || ifsys.Lstat(fd, strings.TrimPrefix(p, "/"), &st) != nil {
		return time.Time{}
	}
	return time.Unix(st.Ctim.Unix())
}

// otherCopyOf says whether the persistent copy cp (st, its lstat beneath
// liveFD) is a regular file with other bytes than prev, the previous
// root's regular file at p beneath prevFD, and whether it changed before
// it (declaredGone's other). Any read that fails says noOther.
func (c *classifier) otherCopyOf(liveFD int, cp string, st *unix.Stat_t, prevFD int, p string, prev *scan.Entry) otherCopy {
	if prevFD < 0 || prev == nil || prev.Mode&unix.S_IFMT != unix.S_IFREG || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return noOther
	}
	if prev.Size == st.Size {
		a, b := *prev, entryOf(cp, st, "")
		a.Path = p
		if same, err := newHasher(nil).sameFiles(prevFD, &a, liveFD, &b); err != nil || same {
			return noOther
		}
	}
	if ReplacesCopy(time.Unix(0, prev.Mtime), time.Unix(st.Mtim.Unix())) {
		return olderCopy
	}
	return newerCopy
}

// ReplacesCopy is the rule by which drift restore --force replaces a
// declared path's persistent copy with an old root's data, the copy not
// having been mounted over it at that boot, and by which check lists that
// data as vanished: old, the newest modification time of the old root's
// data, is after cp, the copy's. A tie refuses: file timestamps are
// coarse, and the copy may be what a mount made part-way through that
// boot took in.
func ReplacesCopy(old, cp time.Time) bool { return old.After(cp) }

// fileMountedNow reports whether d is a declared file of the previous
// root, a regular file, over which its persistent copy is bind-mounted
// now: the lockstep walk reads the live root beneath the mounts, where
// the mount point impermanence made (an empty file) stands, or the mount
// itself, so the file is changed, not removed, although the old root's
// bytes may be gone from both (declaredGone decides: the copy holding
// other bytes shows in their place).
func (c *classifier) fileMountedNow(d *Difference) bool {
	if d.A == nil || d.B == nil || d.A.Mode&unix.S_IFMT != unix.S_IFREG || d.B.Mode&unix.S_IFMT != unix.S_IFREG {
		return false
	}
	n := c.tree.at(c.tree.find(d.Path))
	return n.decl >= 0 && n.mounted() && c.tree.entries[n.decl].Kind == persist.File && c.tree.entries[n.decl].Path == d.Path
}

// mountedCopy is the persistent copy of p when p is the declared file of
// entries[decl] and the tree's node nd (p's) is a mount point now: the
// copy bind-mounted over it (Vanished.MountedCopy); "" otherwise.
func (c *classifier) mountedCopy(decl int32, p string, nd nodeID) string {
	if decl < 0 || !c.tree.at(nd).mounted() {
		return ""
	}
	e := c.tree.entries[decl]
	if e.Kind != persist.File || e.Path != p {
		return ""
	}
	return CopyOf(&e, p)
}

// declOf is the declared path of entries[decl], "" for decl < 0.
func (c *classifier) declOf(decl int32) string {
	if decl < 0 {
		return ""
	}
	return c.tree.entries[decl].Path
}

// linkToCopy reports whether d is a declared file of the previous root
// that is a symlink now: impermanence links a declared file to its
// persistent copy when the copy is missing, so the file may be gone
// although the path is not absent (declaredGone decides).
func (c *classifier) linkToCopy(d *Difference) bool {
	if d.A == nil || d.B == nil || d.A.Mode&unix.S_IFMT != unix.S_IFREG || d.B.Mode&unix.S_IFMT != unix.S_IFLNK {
		return false
	}
	n := c.tree.at(c.tree.find(d.Path))
	return n.decl >= 0 && c.tree.entries[n.decl].Kind == persist.File
}
