package adopt

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/restore"
	"golang.org/x/sys/unix"
)

// A persistent copy a live mount shows is the data the running system
// uses; what lies beneath that mount on the wiped root is hidden from it
// and stale. drift adopt reads beneath the mount to copy what the copy
// lacks (harmless), but never lets a hidden object replace what the mount
// shows: --prefer live is refused there (*BeneathError), and without
// --prefer the copy's objects are kept. A mount whose root was deleted
// since it was mounted shows an object no path names any more: the data
// to keep is what it shows, not what lies beneath, and drift adopt
// refuses every path at, above or below it (*DeletedMountError).

// BeneathError refuses --prefer live where the objects read beneath a
// mount (HiddenBy) would replace objects of the persistent copy that live
// mounts show (Shown): the running system's data would be replaced by the
// stale one it does not see. Nothing was written.
type BeneathError struct {
	// Path is the live path adopted; HiddenBy the mount point its data is
	// read beneath; Ephemeral the mount point of the filesystem it lies on
	// (the wiped one, or the persistent one of Path.Covered).
	Path, HiddenBy, Ephemeral string
	// Root is the audited root (--root): the hint's mount --bind names
	// Ephemeral as the host sees it.
	Root  string
	Shown []audit.Shown
	// Differs are the objects that differ, their Path the live one and
	// Dest the persistent one.
	Differs []restore.Outcome
}

func (e *BeneathError) Error() string {
	var ds []string
	for _, o := range e.Differs {
		ds = append(ds, o.Dest)
	}
	var at []string
	for _, s := range e.Shown {
		at = append(at, s.String())
	}
	return escape.Name(fmt.Sprintf("%s: --prefer live would replace %s with what lies beneath the mount at %s, but the mount shows the persistent copy (%s): it is the data the running system uses, and what lies beneath is hidden and stale; nothing was written",
		e.Path, strings.Join(ds, ", "), e.HiddenBy, strings.Join(at, "; ")))
}

// Hint says how to look at the hidden objects and keep one by hand.
func (e *BeneathError) Hint() string {
	return fmt.Sprintf("drift adopt without --prefer copies only what the persistent copy lacks and keeps the rest; to look at what lies beneath: mkdir -p /mnt/beneath && mount --bind %s /mnt/beneath (without --rbind it shows what the mounts hide), copy an object from there by hand only if you really want it in place of the copy's, then umount /mnt/beneath",
		escape.Shell(path.Join(e.Root, e.Ephemeral)))
}

// DeletedMountError refuses a path at, above or below a mount whose root
// was deleted since it was mounted (Mount): what it shows is the running
// system's data, in no persistent storage; what lies beneath it and the
// persistent copy (Dest) are other versions. Keep names the by-hand copy
// of what the mount shows into the copy.
type DeletedMountError struct {
	Path, Dest string
	Mount      *mounts.Mount
	Keep       string
	// Root is the audited root (--root): the hint's mount --bind names the
	// root filesystem there, as the host sees it.
	Root string
}

func (e *DeletedMountError) Error() string {
	return escape.Name(fmt.Sprintf("%s: the mount at %s (mount %d) shows an object deleted from persistent storage since it was mounted: it is what the running system uses, in no persistent storage, and lost at the next boot; what lies beneath the mount and the persistent copy %s are other versions, so drift adopt does not take it",
		e.Path, e.Mount.MountPoint, e.Mount.ID, e.Dest))
}

// Hint gives the by-hand steps.
func (e *DeletedMountError) Hint() string {
	return "decide which version to keep: to keep what the mount shows, copy it into the persistent copy by hand (" + e.Keep + "); to look at what lies beneath the mount: mkdir -p /mnt/beneath && mount --bind " + escape.Shell(path.Join("/", e.Root)) + " /mnt/beneath (then umount /mnt/beneath)"
}

// KeepDeletedCommand is the by-hand copy of what the mount at mp (root
// deleted) shows into dest, the persistent copy of mp, on the system at
// root (escape.CopyCommand: of a directory's contents for a directory).
func KeepDeletedCommand(root, mp, dest string, dir bool) string {
	return escape.CopyCommand(path.Join(root, mp), path.Join(root, dest), dir)
}

// deleted refuses p when a mount at, above or below it has a deleted
// root (audit.Model.DeletedNear); nil otherwise.
func (a *adopter) deleted(p *Path) error {
	dm := a.m.DeletedNear(p.Path)
	if dm == nil {
		return nil
	}
	d := &dm.Mount
	dest := p.Dest
	if a.m.Decls != nil {
		if e, ok := a.m.Decls.Covering(d.MountPoint); ok {
			if r, ok := pathx.Rel(e.Path, d.MountPoint); ok {
				dest = path.Join(e.Source(), r)
			}
		}
	}
	var st unix.Stat_t
	dir := unix.Stat(path.Join(a.m.Root, d.MountPoint), &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR
	e := &DeletedMountError{Path: p.Path, Dest: dest, Mount: d, Keep: KeepDeletedCommand(a.m.Root, d.MountPoint, dest, dir), Root: a.m.Root}
	return &audit.HintError{Err: e, Hint: e.Hint()}
}

// shownBeneath says whether p's data is read beneath a mount while live
// mounts show its persistent copy (or a directory above it): the mounts.
func (a *adopter) shownBeneath(p *Path) []audit.Shown {
	if p.HiddenBy == "" || p.Dest == "" {
		return nil
	}
	return a.m.ShownThrough(p.Dest)
}

// keptBeneath, for the plan out of p read beneath a mount while live
// mounts (shown) show its copy, refuses --prefer live where an object
// differs (*BeneathError), and otherwise warns that the copy's objects
// are kept.
func (a *adopter) keptBeneath(p *Path, shown []audit.Shown, out []restore.Outcome) error {
	var kept []restore.Outcome
	for _, o := range out {
		if o.Action == restore.Keep {
			kept = append(kept, o)
		}
	}
	if len(kept) == 0 {
		return nil
	}
	if a.o.Prefer == PreferLive {
		on := p.Ephemeral
		if p.Covered != "" {
			on = p.Covered
		}
		e := &BeneathError{Path: p.Path, HiddenBy: p.HiddenBy, Ephemeral: on, Root: a.m.Root, Shown: shown, Differs: kept}
		return &audit.HintError{Err: e, Hint: e.Hint()}
	}
	if a.o.Prefer != PreferNone {
		return nil
	}
	var empty []string
	kept = slices.DeleteFunc(kept, func(o restore.Outcome) bool {
		if emptyFile(a.m.Root, o.Dest) {
			empty = append(empty, o.Dest)
			return true
		}
		return false
	})
	if len(empty) > 0 {
		on := p.Ephemeral
		if p.Covered != "" {
			on = p.Covered
		}
		hint := (&BeneathError{Ephemeral: on, Root: a.m.Root}).Hint()
		a.res.Warnings = append(a.res.Warnings, fmt.Sprintf("%s: beneath the mount at %s lies data where the persistent copy the mount shows is an empty file (%s): what lies beneath is not known to be stale (an empty copy may be only what the mount was made with), and neither is replaced: nothing written there; %s",
			p.Path, p.HiddenBy, strings.Join(empty, ", "), strings.TrimPrefix(hint, "drift adopt without --prefer copies only what the persistent copy lacks and keeps the rest; ")))
		p.KeptHidden = len(kept) > 0 // the summary calls none stale
	}
	if len(kept) > 0 {
		a.res.Warnings = append(a.res.Warnings, fmt.Sprintf("%s: %d objects beneath the mount at %s differ from the persistent copy the mount shows: the copy's are kept (the running system's data); what lies beneath is hidden and stale", p.Path, len(kept), p.HiddenBy))
	}
	return nil
}

// emptyFile reports whether dest (absolute as the live system sees it)
// beneath root is an empty regular file, read without following a
// symlink.
func emptyFile(root, dest string) bool {
	st, err := fsys.StatIn(root, dest)
	return err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Size == 0
}
