package audit

import (
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

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
	var out []string
	cur := target
	if !path.IsAbs(cur) {
		cur = path.Join(path.Dir(p), cur)
	}
	cur = path.Clean(cur)
	out = append(out, cur)
	for hop := 0; hop < maxLinkHops; hop++ {
		next, ok := resolveOne(root, cur)
		if !ok || next == cur {
			break
		}
		cur = next
		out = append(out, cur)
	}
	return out
}

// resolveOne replaces the first symbolic link among the components of p
// (absolute, clean) by its target, read beneath root; ok is false when no
// component is a link (or one cannot be read).
func resolveOne(root, p string) (string, bool) {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i := range parts {
		prefix := "/" + strings.Join(parts[:i+1], "/")
		full := filepath.Join(root, prefix)
		var st unix.Stat_t
		if unix.Lstat(full, &st) != nil {
			return "", false
		}
		if st.Mode&unix.S_IFMT != unix.S_IFLNK {
			continue
		}
		t, err := os.Readlink(full)
		if err != nil {
			return "", false
		}
		if !path.IsAbs(t) {
			t = path.Join(path.Dir(prefix), t)
		}
		return path.Clean(path.Join(t, strings.Join(parts[i+1:], "/"))), true
	}
	return "", false
}

// linkUses are the Uses of the paths under the storage paths a live link
// leads to, directly or through further links (linkChain): the links
// among the lost paths, and those on the persistent filesystems other than
// the storage paths and /nix (persistentLinks).
func (m *Model) linkUses(storages []string) []Use {
	var out []Use
	add := func(link, at, target string) {
		for _, hop := range linkChain(m.Root, at, target) {
			if slices.ContainsFunc(storages, func(sp string) bool { return pathx.HasPrefix(hop, sp) && hop != sp }) {
				out = append(out, Use{Path: hop, Kind: UseLinked, By: "linked from " + link})
			}
		}
	}
	for _, it := range m.Audit.Lost {
		if it.Mode&unix.S_IFMT == unix.S_IFLNK && it.Target != "" {
			add(it.Path, it.Path, it.Target)
		}
	}
	m.persistentLinks(storages, add)
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
func (m *Model) persistentLinks(storages []string, add func(link, at, target string)) {
	t := m.Mounts
	var points []string
	for i := range t.Mounts {
		mt := &t.Mounts[i]
		mp := mt.MountPoint
		if !t.Visible(i) || mp == "/" || m.ephemeralAt(mp) || pathx.Contains("/nix", mp) || mountSource(t, mt) != "" ||
			slices.ContainsFunc(apiFilesystems, func(a string) bool { return pathx.Contains(a, mp) }) ||
			slices.ContainsFunc(storages, func(sp string) bool { return pathx.Contains(sp, mp) }) {
			continue
		}
		points = append(points, mp)
	}
	skip := func(p string) bool {
		return slices.Contains(storages, p) || slices.Contains(m.mountPoints, p)
	}
	budget := linkWalkBudget
	var walk func(p, live string, depth int)
	walk = func(p, live string, depth int) {
		ents, err := os.ReadDir(filepath.Join(m.Root, p))
		if err != nil {
			return
		}
		for _, e := range ents {
			if budget--; budget < 0 {
				return
			}
			c, lc := path.Join(p, e.Name()), path.Join(live, e.Name())
			switch {
			case e.Type()&os.ModeSymlink != 0:
				if target, err := os.Readlink(filepath.Join(m.Root, c)); err == nil {
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
	if chain := linkChain(m.Root, "/etc", "/etc/static"); pathx.Contains("/nix/store", chain[len(chain)-1]) {
		walk(chain[len(chain)-1], "/etc", 1)
	}
}
