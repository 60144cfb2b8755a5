package mounts

import (
	"fmt"
	"github.com/nix-drift/drift/internal/pathx"
	"io"
	"slices"
	"strings"
)

// Mount is one row of mountinfo (proc(5)), with escapes (\040 \011 \012
// \134) decoded.
type Mount struct {
	// ID is the unique mount ID; Parent is the ID of the mount this one is
	// mounted on (for the root of the namespace, a mount not in the table,
	// or itself).
	ID, Parent int
	// Major and Minor are st_dev of the filesystem as the superblock has it:
	// the same for every subvolume of one btrfs (see SameFS).
	Major, Minor int
	// Root is the path inside the filesystem that is mounted here: "/" for a
	// whole filesystem, the bind source for a bind mount (for btrfs, the
	// subvolume path, e.g. "/persist/etc/ssh").
	Root string
	// MountPoint is absolute and clean; after Table.Relative it is relative to
	// the audited root, which is then "/".
	MountPoint string
	// Options are the per-mount options ("rw,nosuid,relatime"), as written
	// (escapes not decoded; see Option).
	Options string
	// Optional holds the optional fields before "-" ("shared:1",
	// "master:2", "propagate_from:2", "unbindable"), nil when there are none.
	Optional []string
	// FSType is the filesystem type ("btrfs", "tmpfs", "fuse.bindfs").
	FSType string
	// Source is the mount source, decoded ("/dev/vda2", "none", or for
	// bindfs sometimes just "bindfs", for a source path holding a space or
	// other characters bindfs does not escape).
	Source string
	// SuperOptions are the filesystem's options ("rw,subvolid=256,subvol=/root"),
	// as written; empty when the line has none.
	SuperOptions string
	// Line is the 1-based line of mountinfo this mount was read from.
	Line int
	// Replaced is set when the root of the mount was unlinked since the
	// mount (a file replaced by another of its name): the kernel writes
	// the root field as the path it had followed by "//deleted"
	// (dentry_path, fs/d_path.c; "//" is in no other path). Root is that
	// path, without the marker; the mount still shows the old inode.
	Replaced bool
}

// Table is a parsed mount table in mount order (the order of mountinfo).
//
// Tables from Parse, ReadFile, New and Relative carry an index, so that
// Visible, Shows, At and Shadowed are cheap and safe for concurrent use. Treat
// their Mounts as read-only: after changing a mount, build a new table with
// New. A Table literal works too, but rebuilds the index on every query.
// Compare tables by their Mounts field.
type Table struct {
	Mounts []Mount

	idx *index
}

// Shadow is a hidden mount and the mount that hides it (for example the
// bind mount of a persisted file made before its parent directory was
// mounted over). By is the zero Mount when the hiding mount is not in the
// table (after Relative, a mount outside the audited root).
type Shadow struct {
	Hidden, By Mount
}

// String renders s as "mount 30 (/home/alice/.gitconfig) is over-mounted by
// mount 35 (/home/alice)", with mount points escaped as in mountinfo.
func (s Shadow) String() string {
	if s.By.MountPoint == "" {
		return fmt.Sprintf("mount %d (%s) is over-mounted", s.Hidden.ID, escape(s.Hidden.MountPoint))
	}
	return fmt.Sprintf("mount %d (%s) is over-mounted by mount %d (%s)",
		s.Hidden.ID, escape(s.Hidden.MountPoint), s.By.ID, escape(s.By.MountPoint))
}

// New returns a table of ms in mount order, with its index built. The table
// keeps ms (no copy). Mount points are compared after Clean.
func New(ms []Mount) *Table {
	return &Table{Mounts: ms, idx: buildIndex(ms, nil)}
}

// index returns the table's index, or builds a fresh one (not stored, so that
// concurrent queries do not race) when the table has none or its Mounts slice
// was replaced or resized.
func (t *Table) index() *index {
	if ix := t.idx; ix != nil && ix.valid(t.Mounts) {
		return ix
	}
	return buildIndex(t.Mounts, nil)
}

// Visible reports whether mount i (an index into t.Mounts) is visible, that
// is, reachable through its mount point. Out-of-range i is not visible.
//
// The rule (proc(5) mount order; the case that matters is a persisted
// file's bind mount made before its parent directory was mounted over): a
// mount is hidden when a later mount (higher index) sits on its mount point
// or on a proper ancestor of it, unless it is, transitively by Parent IDs,
// a child of that later mount.
// Over-mounts therefore stack: the last mount on a path wins. Two refinements
// keep this true where mount order and stacking differ: a mount is also
// hidden when a mount at the same mount point descends from it (it was
// stacked on top, even if listed earlier, as with move_mount's
// MOVE_MOUNT_BENEATH), and when its parent mount is hidden by another mount
// that is not stacked on it (a mount propagated into a covered subtree is
// unreachable too).
func (t *Table) Visible(i int) bool {
	ix := t.index()
	return i >= 0 && i < len(ix.hiddenBy) && ix.hiddenBy[i] == visible
}

// Shows returns the visible mount that shows the absolute path p: the visible
// mount with the deepest mount point that is p or an ancestor of p, comparing
// components after cleaning p. It returns nil when no mount shows p (p is
// relative, or the table has no mount at "/" or another ancestor of p). The
// result points into t.Mounts.
func (t *Table) Shows(p string) *Mount {
	if i := t.index().shows(pathx.Clean(p)); i >= 0 {
		return &t.Mounts[i]
	}
	return nil
}

// ShowsAsWritten is Shows for the absolute path p as written: p is not
// cleaned, so each of its components, "." and ".." included, is compared as
// a name (as pathx.HasPrefix compares): the visible mount with the deepest
// mount point that is p or an ancestor of p, or nil. The result points into
// t.Mounts.
func (t *Table) ShowsAsWritten(p string) *Mount {
	if i := t.index().shows(p); i >= 0 {
		return &t.Mounts[i]
	}
	return nil
}

// At returns the visible mount whose mount point is exactly p (after
// cleaning), or nil. The result points into t.Mounts.
func (t *Table) At(p string) *Mount {
	if i, ok := t.index().at[pathx.Clean(p)]; ok {
		return &t.Mounts[i]
	}
	return nil
}

// ByID returns the mount with mount ID id, or nil. The result points into
// t.Mounts.
func (t *Table) ByID(id int) *Mount {
	if i, ok := t.index().byID[id]; ok {
		return &t.Mounts[i]
	}
	return nil
}

// Shadowed lists, in mount order, every hidden mount (see Visible) with the
// mount that hides it: the first later mount that covers its mount point, the
// mount stacked on it, or whatever hides its parent. drift check's warning: "mount 30
// (/home/alice/.gitconfig) is over-mounted by mount 35 (/home/alice)".
func (t *Table) Shadowed() []Shadow {
	ix := t.index()
	var out []Shadow
	for i, h := range ix.hiddenBy {
		switch {
		case h >= 0:
			out = append(out, Shadow{Hidden: t.Mounts[i], By: t.Mounts[h]})
		case h == hiddenOutside:
			out = append(out, Shadow{Hidden: t.Mounts[i]})
		}
	}
	return out
}

// Relative returns the mounts that matter for auditing the tree at root (an
// absolute path; it is cleaned), as if root were "/":
//
//   - every mount whose mount point is root or below it, component-wise
//     (root "/mnt" takes "/mnt/nix" but not "/mntx"), with MountPoint
//     rewritten relative to root ("/" for root itself, "/nix" for
//     root+"/nix");
//   - if no visible mount sits exactly at root, the mount that shows root (the
//     deepest visible ancestor mount) as the "/" mount, with its Root extended
//     by the relative part, so that root "/mnt/sys" inside a mount of subvolume
//     "/@" at "/mnt" gives Root "/@/sys". A system mounted at /mnt from a
//     rescue system is then audited as its own "/".
//
// Mount order, IDs, Parent IDs and lines are kept, and so is visibility: a
// mount hidden in t stays hidden (by the "/" mount when what hid it lies
// outside root). Relative("/") returns t itself. A relative root yields an
// empty table.
func (t *Table) Relative(root string) *Table {
	root = pathx.Clean(root)
	if root == "/" {
		return t
	}
	ix := t.index()
	show := -1
	if root != "" && root[0] == '/' {
		show = ix.shows(root)
	}
	showAtRoot := show >= 0 && pathx.Clean(t.Mounts[show].MountPoint) == root
	var (
		ms     []Mount
		newIdx = make(map[int]int) // index in t -> index in the result
	)
	for i, m := range t.Mounts {
		if rel, ok := pathx.Rel(root, m.MountPoint); ok {
			m.MountPoint = rel
		} else if i == show && !showAtRoot {
			m.Root = m.SourcePath(root)
			m.MountPoint = "/"
		} else {
			continue
		}
		m.Optional = slices.Clone(m.Optional)
		newIdx[i] = len(ms)
		ms = append(ms, m)
	}
	hiddenBy := make([]int, 0, len(ms))
	for i := range t.Mounts {
		if _, ok := newIdx[i]; !ok {
			continue
		}
		h := ix.hiddenBy[i]
		if h >= 0 {
			if nh, ok := newIdx[h]; ok {
				h = nh
			} else if ns, ok := newIdx[show]; ok && ns != len(hiddenBy) {
				h = ns // hidden from outside root: what shows instead is the "/" mount
			} else {
				h = hiddenOutside
			}
		}
		hiddenBy = append(hiddenBy, h)
	}
	return &Table{Mounts: ms, idx: buildIndex(ms, hiddenBy)}
}

// SourcePath maps the path p, shown by m, to the path inside m's filesystem:
// m.Root joined with p relative to m.MountPoint. A mount of Root "/persist" at
// "/nix/persist" gives SourcePath("/nix/persist/etc") = "/persist/etc"; for
// btrfs that is the path from the top-level subvolume (subvolid 5). It
// returns "" when p is not m.MountPoint or below it.
func (m *Mount) SourcePath(p string) string {
	rel, ok := pathx.Rel(m.MountPoint, p)
	if !ok {
		return ""
	}
	return join(m.Root, rel)
}

// SameSourcePath reports whether a.SourcePath(p) == b.SourcePath(q), both
// not "", without making either string (a lookup per declaration: 36 MB
// of garbage for a million).
func SameSourcePath(a *Mount, p string, b *Mount, q string) bool {
	r1, ok1 := pathx.Rel(a.MountPoint, p)
	r2, ok2 := pathx.Rel(b.MountPoint, q)
	if !ok1 || !ok2 {
		return false
	}
	x1, x2 := joinParts(a.Root, r1)
	y1, y2 := joinParts(b.Root, r2)
	if len(x1)+len(x2) != len(y1)+len(y2) {
		return false
	}
	// Compare x1+x2 with y1+y2 piece by piece.
	if len(x1) > len(y1) {
		x1, x2, y1, y2 = y1, y2, x1, x2
	}
	return y1[:len(x1)] == x1 && y1[len(x1):] == x2[:len(y1)-len(x1)] && x2[len(y1)-len(x1):] == y2
}

// SameFS reports whether a and b are mounts of the same filesystem: the same
// MAJOR:MINOR in mountinfo (false if either is nil).
//
// Checked on a btrfs loop image (kernel 6.18, see btrfs_test.go): every mount
// of one btrfs filesystem, whatever its subvolume (subvol=/root, /nix,
// /persist, the top level subvolid=5) and every bind mount from it, shows the
// same MAJOR:MINOR (0:39 there), so SameFS groups subvolumes of one
// filesystem. stat(2) differs: st_dev is a distinct anonymous device per
// subvolume (0:40 top level, 0:41 root, 0:42 nix, ...), and none of them
// equals the mountinfo MAJOR:MINOR, not even the top level's. Never compare a
// stat st_dev with Major:Minor on btrfs; a change of st_dev without a mount
// point marks a nested subvolume.
func SameFS(a, b *Mount) bool {
	return a != nil && b != nil && a.Major == b.Major && a.Minor == b.Minor
}

// Option looks up the mount option name, first in the per-mount Options
// ("rw,nosuid,relatime"), then in the filesystem's SuperOptions
// ("rw,subvolid=256,subvol=/root", "user_id=1000"). It returns the value with
// mountinfo octal escapes decoded (subvol=/my\040vol gives "/my vol"), "" for
// a flag without a value ("nosuid"), and ok false when the option is absent.
func (m *Mount) Option(name string) (value string, ok bool) {
	for _, opts := range [...]string{m.Options, m.SuperOptions} {
		for opts != "" {
			var o string
			o, opts, _ = strings.Cut(opts, ",")
			k, v, _ := strings.Cut(o, "=")
			if k == name {
				return Unescape(v), true
			}
		}
	}
	return "", false
}

// DiskBacked says whether m keeps its contents on a disk: not a tmpfs or
// ramfs, nor a filesystem the kernel makes anew at boot (proc, sysfs,
// cgroup2, an overlay, …): what lies in or beneath those is no user's
// data, and nothing there survives a reboot as it is.
func (m *Mount) DiskBacked() bool {
	switch m.FSType {
	case "tmpfs", "ramfs", "proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "securityfs", "debugfs", "tracefs", "pstore", "bpf", "mqueue", "hugetlbfs", "configfs", "fusectl", "efivarfs", "autofs", "overlay":
		return false
	}
	return true
}

// WriteTo writes t in mountinfo format, one line per mount, escaping ROOT,
// MOUNTPOINT and SOURCE as the kernel does, so that Parse reads it back to the
// same mounts (Line aside). It fails on a mount that cannot be written: an
// empty field other than SuperOptions, or options containing spaces.
func (t *Table) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for i := range t.Mounts {
		m := &t.Mounts[i]
		if m.Root == "" || m.MountPoint == "" || m.Options == "" || m.FSType == "" || m.Source == "" {
			return total, fmt.Errorf("mount %d: empty field cannot be written as mountinfo", m.ID)
		}
		raw := append([]string{m.Options, m.FSType, m.SuperOptions}, m.Optional...)
		for _, f := range raw {
			if strings.ContainsAny(f, " \t\n") {
				return total, fmt.Errorf("mount %d: field %q cannot be written as mountinfo", m.ID, f)
			}
		}
		if strings.HasSuffix(m.SuperOptions, "\r") {
			return total, fmt.Errorf("mount %d: super options %q end in a carriage return", m.ID, m.SuperOptions)
		}
		for _, f := range m.Optional {
			if f == "" || f == "-" {
				return total, fmt.Errorf("mount %d: optional field %q cannot be written as mountinfo", m.ID, f)
			}
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%d %d %d:%d %s %s %s", m.ID, m.Parent, m.Major, m.Minor,
			escape(m.Root)+replacedMark(m.Replaced), escape(m.MountPoint), m.Options)
		for _, f := range m.Optional {
			b.WriteString(" " + f)
		}
		fmt.Fprintf(&b, " - %s %s", m.FSType, escape(m.Source))
		if m.SuperOptions != "" {
			b.WriteString(" " + m.SuperOptions)
		}
		b.WriteByte('\n')
		n, err := io.WriteString(w, b.String())
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// deletedMark ends the root field of a mount whose root was unlinked.
const deletedMark = "//deleted"

// replacedMark is deletedMark for a Replaced mount, else "".
func replacedMark(replaced bool) string {
	if replaced {
		return deletedMark
	}
	return ""
}
