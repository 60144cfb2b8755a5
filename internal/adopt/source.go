package adopt

import (
	"errors"
	"fmt"
	"path"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/knowledge"
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
	"golang.org/x/sys/unix"
)

// Where the data adopt copies lies: on a wiped filesystem (read beneath
// the mounts on it when one hides it), on a persistent filesystem the next
// boot mounts the copy over (covered), or beneath a declared mount on a
// persistent filesystem (hidden now, not deleted).

// source returns the directory p's data is read under (from), p's path
// below it, and the release of the view; from is "" when there is nothing
// to adopt (p.Absent, p.Persistent set). A declared directory whose live
// path is a symlink is a *LinkError.
func (a *adopter) source(p *Path) (from, rel string, release func(), err error) {
	eph := a.m.Audit.WipedAt(p.Path)
	shows := a.m.Mounts.Shows(p.Path)
	if shows != nil && !p.MountedNow && !a.ephemeral(shows) {
		return a.coveredSource(p, shows)
	}
	if p.MountedNow {
		if on := a.beneathPersistent(p); on != nil {
			return a.hiddenSource(p, on)
		}
	}
	if eph == nil {
		p.Persistent = "/"
		if shows != nil {
			p.Persistent = shows.MountPoint
		}
		return "", "", nil, nil
	}
	p.Ephemeral = eph.MountPoint
	if shows != nil && shows.ID != eph.ID {
		for m := shows; m != nil && m.ID != eph.ID; m = a.m.Mounts.Shows(path.Dir(m.MountPoint)) {
			p.HiddenBy = m.MountPoint // the lowest mount on eph's tree that hides p
			if m.MountPoint == "/" {
				break
			}
		}
	}
	rel = "/"
	if r, _ := pathx.Rel(eph.MountPoint, p.Path); r != "" {
		rel = "/" + r
	}
	release = func() {}
	switch {
	case a.m.Under != nil:
		from, release, err = a.m.Under(eph.MountPoint)
		if err != nil {
			return "", "", nil, fmt.Errorf("%s: cannot look beneath the mount points on %s: %w", p.Path, eph.MountPoint, err)
		}
	case p.HiddenBy != "":
		return "", "", nil, fmt.Errorf("%s is beneath the mount at %s: drift reads beneath mount points only with the live mount table (no --mountinfo) and --root-subvol auto or PATH", p.Path, p.HiddenBy)
	default:
		from = path.Join(a.m.Root, eph.MountPoint)
	}
	if err := a.top(p, from, rel, nil); err != nil || p.Absent {
		release()
		return "", "", nil, err
	}
	return from, rel, release, nil
}

// coveredSource is source for a path whose live data sits on the
// persistent filesystem mounted at m (not its persistent copy): it is read
// there, through the live view. Where that is the persistent copy itself
// (a bind mount of the storage path above it), nothing is adopted.
func (a *adopter) coveredSource(p *Path, m *mounts.Mount) (from, rel string, release func(), err error) {
	p.Covered = m.MountPoint
	from = path.Join(a.m.Root, m.MountPoint)
	rel = "/"
	if r, _ := pathx.Rel(m.MountPoint, p.Path); r != "" {
		rel = "/" + r
	}
	dst, err := fsys.StatIn(a.m.Root, p.Dest)
	if err != nil {
		dst = unix.Stat_t{}
	}
	if err := a.top(p, from, rel, &dst); err != nil || p.Absent || p.Persistent != "" {
		return "", "", nil, err
	}
	return from, rel, func() {}, nil
}

// beneathPersistent is the persistent disk filesystem (not a wiped one)
// that holds the directory the mount of p's declared path is made in:
// what lies there beneath that mount (written before the declaration was
// mounted: a /home subvolume under a declared home directory) is hidden,
// not deleted, and p's data to adopt. nil when that filesystem is wiped
// (source reads beneath the wiped filesystem) or not disk-backed.
func (a *adopter) beneathPersistent(p *Path) *mounts.Mount {
	if p.Decl.Path == "/" {
		return nil
	}
	dir := path.Dir(p.Decl.Path)
	if a.m.KeptAt(dir) == "" { // no mount shows dir, or a wiped or tmpfs one
		return nil
	}
	return a.m.Mounts.Shows(dir)
}

// hiddenSource is source for a path whose declared mount is made on the
// persistent filesystem mounted at on: its data is read beneath the mounts
// of on (Model.Under), p.Covered naming on and p.HiddenBy the declared
// mount.
func (a *adopter) hiddenSource(p *Path, on *mounts.Mount) (from, rel string, release func(), err error) {
	p.Covered, p.HiddenBy = on.MountPoint, p.Decl.Path
	rel = "/"
	if r, _ := pathx.Rel(on.MountPoint, p.Path); r != "" {
		rel = "/" + r
	}
	if a.m.Under == nil {
		return "", "", nil, fmt.Errorf("%s is beneath the mount at %s: drift reads beneath mount points only with the live mount table (no --mountinfo) and --root-subvol auto or PATH", p.Path, p.HiddenBy)
	}
	from, release, err = a.m.Under(on.MountPoint)
	if err != nil {
		return "", "", nil, fmt.Errorf("%s: cannot look beneath the mount points on %s: %w", p.Path, on.MountPoint, err)
	}
	if err := a.top(p, from, rel, nil); err != nil || p.Absent {
		release()
		return "", "", nil, err
	}
	return from, rel, release, nil
}

// top looks at the object p's data starts at (from+rel): p.Absent when
// there is none; an *EtcLinkError for activation's link into /etc/static
// at the declared path; a *LinkError for a symlink at a declared directory's path
// (the method "symlink" aside when it points at the copy); p.Persistent set
// when it is the object dest (when given) itself.
func (a *adopter) top(p *Path, from, rel string, dest *unix.Stat_t) error {
	st, err := fsys.StatIn(from, rel)
	switch {
	case errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR):
		p.Absent = true
		return nil
	case errors.Is(err, unix.ELOOP):
		return nil // a symlink on the way: the copy refuses it, naming it (restore.SymlinkError)
	case err != nil:
		return fmt.Errorf("%s: %w", p.Path, err)
	}
	if diff.DeclaredFileIsDir(&p.Decl, p.Path, st.Mode&unix.S_IFMT == unix.S_IFDIR) {
		return &KindError{Path: p.Path, Source: p.Decl.Source()}
	}
	if dest != nil && dest.Ino != 0 && dest.Dev == st.Dev && dest.Ino == st.Ino {
		p.Persistent, p.Covered = p.Covered, ""
		return nil
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK || p.Path != p.Decl.Path {
		return nil
	}
	target, err := fsys.ReadlinkIn(from, rel)
	if err == nil && knowledge.EtcStaticLink(p.Path, target) {
		return &EtcLinkError{Path: p.Path, Target: target}
	}
	if p.Decl.Kind == persist.Dir {
		if err != nil {
			return fmt.Errorf("%s: %w", p.Path, err)
		}
		abs := target
		if !path.IsAbs(abs) {
			abs = path.Join(path.Dir(p.Path), target)
		}
		if path.Clean(abs) == path.Clean(p.Decl.Source()) {
			p.Persistent = p.Decl.Source() // the symlink method: the data is in the copy
			return nil
		}
		return &LinkError{Path: p.Path, Target: target}
	}
	return nil
}
