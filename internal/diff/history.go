package diff

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/safefile"
	"github.com/nix-drift/drift/internal/units"
	"golang.org/x/sys/unix"
)

// AlertKind names a finding against the previous boot's root.
type AlertKind uint8

const (
	// OwnershipDrift: a persisted path is owned by a uid (or gid) that
	// names another user (group) now than it did in the previous root
	// (/var/lib/nixos not persisted: NixOS allocates the ids again at boot).
	// A warning: it does not change the exit status.
	OwnershipDrift AlertKind = iota + 1
	// HostKeyChanged: an SSH host key on the ephemeral root differs from
	// the previous root's copy: it is regenerated at every boot.
	// Something is being lost every boot: drift check exits 1.
	HostKeyChanged
)

func (k AlertKind) String() string {
	switch k {
	case OwnershipDrift:
		return "ownership-drift"
	case HostKeyChanged:
		return "host-key-changed"
	}
	return "unknown"
}

// Losing reports whether an alert of this kind means that something is
// lost at every boot (drift check then exits 1).
func (k AlertKind) Losing() bool { return k == HostKeyChanged }

// Alert is a finding of the comparison with the previous boot's root.
type Alert struct {
	Kind AlertKind
	// Path is the live path (relative to the audited root, from "/").
	Path string
	// Message is the whole finding in one line (raw bytes of the path:
	// escape it before printing).
	Message string
	// Previous is the previous root's name (PreviousRoot.Name).
	Previous string

	// OwnershipDrift: IDKind is "uid" or "gid"; ID the number; NameNow
	// its name in the audited root ("" when nothing has it now) and
	// NameBefore in the previous root; Entries how many entries have it
	// (the path and the entries directly inside the declared directory).
	IDKind     string
	ID         uint32
	NameNow    string
	NameBefore string
	Entries    int

	// HostKeyChanged: Lost is the category of the live copy (it is on the
	// ephemeral root).
	Lost Category
}

// Losing reports whether any alert means something is lost at every boot.
func (a *Audit) Losing() bool {
	return slices.ContainsFunc(a.Alerts, func(al Alert) bool { return al.Kind.Losing() })
}

// maxIDFile bounds what is read of /etc/passwd, /etc/group and the
// /var/lib/nixos maps.
const maxIDFile = 64 << 20

// history compares the audited root with the previous boot's root
// (Config.PreviousRoot): SSH host keys regenerated at every boot, and the
// ownership of persisted paths against both roots' user and group names.
// Trouble reading is a warning; nothing here fails the check.
func (c *classifier) history(ctx context.Context, t *mounts.Table, a *Audit) {
	prev := c.cfg.PreviousRoot
	if prev == nil || prev.Dir == "" {
		return
	}
	label := "the previous root (old_roots/" + prev.Name + ")"
	liveFD, err := unix.Open(c.cfg.Root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		c.warn(WarnHistory, "/", fmt.Sprintf("cannot compare with the previous root: %s: %v", c.cfg.Root, err))
		return
	}
	defer unix.Close(liveFD)
	prevFD, err := unix.Open(prev.Dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		c.warn(WarnHistory, "", fmt.Sprintf("cannot compare with %s: %v", label, err))
		return
	}
	defer unix.Close(prevFD)
	h := &hist{c: c, t: t, a: a, live: liveFD, prev: prevFD, label: label, name: prev.Name}
	h.hostKeys()
	h.ownership()
	now := c.cfg.Now
	if now.IsZero() {
		now = time.Now()
	}
	var cmp *Comparison
	if lockstepHistory {
		cmp = c.compareWithPrevious(ctx, prev.Dir, label)
	}
	var expanded bool
	if cmp != nil || ctx.Err() == nil {
		var lh *lockHist // nil: every lost path is looked up one by one
		if cmp != nil {
			lh = newLockHist(cmp)
		}
		expanded = c.expandCollapsed(ctx, a, lh)
		c.historiesFrom(ctx, lh, liveFD, prevFD, a)
		if cmp != nil {
			c.vanishedFrom(cmp, a, now)
		} else {
			c.vanished(ctx, liveFD, a, now)
		}
	}
	if expanded {
		// The same entries, counted again (they may have moved since).
		for cat := range a.Totals {
			if cat.Lost() {
				delete(a.Totals, cat)
			}
		}
		for _, it := range a.Lost {
			tot := a.Totals[it.Category]
			tot.Add(it.Total())
			a.Totals[it.Category] = tot
		}
	}
	slices.SortStableFunc(a.Alerts, func(x, y Alert) int {
		if x.Kind != y.Kind {
			return int(y.Kind) - int(x.Kind) // host keys first
		}
		if d := pathx.Compare(x.Path, y.Path); d != 0 {
			return d
		}
		return strings.Compare(x.IDKind, y.IDKind)
	})
}

type hist struct {
	c          *classifier
	t          *mounts.Table
	a          *Audit
	live, prev int
	label      string // "the previous root (old_roots/NAME)"
	name       string
}

// readBounded reads the regular file rel beneath dirFD (at most maxIDFile
// bytes). A missing file is (nil, nil).
func readBounded(dirFD int, rel string) ([]byte, error) {
	fd, err := openBeneath(dirFD, rel)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	f, _, err := safefile.FromFD(fd, rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return safefile.ReadAll(context.Background(), f, safefile.Limit{Name: rel, Max: maxIDFile})
}

// idNames maps numeric ids to names.
type idNames map[uint32]string

// parseIDDB reads /etc/passwd or /etc/group lines ("name:password:id:…")
// into ids to names; the first line with an id wins, as for getpwuid.
// Blank lines, comments and NIS compat lines (+, -) are skipped; a line
// without a name or a numeric id in its third field is malformed: skipped
// and its number returned.
func parseIDDB(data []byte) (idNames, []int) {
	names := idNames{}
	var bad []int
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" || line[0] == '#' || line[0] == '+' || line[0] == '-' {
			continue
		}
		f := strings.SplitN(line, ":", 4)
		if len(f) < 3 || f[0] == "" {
			bad = append(bad, i+1)
			continue
		}
		id, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			bad = append(bad, i+1)
			continue
		}
		if _, ok := names[uint32(id)]; !ok {
			names[uint32(id)] = f[0]
		}
	}
	return names, bad
}

// parseIDMap reads /var/lib/nixos/uid-map or gid-map ({"name": id, …},
// what NixOS's update-users-groups.pl keeps) into ids to names. An id that
// two names claim is left out (ambiguous); entries whose value is not an
// id are counted as malformed.
func parseIDMap(data []byte) (idNames, int, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, 0, err
	}
	names := idNames{}
	ambiguous := map[uint32]bool{}
	bad := 0
	for name, v := range raw {
		var id uint32
		if name == "" || json.Unmarshal(v, &id) != nil {
			bad++
			continue
		}
		if old, ok := names[id]; ok && old != name {
			ambiguous[id] = true
		}
		names[id] = name
	}
	for id := range ambiguous {
		delete(names, id)
	}
	return names, bad, nil
}

// idDB is one root's names for uids and gids. noUIDs (noGIDs) is set when
// the root's /etc/passwd (/etc/group) is missing or empty: not
// written yet (the NixOS activation writes it), so who owns what cannot
// be checked, whatever /var/lib/nixos/uid-map holds (it lacks root and
// every static id).
type idDB struct {
	uid, gid       idNames
	noUIDs, noGIDs bool
}

// loadIDs reads a root's names: /etc/passwd and /etc/group first, then the
// ids they lack from /var/lib/nixos/uid-map and gid-map (ids of users no
// longer declared stay there). Malformed content is a warning that names
// the root (where).
// readFrom names what reading p in the live root really read, for
// messages: where itself, or, when another mount shows p (/var/lib/nixos
// bind-mounted from /nix/persist/var/lib/nixos), that mount: "the mount at
// /var/lib/nixos (mount 42, /persist/var/lib/nixos of /dev/vda2) in the
// live root". In an old root (fd is not the live root) it is where.
func (h *hist) readFrom(fd int, where, p string) string {
	if fd != h.live || h.c.cfg.Mounts == nil {
		return where
	}
	m := h.c.cfg.Mounts.Shows(p)
	if m == nil || m.MountPoint == "/" {
		return where
	}
	return fmt.Sprintf("the mount at %s (mount %d, %s of %s) in %s", m.MountPoint, m.ID, m.Root, m.Source, where)
}

func (h *hist) loadIDs(fd int, where string) idDB {
	db := idDB{uid: idNames{}, gid: idNames{}}
	for _, src := range []struct {
		db, mp string
		into   idNames
		none   *bool
	}{{"etc/passwd", "var/lib/nixos/uid-map", db.uid, &db.noUIDs}, {"etc/group", "var/lib/nixos/gid-map", db.gid, &db.noGIDs}} {
		data, err := readBounded(fd, src.db)
		haveDB := err != nil || data != nil
		if err != nil {
			h.c.warn(WarnIDs, "/"+src.db, fmt.Sprintf("cannot read /%s in %s: %v", src.db, h.readFrom(fd, where, "/"+src.db), err))
		} else {
			names, bad := parseIDDB(data)
			if len(bad) > 0 {
				h.c.warn(WarnIDs, "/"+src.db, fmt.Sprintf("/%s in %s: %s skipped (%s)", src.db, where, units.Plural(int64(len(bad)), "malformed line", "malformed lines"), lineList(bad)))
			}
			for id, n := range names {
				src.into[id] = n
			}
		}
		*src.none = !haveDB || err == nil && len(bytes.TrimSpace(data)) == 0
		data, err = readBounded(fd, src.mp)
		if err == nil && data != nil {
			var names idNames
			var bad int
			names, bad, err = parseIDMap(data)
			if bad > 0 {
				h.c.warn(WarnIDs, "/"+src.mp, fmt.Sprintf("/%s in %s: %s skipped", src.mp, where, units.Plural(int64(bad), "malformed entry", "malformed entries")))
			}
			for id, n := range names {
				if _, ok := src.into[id]; !ok {
					src.into[id] = n
				}
			}
		}
		if err != nil {
			h.c.warn(WarnIDs, "/"+src.mp, fmt.Sprintf("cannot read /%s in %s: %v", src.mp, h.readFrom(fd, where, "/"+src.mp), err))
		}
		if _, ok := src.into[0]; !ok {
			src.into[0] = "root" // uid 0 and gid 0 are root's on every Linux system
		}
	}
	return db
}

func lineList(lines []int) string {
	var s []string
	for i, l := range lines {
		if i == 5 {
			s = append(s, "…")
			break
		}
		s = append(s, strconv.Itoa(l))
	}
	if len(lines) == 1 {
		return "line " + s[0]
	}
	return "lines " + strings.Join(s, ", ")
}

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
	if h.c.kinds[m] != ephemeral {
		return p
	}
	st, err := h.lstat(p)
	if err != nil || st.Mode&unix.S_IFMT != unix.S_IFLNK {
		return ""
	}
	target, err := readlinkBeneath(h.live, strings.TrimPrefix(p, "/"))
	if err != nil || linkTarget(p, target) != source {
		return ""
	}
	if sm := h.t.Shows(source); sm == nil || h.c.kinds[sm] == ephemeral {
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
	if err := statBeneath(h.live, strings.TrimPrefix(p, "/"), &st); err != nil {
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
	fd, err := openAt(h.live, rel, unix.O_RDONLY|unix.O_DIRECTORY)
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

// hostKeys compares each SSH host key (/etc/ssh/ssh_host_*_key and .pub)
// that lies on the ephemeral root now (a lost item) with the previous
// root's copy: different bytes mean the key is regenerated at every boot.
// A key on persistent storage now is not compared: it survives the next
// boot, and the previous root holds only the mount point there.
func (h *hist) hostKeys() {
	fd, err := openAt(h.live, "etc/ssh", unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return
	}
	f := os.NewFile(uintptr(fd), "/etc/ssh")
	names, _ := f.Readdirnames(-1)
	f.Close()
	slices.Sort(names)
	for _, n := range names {
		if ok, _ := path.Match("ssh_host_*_key", n); !ok {
			if ok, _ := path.Match("ssh_host_*_key.pub", n); !ok {
				continue
			}
		}
		p := "/etc/ssh/" + n
		it := h.lostItem(p)
		if it == nil || it.Mode&unix.S_IFMT != unix.S_IFREG {
			continue
		}
		same, err := sameBytes(h.live, h.prev, "etc/ssh/"+n)
		if err != nil {
			if !errors.Is(err, errNoOldKey) {
				h.c.warn(WarnHistory, p, fmt.Sprintf("cannot compare SSH host key %s with %s: %v", p, h.label, err))
			}
			continue
		}
		if same {
			continue
		}
		msg := fmt.Sprintf("SSH host key %s changed between %s and now: it is being regenerated at every boot; clients will warn and secrets encrypted to it (sops-nix, agenix) break; the key there now is on the ephemeral root too (%s): lost at the next boot",
			p, h.label, it.Category)
		h.a.Alerts = append(h.a.Alerts, Alert{Kind: HostKeyChanged, Path: p, Message: msg, Previous: h.name, Lost: it.Category})
	}
}

// lostItem returns the lost item at p, or nil.
func (h *hist) lostItem(p string) *Item {
	i, ok := slices.BinarySearchFunc(h.a.Lost, p, func(it *Item, p string) int { return pathx.Compare(it.Path, p) })
	if !ok || !h.a.Lost[i].Category.Lost() {
		return nil
	}
	return h.a.Lost[i]
}

var errNoOldKey = errors.New("no key in the previous root")

// sameBytes compares the regular file rel in both roots (never through a
// symlink) with the hasher drift diff uses. The previous root's copy
// missing, not a regular file, or empty (a mount point left for a bind
// mount) is errNoOldKey.
func sameBytes(liveFD, prevFD int, rel string) (bool, error) {
	var ost, lst unix.Stat_t
	if err := statBeneath(prevFD, rel, &ost); err != nil {
		if absent(err) {
			return false, errNoOldKey
		}
		return false, err
	}
	if ost.Mode&unix.S_IFMT != unix.S_IFREG || ost.Size == 0 {
		return false, errNoOldKey
	}
	if err := statBeneath(liveFD, rel, &lst); err != nil {
		return false, err
	}
	if lst.Mode&unix.S_IFMT != unix.S_IFREG {
		return false, fmt.Errorf("not a regular file")
	}
	if lst.Size != ost.Size {
		return false, nil
	}
	a, b := entryOf("/"+rel, &ost, ""), entryOf("/"+rel, &lst, "")
	return newHasher(nil).sameFiles(prevFD, &a, liveFD, &b)
}
