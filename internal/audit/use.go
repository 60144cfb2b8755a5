package audit

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
)

// UseKind says how a path is in use.
type UseKind string

// The ways a path is in use.
const (
	// UseMounted: a mount shows it now (the source of a bind mount, a
	// bindfs mount's source).
	UseMounted UseKind = "mounted"
	// UseReferenced: an option of the configuration names it (a password
	// file, a host key, a secret key, a bind mount's device), a string
	// literal of the configuration holds it (persist.Config.Strings), or
	// a line of /etc/fstab.
	UseReferenced UseKind = "referenced"
	// UseLinked: a live symlink points at it.
	UseLinked UseKind = "linked"
	// UseDeclared: a module of the system's configuration declares it,
	// one the command was not given its declarations from (--persist
	// naming one module, or a file outside the configuration:
	// persist.Config.Declared). It is no stray, whatever was named.
	UseDeclared UseKind = "declared"
)

// Use is a path the running system or its configuration uses, and what
// uses it ("mounted at /var/lib/postgresql (mount 42)",
// "users.users.alice.hashedPasswordFile (configuration.nix:12)").
type Use struct {
	Path string
	Kind UseKind
	By   string
	// MountPoint, for a UseMounted bind mount's source, is where it is
	// mounted; UntilBoot says the next boot does not mount it there again
	// (no declaration, fileSystems or /etc/fstab line makes it: drift
	// check's unmounted, diff.Unmounted), so the use ends at the reboot.
	MountPoint string
	UntilBoot  bool
	// Secret, for a UseReferenced boot secret (persist.Ref.Secret: a
	// password file, a host key, a sops-nix or agenix key), is what losing
	// it does at the next boot (persist.Ref.Loss); "" otherwise.
	Secret string
	// OnFS, with UntilBoot, is the mount point of the persistent
	// filesystem other than the root that MountPoint lies on (a /home
	// subvolume): the data can be moved there to stay in view without a
	// declaration. "" when MountPoint lies on the wiped root.
	OnFS string
}

// apiFilesystems are the API and runtime filesystems systemd mounts at
// boot (systemd's mount-setup.c; impermanence #297: persisting /run breaks
// journald). Nothing at or below them is ever declared.
var apiFilesystems = []string{"/dev", "/proc", "/sys", "/run"}

// uses finds what is mounted and what the configuration references (the
// model's part of Uses); after the audit, the table and the declarations.
func (m *Model) uses() []Use {
	var out []Use
	t := m.Mounts
	sources := mounts.NewSources(t)
	untilBoot := m.unmountedMounts()
	for i := range t.Mounts {
		mt := &t.Mounts[i]
		if !t.Visible(i) || mt.MountPoint == "/" {
			continue
		}
		if src := sources.Of(mt); src != "" && src != mt.MountPoint {
			u := Use{Path: src, Kind: UseMounted, By: fmt.Sprintf("mounted at %s (mount %d)", mt.MountPoint, mt.ID), MountPoint: mt.MountPoint}
			if untilBoot[int32(mt.ID)] {
				u.UntilBoot = true
				u.By += ", not at the next boot (nothing declares it)"
				if on := t.Shows(path.Dir(mt.MountPoint)); on != nil && on.MountPoint != "/" && !m.wipedMount(on) {
					u.OnFS = on.MountPoint
				}
			}
			out = append(out, u)
		}
	}
	if m.Decls != nil {
		for _, r := range m.Decls.Config.References() {
			by := r.Option
			if at := r.Pos.String(); at != "" && at != r.Option {
				by += " (" + at + ")"
			}
			out = append(out, Use{Path: r.Path, Kind: UseReferenced, By: by, Secret: r.Loss})
		}
	}
	out = append(out, m.stringUses(out)...)
	out = append(out, m.declaredUses()...)
	out = append(out, m.sourceUses()...)
	for _, e := range m.Fstab {
		if e.Bind() && path.IsAbs(e.Device) {
			out = append(out, Use{Path: pathx.Clean(e.Device), Kind: UseReferenced, By: fmt.Sprintf("the bind mount at %s (%s)", e.Point, e.At)})
		}
	}
	return append(out, m.resolvedUses(out)...)
}

// unmountedMounts are the IDs of the mounts the audit found showing
// persistent data that the next boot does not mount again (the mount of
// a diff.Unmounted path: no declaration, fileSystems or /etc/fstab line
// makes it), none without the walk.
func (m *Model) unmountedMounts() map[int32]bool {
	out := map[int32]bool{}
	if m.Audit == nil {
		return out
	}
	for _, it := range m.Audit.Lost {
		if it.Category == diff.Unmounted && it.Mount != 0 {
			out[it.Mount] = true
		}
	}
	return out
}

// Uses lists what is in use under the persistent storage paths of the
// declarations and extra (the one new declarations go to), and what the
// configuration references anywhere: mounted now, referenced, or linked
// to by a live symlink, directly or through further links (/etc/static
// and the store's etc), among the lost paths or on a persistent
// filesystem (linkUses); sorted by path, then kind. A
// storage path itself, or a directory holding one, is not listed: an
// option naming all of /nix/persist (a backup's paths) names nothing in it.
func (m *Model) Uses(extra ...string) []Use {
	out := slices.Clone(m.inUse)
	storages := m.storagePaths(extra...)
	out = append(out, m.linkUses(storages)...)
	out = append(out, m.mountPointUses(storages)...)
	// A use of a storage path itself, or of a directory holding one (a
	// backup of all of /nix/persist), names no data in particular.
	out = slices.DeleteFunc(out, func(u Use) bool {
		return slices.ContainsFunc(storages, func(sp string) bool { return pathx.Contains(u.Path, sp) })
	})
	slices.SortStableFunc(out, func(a, b Use) int {
		if c := pathx.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(string(a.Kind), string(b.Kind))
	})
	return out
}

// UsesBelow lists what a mount shows now or the configuration references
// (UseMounted, UseReferenced: the model's own uses, without a walk) at or
// below p (absolute inside the root), in the model's order: what replacing
// p's tree would pull from under a mount or an option (drift restore
// --force refuses it, restore.FromModel).
func (m *Model) UsesBelow(p string) []Use {
	var out []Use
	for _, u := range m.inUse {
		if (u.Kind == UseMounted || u.Kind == UseReferenced) && pathx.HasPrefix(u.Path, p) {
			out = append(out, u)
		}
	}
	return out
}

// storagePaths are the persistent storage paths of the declarations (never
// /) and extra, each once (persist.Set.StoragePaths).
func (m *Model) storagePaths(extra ...string) []string {
	return m.Decls.StoragePaths(extra...)
}

// MountPoints are the mount points of filesystems other than the root:
// the visible mounts of the table, the configuration's fileSystems and the
// audited system's /etc/fstab; sorted, each once.
func (m *Model) MountPoints() []string {
	var out []string
	for i := range m.Mounts.Mounts {
		if mt := &m.Mounts.Mounts[i]; m.Mounts.Visible(i) && mt.MountPoint != "/" {
			out = append(out, mt.MountPoint)
		}
	}
	if m.Decls != nil && m.Decls.Config != nil {
		for _, f := range m.Decls.Config.FileSystems {
			if f.MountPoint != "/" && path.IsAbs(f.MountPoint) {
				out = append(out, f.MountPoint)
			}
		}
	}
	for _, e := range m.Fstab {
		if e.Point != "/" {
			out = append(out, e.Point)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Unpersistable says why the live path p must never be declared, "" when
// it may be: it lies at or below an API filesystem (/dev, /proc, /sys,
// /run), or it is the mount point of another filesystem, or holds one that
// no declaration makes (a declared path's bind mount is made on top of the
// declaration above it), or lies below one that is not ephemeral (/boot: declaring it would mount over
// that filesystem, or over what hides under it; below a tmpfs /home is
// fine). The mount point named is the first in byte order of those that
// say so.
func (m *Model) Unpersistable(p string) string {
	for _, api := range apiFilesystems {
		if pathx.Contains(api, p) {
			return api + " is an API filesystem systemd mounts at boot"
		}
	}
	// Only a mount point at, above or below p can say so: those are
	// tried, and the first in byte order named.
	mx := m.mountIx()
	found := ""
	try := func(c string) {
		for _, mp := range mx.written[c] {
			if (found == "" || mp < found) && (p == mp || pathx.Contains(p, mp) && !mx.declared[mp] || pathx.Contains(mp, p) && !mx.ephemeral[mp]) {
				found = mp
			}
		}
	}
	pathx.Ancestors(pathx.Clean(p), func(c string) bool { try(c); return true })
	for _, c := range mx.points.Below(p) {
		try(c)
	}
	if found != "" {
		return found + " is the mount point of another filesystem"
	}
	return ""
}

// mountIndex is what the questions about the mount points (MountPoints)
// are answered from, built once.
type mountIndex struct {
	points  *pathx.Index        // the mount points, cleaned
	written map[string][]string // a mount point cleaned, to it as written
	// declared: each mount point as written, true when a declaration
	// names it. A declaration mounts its persistent copy there: a
	// directory declared above it is mounted first, then this one on it
	// (impermanence sorts its mounts), so holding it is fine. Keyed by the
	// mount points, not the declared paths: a map of a million declared
	// paths held 55 MB for the life of drift suggest.
	declared  map[string]bool
	ephemeral map[string]bool // the mount points of the ephemeral mounts
}

// mountIx returns the model's mountIndex, made at the first call: after
// the audit (Build), which makes what it indexes.
func (m *Model) mountIx() *mountIndex {
	m.mxOnce.Do(func() { m.mx = m.newMountIndex() })
	return m.mx
}

func (m *Model) newMountIndex() *mountIndex {
	mx := &mountIndex{points: pathx.NewIndex(m.mountPoints), written: map[string][]string{}, declared: map[string]bool{}, ephemeral: map[string]bool{}}
	for _, mp := range m.mountPoints {
		c := pathx.Clean(mp)
		mx.written[c] = append(mx.written[c], mp)
		mx.declared[mp] = false
	}
	if m.Decls != nil {
		for _, e := range m.Decls.Entries {
			if _, ok := mx.declared[e.Path]; ok {
				mx.declared[e.Path] = true
			}
		}
	}
	if m.Audit != nil {
		for _, e := range m.Audit.Ephemeral {
			mx.ephemeral[e.MountPoint] = true
		}
	}
	return mx
}

// ephemeralAt reports whether the audit found an ephemeral filesystem
// mounted at mp (a tmpfs /home, --ephemeral): what lies below it is on a
// wiped filesystem, and may be declared.
func (m *Model) ephemeralAt(mp string) bool {
	return m.mountIx().ephemeral[mp]
}
