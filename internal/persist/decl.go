package persist

import (
	"github.com/nix-drift/drift/internal/persist/nix"
	"slices"
	"strconv"
	"strings"
)

// scope says how entries of one storage path are turned into live paths.
type scope struct {
	module string
	where  string
	psp    string // clean, absolute
	owner  string // users.<name>, or "" for system-wide entries
	home   string // clean, absolute; "" for system-wide entries
	// defaults for user, group, directory mode, file mode
	user, group, dirMode, fileMode string
	// hmV1 is home-manager's v1 form: storage path includes the home, files
	// are symlinks, directories bindfs unless method = "symlink".
	hmV1         bool
	hmStorage    string // the v1 storage path as written (includes the home)
	hmDirMethod  string
	removePrefix bool
	// evaluated: preservation JSON whose user entries are already absolute.
	evaluated bool
}

// storagePath reads persistentStoragePath (default: the attribute name)
// and checks it is absolute.
func (r *reader) storagePath(name string, nameOff int, pv *nix.Value, where string) (string, bool) {
	psp, off := name, nameOff
	if s, o, ok := r.str(pv, "persistentStoragePath", where); ok {
		psp, off = s, o
	} else if r.attr(pv, "persistentStoragePath", "") != nil {
		return "", false // reported by str
	}
	if !strings.HasPrefix(psp, "/") {
		r.diag(off, Error, "use an absolute path such as \"/nix/persist\"",
			"%s: persistent storage path %q is not absolute (the module rejects it)", where, psp)
		return "", false
	}
	clean, dotdot := cleanPath(psp)
	if dotdot {
		r.diag(off, Error, "", "%s: persistent storage path %q contains '..'", where, psp)
	}
	return clean, true
}

// systemStorage reads the storage path and options of one persistent
// storage path of a system module (impermanence's
// environment.persistence.<name>, preservation's preserveAt.<name>), records
// it in r.set.Storage, and returns the scope its entries inherit: owned by
// root, directories 0755, files fileMode (the module's default). ok is false
// when the storage path is unusable (reported).
func (r *reader) systemStorage(module, fileMode, name string, nameOff int, pv *nix.Value, where string) (root *scope, ok bool) {
	psp, ok := r.storagePath(name, nameOff, pv, where)
	if !ok {
		return nil, false
	}
	r.options(pv, where, module, "", false)
	r.set.Storage = append(r.set.Storage, StoragePath{Path: psp, Pos: r.pos(nameOff), Module: module})
	return &scope{module: module, where: where, psp: psp,
		user: "root", group: "root", dirMode: "0755", fileMode: fileMode}, true
}

// impermanenceMap reads environment.persistence (or a map of the same shape).
func (r *reader) impermanenceMap(v *nix.Value, where string) {
	if !r.isSet(v, where) {
		return
	}
	for _, name := range v.Attrs.Keys {
		w := sub(where, name)
		pv := r.attr(v, name, w)
		r.impermanencePath(name, r.attrOff(v, name), pv, w)
	}
	for _, u := range v.Attrs.Unknown {
		if u.DynBody != nil { // reported by isSet; its body is still read
			r.impermanencePath(u.DynName, u.Off, r.force(u.DynBody), sub(where, u.DynName))
		}
	}
}

// impermanencePath reads one environment.persistence.<name>.
func (r *reader) impermanencePath(name string, nameOff int, pv *nix.Value, where string) {
	if !r.isSet(pv, where) || !r.enabled(pv, where) {
		return
	}
	root, ok := r.systemStorage("impermanence", "0755", name, nameOff, pv, where)
	if !ok {
		return
	}
	// users.<name> first: classic output repeats their entries in the
	// top-level lists, which then are skipped (spec §2.1).
	var users []pending
	uw := where + ".users"
	if uv := r.attr(pv, "users", uw); r.isSet(uv, uw) {
		for _, u := range uv.Attrs.Keys {
			w := sub(uw, u)
			up := r.attr(uv, u, w)
			if !r.isSet(up, w) {
				continue
			}
			sc := *root
			sc.where, sc.owner = w, u
			r.options(up, w, "impermanence", u, false)
			home, guessed := r.home(u, up, w)
			sc.home, sc.group = home, r.userGroup(u)
			sc.user = u
			r.guess(&sc, u, guessed)
			r.entries(&sc, up, func(p pending) { users = append(users, p) })
		}
	}
	// Only JSON (nix eval output, r.ev nil) repeats them: in a .nix file an
	// entry written both ways is a duplicate impermanence's assertion
	// rejects, and r.add reports it.
	inUsers := make(map[entryKey]bool, len(users))
	for _, p := range users {
		if r.ev == nil {
			inUsers[keyOf(p.e)] = true
		}
	}
	r.entries(root, pv, func(p pending) {
		if !inUsers[keyOf(p.e)] {
			r.add(p.e, p.Off)
		}
	})
	for _, p := range users {
		r.add(p.e, p.Off)
	}
}

type pending struct {
	e   Entry
	Off int
}

// home is the home directory of users.<u>: --home, then a literal
// users.<u>.home (classic impermanence, preservation), then
// users.users.<u>.home set in the same file, then /root or /home/<u>;
// the last two are the file's guess (r.guess) until SettleHomes reads
// users.users.<u> in the whole configuration.
func (r *reader) home(u string, up *nix.Value, where string) (h string, guessed bool) {
	h, guessed = r.homeOf(u), r.homeGuessed(u)
	if _, ok := r.opts.Homes[u]; !ok {
		if s, off, ok := r.str(up, "home", where); ok {
			if !strings.HasPrefix(s, "/") {
				r.diag(off, Error, "", "%s.home: %q is not absolute", where, s)
			} else {
				h, guessed = s, false
			}
		}
	}
	h, _ = cleanPath(h)
	return h, guessed
}

// homeGuessed says whether homeOf(u) is the default, not a fact: no --home
// for u and no users.users.<u>.home in the file read.
func (r *reader) homeGuessed(u string) bool {
	_, named := r.opts.Homes[u]
	return !named && r.users[u].home == ""
}

func (r *reader) homeOf(u string) string {
	if h, ok := r.opts.Homes[u]; ok {
		return h
	}
	if ui, ok := r.users[u]; ok && ui.home != "" {
		return ui.home
	}
	return DefaultHome(u)
}

// DefaultHome is NixOS's home for the user u when users.users.<u>.home is
// not set: /root for root, else /home/u.
func DefaultHome(u string) string {
	if u == "root" {
		return "/root"
	}
	return "/home/" + u
}

func (r *reader) userGroup(u string) string {
	if ui, ok := r.users[u]; ok && ui.group != "" {
		return ui.group
	}
	if u == "root" {
		return "root"
	}
	return "users"
}

// entries reads the directories and files of one storage path or user and
// passes each entry to emit as it is read (a million of them are never
// held twice).
func (r *reader) entries(sc *scope, pv *nix.Value, emit func(pending)) {
	for _, kind := range []Kind{Dir, File} {
		key := "directories"
		if kind == File {
			key = "files"
		}
		w := sc.where + "." + key
		list := r.attr(pv, key, w)
		if list != nil && list.Kind == nix.KindList {
			// Room for the list at once: a million entries are not
			// copied again and again as the slice doubles.
			r.set.Entries = slices.Grow(r.set.Entries, nix.ListLen(list))
			es := r.set.Entries
			r.seen.Grow(nix.ListLen(list), func(i int) uint64 { return entryHash(&es[i]) })
		}
		r.each(list, w, func(it *nix.Value, iw itemAt) {
			if p, ok := r.entry(sc, kind, it, iw); ok {
				emit(p)
			}
		})
		if c, n := cap(r.set.Entries), len(r.set.Entries); c-n > 3*n+1024 {
			// A list of duplicates: the room made for it goes. Not for
			// a list of paths declared twice: the copy would be held
			// with the room until the next collection (half a million
			// paths declared twice: 42 MB more at the peak than kept).
			r.set.Entries = append([]Entry(nil), r.set.Entries...)
		}
	}
}

// intern returns the shared copy of o.
func (r *reader) intern(o *Origin) *Origin {
	if p, ok := r.origins[*o]; ok {
		return p
	}
	p := new(Origin)
	*p = *o
	r.origins[*p] = p
	return p
}

// entry reads one directories/files item: a string or an attribute set,
// raw (as written) or as normalised by nix eval (dirPath/filePath). The
// entry's Origin is interned.
func (r *reader) entry(sc *scope, kind Kind, it *nix.Value, w itemAt) (pending, bool) {
	p, ok := r.readEntry(sc, kind, it, w)
	if ok {
		p.e.Origin = r.intern(p.e.Origin)
	}
	return p, ok
}

// readEntry is entry with the Origin still r.scratch.
func (r *reader) readEntry(sc *scope, kind Kind, it *nix.Value, w itemAt) (pending, bool) {
	r.scratch = Origin{Owner: sc.owner, Module: sc.module, User: sc.user, Group: sc.group, Mode: sc.dirMode}
	e := Entry{Kind: kind, StoragePath: sc.psp, Origin: &r.scratch}
	if kind == File {
		e.Mode = sc.fileMode
	}
	keyName := "directory"
	if kind == File {
		keyName = "file"
	}
	var raw string
	off := it.Off
	switch it.Kind {
	case nix.KindString:
		raw = it.Str
	case nix.KindAttrs:
		where := w.String()
		if !r.isSet(it, where) {
			return pending{}, false
		}
		e.SetAttrs(r.attrsOf(it, ""))
		switch o, state := r.evaluatedEntry(&e, it, where); state {
		case evalOK:
			return pending{e, o}, true
		case evalBad:
			return pending{}, false
		}
		s, o, ok := r.str(it, keyName, where)
		if !ok {
			if x := r.attr(it, keyName, ""); x != nil && x.Kind == nix.KindNull {
				r.diag(x.Off, Error, "", "%s.%s: expected a path string, found null (the module rejects it)", where, keyName)
			} else if x == nil {
				other := "file"
				if kind == File {
					other = "directory"
				}
				if r.attr(it, other, "") != nil {
					r.diag(it.Off, Error, "", "%s: a `%s` attribute in %s (expected `%s`)", where, other, map[Kind]string{Dir: "directories", File: "files"}[kind], keyName)
				} else {
					r.diagCode("missing-key", it.Off, Error, "", "%s: expected a `%s` attribute", where, keyName)
					e.Pos, e.Home, e.Evaluated = r.pos(it.Off), sc.home, sc.evaluated
					e.Origin = r.intern(e.Origin)
					r.set.Malformed = append(r.set.Malformed, e)
				}
			}
			return pending{}, false
		}
		raw, off = s, o
		if s, _, ok := r.str(it, "persistentStoragePath", where); ok {
			if c, _ := cleanPath(s); strings.HasPrefix(s, "/") {
				e.StoragePath = c
			}
		}
		perms := it
		if kind == File && sc.module != "preservation" {
			perms = r.attr(it, "parentDirectory", where+".parentDirectory")
		}
		if perms != nil && (perms == it || r.isSet(perms, where+".parentDirectory")) {
			pw := where
			if perms != it {
				pw += ".parentDirectory"
			}
			if s, _, ok := r.str(perms, "user", pw); ok {
				e.User = s
			}
			if s, _, ok := r.str(perms, "group", pw); ok {
				e.Group = s
			}
			if s, _, ok := r.str(perms, "mode", pw); ok {
				e.Mode = s
			}
		}
		if !r.method(sc, &e, it, where) {
			return pending{}, false
		}
	default:
		r.diag(it.Off, Error, "", "%s: expected a string or an attribute set, found %s", w, it.Kind)
		return pending{}, false
	}
	if sc.hmV1 {
		if kind == File {
			e.Method = "symlink"
		} else if e.Method == "" {
			e.Method = sc.hmDirMethod
		}
	}
	e.Home = sc.home
	e.Evaluated = sc.evaluated
	return r.place(sc, e, raw, off, w)
}

// method reads how an entry is linked: impermanence file `method`,
// home-manager v1 directory `method`, preservation `how`. ok is false for
// an entry that is not persisted at all (preservation's _intermediate).
func (r *reader) method(sc *scope, e *Entry, it *nix.Value, where string) bool {
	key := "method"
	if sc.module == "preservation" {
		key = "how"
	}
	m, off, ok := r.str(it, key, where)
	if !ok {
		return true
	}
	switch {
	case sc.module == "preservation":
		switch m {
		case "_intermediate":
			return false // created, not persisted
		case "symlink":
			e.Method = "symlink"
		case "bindmount":
		default:
			r.diag(off, Error, "", "%s.how: %q is not one of bindmount, symlink", where, m)
		}
	case sc.hmV1 && e.Kind == Dir:
		switch m {
		case "symlink", "bindfs":
			e.Method = m
		default:
			r.diag(off, Error, "", "%s.method: %q is not one of bindfs, symlink", where, m)
		}
	case e.Kind == Dir:
		r.diagCode("removed-option", off, Warning, "remove it", "%s.method: impermanence removed the directory `method` option (it has no effect; the evaluation fails with an assertion)", where)
	default:
		switch m {
		case "symlink":
			e.Method = "symlink"
		case "auto":
		default:
			r.diag(off, Error, "", "%s.method: %q is not one of auto, symlink", where, m)
		}
	}
	return true
}

const (
	evalRaw = iota // not a normalised entry
	evalOK
	evalBad // normalised but unusable (reported)
)

// evaluatedEntry fills e from an entry normalised by nix eval (impermanence
// dirPath/filePath), returning the offset of the path.
func (r *reader) evaluatedEntry(e *Entry, it *nix.Value, where string) (int, int) {
	key := "dirPath"
	if e.Kind == File {
		key = "filePath"
	}
	p, off, ok := r.str(it, key, where)
	if !ok {
		return 0, evalRaw
	}
	e.Evaluated = true
	raw := "directory"
	if e.Kind == File {
		raw = "file"
	}
	rawValue := ""
	if s, _, ok := r.str(it, raw, where); ok {
		rawValue = s
	}
	if s, _, ok := r.str(it, "home", where); ok {
		e.Home = s
	}
	if s, _, ok := r.str(it, "persistentStoragePath", where); ok && strings.HasPrefix(s, "/") {
		e.StoragePath, _ = cleanPath(s)
	}
	perms := it
	if e.Kind == File {
		perms = r.attr(it, "parentDirectory", where)
	}
	if perms != nil && perms.Kind == nix.KindAttrs {
		e.User, e.Group, e.Mode = "", "", ""
		if s, _, ok := r.str(perms, "user", where); ok {
			e.User = s
		}
		if s, _, ok := r.str(perms, "group", where); ok {
			e.Group = s
		}
		if s, _, ok := r.str(perms, "mode", where); ok {
			e.Mode = s
		}
	}
	if e.Kind == File {
		if m, _, ok := r.str(it, "method", where); ok && m == "symlink" {
			e.Method = "symlink"
		}
	}
	if !strings.HasPrefix(p, "/") {
		r.diag(off, Error, "", "%s.%s: %q is not absolute", where, key, shortQuote(p))
		return off, evalBad
	}
	if r.tooLong(p, off, where+"."+key) {
		return off, evalBad
	}
	clean, dotdot := cleanPath(p)
	if dotdot {
		r.diagCode("path-dot", off, Error, "write the path without '..'", "%s: %q contains '..', which the module keeps and systemd refuses", where, p)
	}
	e.Path = clean
	e.SetRaw(rawValue)
	return off, evalOK
}

// place computes the live path of a raw entry and checks it.
func (r *reader) place(sc *scope, e Entry, raw string, off int, where itemAt) (pending, bool) {
	if len(raw) > maxPath {
		r.tooLong(raw, off, where.String())
		return pending{}, false
	}
	var live, src string
	switch {
	case sc.home == "":
		if !strings.HasPrefix(raw, "/") {
			r.diagCode("path-not-absolute", off, Warning, "write it as an absolute path", "%s: relative path %q is made absolute (/%s) as current impermanence does; classic impermanence rejects it", where, raw, raw)
		}
		live = raw
		if !isClean(raw) {
			live = concatPaths("/", raw)
		}
	case sc.evaluated && strings.HasPrefix(raw, "/"):
		live = raw
	default:
		if strings.HasPrefix(raw, "/") {
			r.diagCode("user-path-absolute", off, Warning, "drop the leading '/'", "%s: leading '/' in %q is ignored: user entries are relative to the home %s", where, raw, sc.home)
		}
		rel := concatPaths(raw)
		src = concatPaths(sc.hmStorage, rel)
		if sc.removePrefix {
			if i := strings.IndexByte(rel, '/'); i >= 0 {
				rel = rel[i+1:]
			} else {
				rel = ""
			}
		}
		live = concatPaths(sc.home, rel)
	}
	clean, dotdot := live, false
	if !isClean(live) {
		clean, dotdot = cleanPath(live)
	}
	if dotdot {
		r.diagCode("path-dot", off, Error, "write the path without '..'", "%s: %q contains '..', which the module keeps and systemd refuses", where, raw)
	}
	if clean == "/" {
		r.diagCode("path-root", off, Warning, "persist specific directories instead", "%s: %q persists the whole root", where, raw)
	}
	e.Path = clean
	e.SetRaw(raw)
	if sc.hmV1 {
		if s, _ := cleanPath(src); s != e.Source() {
			e.SetSourcePath(s)
		}
	}
	return pending{e, off}, true
}

// maxPath is the longest path an entry may have, in bytes: Linux's
// PATH_MAX (4096, the terminating NUL included). No live path is longer.
const maxPath = 4095

// tooLong reports (as an error diagnostic at off) whether p is longer than
// maxPath; such an entry is dropped, which keeps every later step linear in
// sane sizes.
func (r *reader) tooLong(p string, off int, where string) bool {
	if len(p) <= maxPath {
		return false
	}
	r.diag(off, Error, "", "%s: a path of %d bytes (%s): longer than any path Linux can open (PATH_MAX 4096); left out", where, len(p), shortQuote(p))
	return true
}

// shortQuote quotes s for a message, cut to its first 60 bytes.
func shortQuote(s string) string {
	if len(s) > 60 {
		return strconv.Quote(strings.ToValidUTF8(s[:60], "")) + "…"
	}
	return strconv.Quote(s)
}
