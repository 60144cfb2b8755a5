package diff

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	ifsys "github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/pathx"
	"golang.org/x/sys/unix"
)

// owned is one entry's owner, as found on persistent storage.
type owned struct {
	path     string
	uid, gid uint32
}

// ownership compares, for every backed declared path (and the entries
// directly inside a declared directory), the names of its numeric owner
// and group now and in the previous root.
func (h *hist) ownership() {
	var found []owned
	groupOf := map[string]string{} // path -> the declared path it was found from
	seen := map[string]bool{}
	type dirToList struct{ decl, path string }
	var dirs []dirToList
	for _, e := range h.c.entries {
		if seen[e.Path] {
			continue
		}
		seen[e.Path] = true
		at := h.backed(e.Path, e.Source())
		if at == "" {
			continue
		}
		st, err := h.lstat(at)
		if err != nil {
			continue
		}
		found = append(found, owned{e.Path, st.Uid, st.Gid})
		groupOf[e.Path] = e.Path
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			dirs = append(dirs, dirToList{e.Path, at})
		}
	}
	for _, d := range dirs {
		for _, o := range h.list(d.path) {
			p := d.decl + "/" + o.path
			if d.decl == "/" {
				p = "/" + o.path
			}
			if seen[p] {
				continue
			}
			seen[p] = true
			o.path = p
			found = append(found, o)
			groupOf[p] = d.decl
		}
	}
	if len(found) == 0 {
		return
	}
	now := h.loadIDs(h.live, "the live root")
	before := h.loadIDs(h.prev, h.label)
	if now.noUIDs || now.noGIDs {
		// A fresh install before its first activation: every id would be
		// "unassigned now". Said once, and those ids are not compared.
		var missing []string
		if now.noUIDs {
			missing = append(missing, "/etc/passwd")
		}
		if now.noGIDs {
			missing = append(missing, "/etc/group")
		}
		h.c.warn(WarnIDs, "/etc/passwd", fmt.Sprintf("the audited root has no %s yet (not written before the NixOS activation: a system not activated yet, or right after the wipe): ownership cannot be checked, the owners of persisted paths are not compared with %s; run drift check again once the system has booted", strings.Join(missing, " and no "), h.label))
	}

	type key struct {
		decl, kind string
		id         uint32
	}
	type agg struct {
		self  bool
		first string
		n     int
	}
	groups := map[key]*agg{}
	var order []key
	note := func(o owned, kind string, id uint32, nowDB, beforeDB idNames) {
		was, ok := beforeDB[id]
		if !ok || nowDB[id] == was {
			return
		}
		k := key{groupOf[o.path], kind, id}
		g := groups[k]
		if g == nil {
			g = &agg{}
			groups[k] = g
			order = append(order, k)
		}
		g.n++
		if o.path == k.decl {
			g.self = true
		} else if g.first == "" || pathx.Compare(o.path, g.first) < 0 {
			g.first = o.path
		}
	}
	for _, o := range found {
		if !now.noUIDs {
			note(o, "uid", o.uid, now.uid, before.uid)
		}
		if !now.noGIDs {
			note(o, "gid", o.gid, now.gid, before.gid)
		}
	}
	for _, k := range order {
		g := groups[k]
		p := k.decl
		if !g.self {
			p = g.first
		}
		names := [2]idNames{now.uid, before.uid}
		if k.kind == "gid" {
			names = [2]idNames{now.gid, before.gid}
		}
		nowName, was := names[0][k.id], names[1][k.id]
		nowText := nowName + " now"
		if nowName == "" {
			nowText = "unassigned now"
		}
		verb := "is owned by uid"
		if k.kind == "gid" {
			verb = "has group gid"
		}
		msg := fmt.Sprintf("ownership drift: %s %s %d, which is %s but was %s in %s", p, verb, k.id, nowText, was, h.label)
		switch {
		case g.self && g.n > 1:
			msg += fmt.Sprintf("; so %s directly inside it", isAre(g.n-1))
		case !g.self && g.n > 1:
			msg += fmt.Sprintf("; so %s directly inside %s", isAre(g.n-1), k.decl)
		}
		h.a.Alerts = append(h.a.Alerts, Alert{Kind: OwnershipDrift, Path: p, Message: msg, Previous: h.name,
			IDKind: k.kind, ID: k.id, NameNow: nowName, NameBefore: was, Entries: g.n})
	}
}

func isAre(n int) string {
	if n == 1 {
		return "is 1 more entry"
	}
	return "are " + strconv.Itoa(n) + " more entries"
}

// backed returns where the data of the declared path p lies on persistent
// storage: p itself when a persistent mount shows it (a bind mount, a
// persistent filesystem; or a mount no longer declared there, whose data
// is in persistent storage too), its source when p is a symlink to it (the
// symlink method) on persistent storage; "" when p is on the ephemeral
// root (not backed: it is lost, not drifting) or missing.
func (h *hist) backed(p, source string) string {
	m := h.t.Shows(p)
	if m == nil {
		return ""
	}
	if !h.c.kinds[m].wiped() {
		return p
	}
	st, err := h.lstat(p)
	if err != nil || st.Mode&unix.S_IFMT != unix.S_IFLNK {
		return ""
	}
	target, err := ifsys.Readlink(h.live, strings.TrimPrefix(p, "/"))
	if err != nil || linkTarget(p, target) != source {
		return ""
	}
	if sm := h.t.Shows(source); sm == nil || h.c.kinds[sm].wiped() {
		return ""
	}
	return source
}

// lstat stats the live path p (absolute, in the audited root) without
// following a symlink anywhere along it.
func (h *hist) lstat(p string) (*unix.Stat_t, error) {
	var st unix.Stat_t
	if p == "/" {
		return &st, unix.Fstat(h.live, &st)
	}
	if err := ifsys.Lstat(h.live, strings.TrimPrefix(p, "/"), &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// list returns the owners of the entries directly inside the live
// directory p (names relative to it), never following a symlink.
func (h *hist) list(p string) []owned {
	rel := strings.Trim(p, "/")
	if rel == "" {
		rel = "."
	}
	fd, err := ifsys.Open(h.live, rel, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return nil
	}
	f := os.NewFile(uintptr(fd), p)
	defer f.Close()
	names, _ := f.Readdirnames(-1)
	slices.Sort(names)
	var out []owned
	for _, n := range names {
		var st unix.Stat_t
		if unix.Fstatat(fd, n, &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
			continue
		}
		out = append(out, owned{n, st.Uid, st.Gid})
	}
	return out
}
