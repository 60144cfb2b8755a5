package audit

import (
	"os"
	"path"
	"slices"
	"strings"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
	"golang.org/x/sys/unix"
)

// maxLinkHops bounds how many links linkChain follows (the kernel's
// MAXSYMLINKS is 40; NixOS's /etc chains take three).
const maxLinkHops = 16

// Bounds of the walk of the persistent filesystems for links
// (persistentLinks): levels below a mount point, and entries in all.
const (
	linkWalkDepth  = 8
	linkWalkBudget = 200000
)

// linkChain lists the paths the symbolic link at p (absolute, in the
// audited system) leads to, each hop once, resolved inside root as if root
// were / (never outside it): /etc/foo → /etc/static/foo →
// /nix/store/…-etc/etc/foo → /nix/persist/etcsrc/f gives the last three.
// A link inside a path on the way (/etc/static) is resolved too. It stops
// at the first path that is not a link (which may not exist) or after
// maxLinkHops.
func linkChain(root, p, target string) []string {
	r := &linkResolver{root: root}
	defer r.close()
	return r.chain(p, target)
}

// linkResolver resolves link chains inside root, remembering what it
// lstat'ed and read: the links of a tree lead through the same
// directories (/usr/lib, /etc/static), which are looked at once, not once
// a link.
// A path is looked at beneath root (fsys.Lstat, fsys.Readlink: in chunks
// past PATH_MAX), so a link deep in a long tree resolves as a short one.
// Close it when done.
type linkResolver struct {
	root string
	// rootFD is root opened (fsys.OpenRoot) at the first look (opened),
	// -1 when it cannot be.
	rootFD int
	opened bool
	seen   map[string]linkStat // by path in the audited system
	// lost, when set, is the audit's lost set (in pathx.Compare order):
	// what the walk saw at a path visible in the root is taken from it
	// instead of lstat'ing the path again.
	lost []*diff.Item
}

// linkStat is what one path is: ok false when it cannot be lstat'ed (or,
// for a link, read); link and its target otherwise.
type linkStat struct {
	ok, link bool
	target   string
}

// chain is linkChain through r.
func (r *linkResolver) chain(p, target string) []string {
	var out []string
	cur := target
	if !path.IsAbs(cur) {
		cur = path.Join(path.Dir(p), cur)
	}
	cur = path.Clean(cur)
	out = append(out, cur)
	for hop := 0; hop < maxLinkHops; hop++ {
		next, ok := r.resolveOne(cur)
		if !ok || next == cur {
			break
		}
		cur = next
		out = append(out, cur)
	}
	return out
}

// stat lstat's the path prefix of the audited system (and reads it when it
// is a link), once.
func (r *linkResolver) stat(prefix string) linkStat {
	if s, ok := r.walked(prefix); ok {
		return s
	}
	if s, ok := r.seen[prefix]; ok {
		return s
	}
	var s linkStat
	if fd := r.fd(); fd >= 0 {
		// The components before prefix are no links (resolveOne looks at
		// them first): beneath root without following one is the same.
		var st unix.Stat_t
		rel, err := strings.TrimLeft(prefix, "/"), error(nil)
		if rel == "" {
			err = unix.Fstat(fd, &st)
		} else {
			err = fsys.Lstat(fd, rel, &st)
		}
		if err == nil {
			s.ok = true
			if st.Mode&unix.S_IFMT == unix.S_IFLNK {
				t, err := fsys.Readlink(fd, rel)
				s.ok, s.link, s.target = err == nil, true, t
			}
		}
	}
	if r.seen == nil {
		r.seen = map[string]linkStat{}
	}
	r.seen[prefix] = s
	return s
}

// fd is r.rootFD, opening root the first time; -1 when it cannot be.
func (r *linkResolver) fd() int {
	if !r.opened {
		fd, err := fsys.OpenRoot(r.root)
		if err != nil {
			fd = -1
		}
		r.rootFD, r.opened = fd, true
	}
	return r.rootFD
}

// readDir opens the directory p (absolute in the audited system) beneath
// root, never through a symlink (fsys.Open: in chunks past PATH_MAX), and
// lists it in name order; the caller closes dir (its links are read
// there: fsys.Readlink of dir's descriptor).
func (r *linkResolver) readDir(p string) (dir *os.File, ents []os.DirEntry, err error) {
	rel := strings.TrimLeft(p, "/")
	if rel == "" {
		rel = "."
	}
	fd, err := fsys.Open(r.fd(), rel, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return nil, nil, err
	}
	dir = os.NewFile(uintptr(fd), p)
	if ents, err = dir.ReadDir(-1); err != nil {
		dir.Close()
		return nil, nil, err
	}
	slices.SortFunc(ents, func(a, b os.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return dir, ents, nil
}

// close closes root's descriptor, when it was opened.
func (r *linkResolver) close() {
	if r.opened && r.rootFD >= 0 {
		unix.Close(r.rootFD)
	}
	r.opened = false
}

// walked is what the walk saw at p when the lost set holds it, visible in
// the root (not read beneath a mount point), with its target when it is a
// link.
func (r *linkResolver) walked(p string) (linkStat, bool) {
	i, found := slices.BinarySearchFunc(r.lost, p, func(it *diff.Item, p string) int { return pathx.Compare(it.Path, p) })
	if !found || !r.lost[i].Visible() {
		return linkStat{}, false
	}
	it := r.lost[i]
	if it.Mode&unix.S_IFMT != unix.S_IFLNK {
		return linkStat{ok: true}, true
	}
	if it.Target() == "" {
		return linkStat{}, false // not read: ask again
	}
	return linkStat{ok: true, link: true, target: it.Target()}, true
}

// resolveOne replaces the first symbolic link among the components of p
// (absolute, clean) by its target, read beneath root; ok is false when no
// component is a link (or one cannot be read).
func (r *linkResolver) resolveOne(p string) (string, bool) {
	for i := 1; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			continue
		}
		prefix := p[:i] // "/" for p "/"
		s := r.stat(prefix)
		if !s.ok {
			return "", false
		}
		if !s.link {
			continue
		}
		t := s.target
		if !path.IsAbs(t) {
			t = path.Join(path.Dir(prefix), t)
		}
		rest := ""
		if i < len(p) {
			rest = p[i+1:]
		}
		return path.Clean(path.Join(t, rest)), true
	}
	return "", false
}

// linkUses are the Uses of the paths under the storage paths a live link
// leads to, directly or through further links (linkChain): the links
// among the lost paths, and those on the persistent filesystems other than
// the storage paths and /nix (persistentLinks).
func (m *Model) linkUses(storages []string) []Use {
	var out []Use
	r := &linkResolver{root: m.Root, lost: m.Audit.Lost}
	defer r.close()
	add := func(link, at, target string) {
		for _, hop := range r.chain(at, target) {
			if slices.ContainsFunc(storages, func(sp string) bool { return pathx.HasPrefix(hop, sp) && hop != sp }) {
				out = append(out, Use{Path: hop, Kind: UseLinked, By: "linked from " + link})
			}
		}
	}
	for _, it := range m.Audit.Lost {
		if t := it.Target(); it.Mode&unix.S_IFMT == unix.S_IFLNK && t != "" {
			add(it.Path, it.Path, t)
		}
	}
	m.persistentLinks(storages, r, add)
	return out
}

// persistentLinks calls add with every symbolic link (the live path
// that leads to it, where it is, its target) on the visible persistent mounts that may hold a user's or a
// service's link into persistent storage (/home its own subvolume,
// /var/log): all but the root, an ephemeral mount, /nix and what is below
// it, a storage path or a mount within one, an API filesystem, and a bind
// mount of another mount's directory. The walk never follows a link nor
// enters another mount point or a storage path; it goes linkWalkDepth
// levels below each mount point, linkWalkBudget entries in all. It walks
// the store's etc directory /etc/static leads to as well, each link there
// standing for /etc/NAME (environment.etc."NAME".source out of the store).
func (m *Model) persistentLinks(storages []string, r *linkResolver, add func(link, at, target string)) {
	t := m.Mounts
	sources := mounts.NewSources(t)
	inStorage := pathx.NewIndex(storages)
	var points []string
	for i := range t.Mounts {
		mt := &t.Mounts[i]
		mp := mt.MountPoint
		if !t.Visible(i) || mp == "/" || m.ephemeralAt(mp) || pathx.Contains("/nix", mp) || sources.Of(mt) != "" ||
			slices.ContainsFunc(apiFilesystems, func(a string) bool { return pathx.Contains(a, mp) }) ||
			inStorage.Above(mp) >= 0 {
			continue
		}
		points = append(points, mp)
	}
	notWalked := map[string]bool{}
	for _, p := range storages {
		notWalked[p] = true
	}
	for _, p := range m.mountPoints {
		notWalked[p] = true
	}
	skip := func(p string) bool { return notWalked[p] }
	budget := linkWalkBudget
	var walk func(p, live string, depth int)
	walk = func(p, live string, depth int) {
		dir, ents, err := r.readDir(p)
		if err != nil {
			return
		}
		defer dir.Close()
		for _, e := range ents {
			if budget--; budget < 0 {
				return
			}
			c, lc := path.Join(p, e.Name()), path.Join(live, e.Name())
			switch {
			case e.Type()&os.ModeSymlink != 0:
				if target, err := fsys.Readlink(int(dir.Fd()), e.Name()); err == nil {
					add(lc, c, target)
				}
			case e.IsDir() && depth < linkWalkDepth && !skip(c):
				walk(c, lc, depth+1)
			}
		}
	}
	for _, mp := range points {
		walk(mp, mp, 1)
	}
	// NixOS's /etc: /etc/NAME → /etc/static/NAME → the store's etc, where
	// environment.etc's out-of-store sources are links.
	if chain := r.chain("/etc", "/etc/static"); pathx.Contains("/nix/store", chain[len(chain)-1]) {
		walk(chain[len(chain)-1], "/etc", 1)
	}
}
