package persist

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/nix-drift/drift/internal/hashindex"
)

// flakeHint is the hint of every "could not read statically" diagnostic.
const flakeHint = "evaluate the real configuration with --flake REF#HOST"

// reader turns values (decoded JSON or statically evaluated Nix) into
// entries, applying the modules' defaults and path rules.
type reader struct {
	src      *source
	opts     Options
	ev       *evaluator // nil for JSON: every lazy is already known
	set      *Set
	seen     hashindex.Index // the first entry of each key (entryKey) in set.Entries
	condSeen map[int]bool
	diagSeen hashindex.Index // the diagnostics in set.Diagnostics
	// dupMessage holds the message of the duplicates of an entry, by the
	// entry's index in set.Entries.
	dupMessage map[int]string
	// users holds users.users.<name>.{home,group} when a .nix file sets them
	// to literal strings.
	users map[string]userInfo
	// origins interns the Origin of every entry read: one per distinct
	// owner, mode, module and home, shared by all entries that have it.
	origins map[Origin]*Origin
	// scratch is the Origin of the entry being read, until it is interned.
	scratch Origin
	// lit is the string literal item each passes on (reader.item).
	lit value
}

type userInfo struct{ home, group string }

func newReader(src *source, opts Options, ev *evaluator) *reader {
	return &reader{src: src, opts: opts, ev: ev, set: &Set{},
		condSeen: make(map[int]bool), dupMessage: make(map[int]string), users: make(map[string]userInfo),
		origins: make(map[Origin]*Origin)}
}

func (r *reader) pos(off int) Pos { return r.src.pos(off) }

func (r *reader) diag(off int, sev Severity, hint, format string, a ...any) {
	r.diagCode("", off, sev, hint, format, a...)
}

// diagCode is diag with a Diagnostic.Code.
func (r *reader) diagCode(code string, off int, sev Severity, hint, format string, a ...any) {
	r.addDiag(Diagnostic{Pos: r.pos(off), Severity: sev, Message: fmt.Sprintf(format, a...), Hint: hint, Code: code})
}

// addDiag records d unless an equal diagnostic is recorded already.
func (r *reader) addDiag(d Diagnostic) {
	h := diagHash(&d)
	ds := r.set.Diagnostics
	if r.diagSeen.Find(h, func(i int) bool { return ds[i] == d }) >= 0 {
		return
	}
	r.set.Diagnostics = appendDoubling(r.set.Diagnostics, d)
	ds = r.set.Diagnostics
	r.diagSeen.Add(h, len(ds)-1, func(i int) uint64 { return diagHash(&ds[i]) })
}

func diagHash(d *Diagnostic) uint64 {
	h := hashindex.Mix(hashindex.HashString(d.Message), hashindex.HashString(d.Pos.File))
	return hashindex.Mix(h, uint64(d.Pos.Line)<<32|uint64(uint32(d.Pos.Col)))
}

// appendDoubling is append that doubles a full slice's capacity: a
// million appends allocate about twice the final slice, not the five
// times of append, which grows a large slice by a quarter.
func appendDoubling[T any](s []T, v T) []T {
	if len(s) == cap(s) {
		// Not slices.Grow: asked for twice, it makes up to 2.5 times.
		n := make([]T, len(s), max(8, 2*len(s)))
		copy(n, s)
		s = n
	}
	return append(s, v)
}

// notRead reports a value that could not be read statically.
func (r *reader) notRead(v *value, where string) {
	what := "cannot read %s statically"
	if v.splice {
		what = "cannot read %s statically; the entries it adds are missing"
	}
	r.diagCode("not-static", v.off, Warning, flakeHint, "%s: "+what, where, v.why)
}

func (r *reader) force(l *lazy) *value {
	if l.v != nil || r.ev == nil {
		if l.v == nil {
			return unknownAt(-1, "a value")
		}
		return l.v
	}
	return r.ev.force(l)
}

// attr returns the value of v.name, or nil when v is not a set or lacks it.
// Conditions on the way are reported once each.
func (r *reader) attr(v *value, name, where string) *value {
	if v == nil || v.kind != vAttrs {
		return nil
	}
	at := v.attrs.get(name)
	if at == nil {
		return nil
	}
	var out *value
	if r.ev == nil {
		out = at.defs[0].v
	} else {
		out = r.ev.attrValue(at)
	}
	r.conds(out, where)
	return out
}

func (r *reader) attrOff(v *value, name string) int {
	if at := v.attrs.get(name); at != nil {
		return at.off
	}
	return v.off
}

func (r *reader) conds(v *value, where string) {
	for _, off := range v.conds {
		if !r.condSeen[off] {
			r.condSeen[off] = true
			r.diagCode("conditional", off, Info, "", "%s is conditional (lib.mkIf or lib.optionals): read as if the condition holds", where)
		}
	}
}

// str returns the string at v.name: ok is false when absent (or null);
// a value of another type is reported.
func (r *reader) str(v *value, name, where string) (s string, off int, ok bool) {
	x := r.attr(v, name, where+"."+name)
	if x == nil || x.kind == vNull {
		return "", 0, false
	}
	switch x.kind {
	case vString:
		return x.str, x.off, true
	case vUnknown:
		r.notRead(x, where+"."+name)
	default:
		r.diag(x.off, Error, "", "%s.%s: expected a string, found %s", where, name, x.kind)
	}
	return "", x.off, false
}

// enabled reads an `enable` flag: only a literal false disables.
func (r *reader) enabled(v *value, where string) bool {
	x := r.attr(v, "enable", where+".enable")
	if x == nil {
		return true
	}
	switch x.kind {
	case vBool:
		if !x.b {
			r.diagCode("disabled", x.off, Info, "", "%s.enable = false: its entries are not persisted and are skipped", where)
		}
		return x.b
	case vUnknown:
		r.diagCode("not-static", x.off, Warning, flakeHint, "%s.enable: cannot read %s statically; assuming true", where, x.why)
	}
	return true
}

// each calls fn for every known item of a list value, reporting unknown
// parts and a value that is not a list. it is valid until fn returns: a
// string literal of v.at is read into r.lit, the next one over it.
func (r *reader) each(v *value, where string, fn func(it *value, w itemAt)) {
	if v == nil {
		return
	}
	switch v.kind {
	case vNull:
		return
	case vUnknown:
		r.notRead(v, where)
		return
	case vList:
	default:
		r.diag(v.off, Error, "", "%s: expected a list, found %s", where, v.kind)
		return
	}
	for i := range listLen(v) {
		it := r.item(v, i)
		if it.kind == vUnknown {
			r.notRead(it, where)
			continue
		}
		w := itemAt{where, i}
		if len(it.conds) > 0 {
			r.conds(it, w.String())
		}
		fn(it, w)
	}
}

// item is the i-th item of the vList v, forced. A string literal of v.at
// costs the evaluator the step evaluating it would, and is read into
// r.lit (no value is made for it).
func (r *reader) item(v *value, i int) *value {
	if v.at == nil {
		return r.force(v.items[i])
	}
	a := v.at[i]
	if a < 0 {
		return r.force(v.items[-1-a])
	}
	if r.ev != nil {
		if u := r.ev.budget(int(a)); u != nil {
			return u
		}
	}
	r.lit = value{kind: vString, off: int(a), str: r.src.literal(a)}
	return &r.lit
}

// itemAt names a list item in diagnostics (where[i]); it is formatted only
// when a diagnostic is made.
type itemAt struct {
	where string
	i     int
}

func (w itemAt) String() string { return w.where + "[" + strconv.Itoa(w.i) + "]" }

// set checks that v is an attribute set, reporting it otherwise.
func (r *reader) isSet(v *value, where string) bool {
	switch {
	case v == nil:
		return false
	case v.kind == vAttrs:
		for _, u := range v.attrs.unknown {
			if u.why == "" {
				u = unknownAt(u.off, u.kind.String())
			}
			r.notRead(u, where)
		}
		return true
	case v.kind == vUnknown:
		r.notRead(v, where)
	case v.kind != vNull:
		r.diag(v.off, Error, "", "%s: expected an attribute set, found %s", where, v.kind)
	}
	return false
}

func sub(where, name string) string {
	if where == "" {
		return attrName(name)
	}
	return where + "." + attrName(name)
}

// addPending is add of an entry read by entries.
func (r *reader) addPending(p pending) { r.add(p.e, p.off) }

// add records an entry. A second entry with the same kind, storage path and
// path is reported and dropped (impermanence asserts against duplicates).
func (r *reader) add(e Entry, off int) {
	r.src.tick()
	e.Pos = r.pos(off)
	if r.src.name == "" || off < 0 {
		e.Pos = Pos{File: r.src.name}
	}
	h := entryHash(&e)
	es := r.set.Entries
	if i := r.seen.Find(h, func(i int) bool { return keyOf(es[i]) == keyOf(e) }); i >= 0 {
		r.set.Duplicates = appendDoubling(r.set.Duplicates, e)
		// Every duplicate of one entry says the same: one message.
		msg, ok := r.dupMessage[i]
		if !ok {
			msg = fmt.Sprintf("%s %s is declared twice (first at %s)", e.Kind, e.Path, r.set.Entries[i].Pos)
			r.dupMessage[i] = msg
		}
		r.addDiag(Diagnostic{Pos: r.pos(off), Severity: Warning, Message: msg, Hint: "remove one of them", Code: "duplicate"})
		return
	}
	r.set.Entries = append(r.set.Entries, e)
	es = r.set.Entries
	r.seen.Add(h, len(es)-1, func(i int) uint64 { return entryHash(&es[i]) })
}

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
func (r *reader) storagePath(name string, nameOff int, pv *value, where string) (string, bool) {
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
func (r *reader) systemStorage(module, fileMode, name string, nameOff int, pv *value, where string) (root *scope, ok bool) {
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
func (r *reader) impermanenceMap(v *value, where string) {
	if !r.isSet(v, where) {
		return
	}
	for _, name := range v.attrs.keys {
		w := sub(where, name)
		pv := r.attr(v, name, w)
		r.impermanencePath(name, r.attrOff(v, name), pv, w)
	}
	for _, u := range v.attrs.unknown {
		if u.dynBody != nil { // reported by isSet; its body is still read
			r.impermanencePath(u.dynName, u.off, r.force(u.dynBody), sub(where, u.dynName))
		}
	}
}

// impermanencePath reads one environment.persistence.<name>.
func (r *reader) impermanencePath(name string, nameOff int, pv *value, where string) {
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
		for _, u := range uv.attrs.keys {
			w := sub(uw, u)
			up := r.attr(uv, u, w)
			if !r.isSet(up, w) {
				continue
			}
			sc := *root
			sc.where, sc.owner = w, u
			r.options(up, w, "impermanence", u, false)
			sc.home, sc.group = r.home(u, up, w), r.userGroup(u)
			sc.user = u
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
			r.add(p.e, p.off)
		}
	})
	for _, p := range users {
		r.add(p.e, p.off)
	}
}

type pending struct {
	e   Entry
	off int
}

// home is the home directory of users.<u>: --home, then a literal
// users.<u>.home (classic impermanence, preservation), then
// users.users.<u>.home set in the same file, then /root or /home/<u>.
func (r *reader) home(u string, up *value, where string) string {
	h := r.homeOf(u)
	if _, ok := r.opts.Homes[u]; !ok {
		if s, off, ok := r.str(up, "home", where); ok {
			if !strings.HasPrefix(s, "/") {
				r.diag(off, Error, "", "%s.home: %q is not absolute", where, s)
			} else {
				h = s
			}
		}
	}
	h, _ = cleanPath(h)
	return h
}

func (r *reader) homeOf(u string) string {
	if h, ok := r.opts.Homes[u]; ok {
		return h
	}
	if ui, ok := r.users[u]; ok && ui.home != "" {
		return ui.home
	}
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
func (r *reader) entries(sc *scope, pv *value, emit func(pending)) {
	for _, kind := range []Kind{Dir, File} {
		key := "directories"
		if kind == File {
			key = "files"
		}
		w := sc.where + "." + key
		list := r.attr(pv, key, w)
		if list != nil && list.kind == vList {
			// Room for the list at once: a million entries are not
			// copied again and again as the slice doubles.
			r.set.Entries = slices.Grow(r.set.Entries, listLen(list))
			es := r.set.Entries
			r.seen.Grow(listLen(list), func(i int) uint64 { return entryHash(&es[i]) })
		}
		r.each(list, w, func(it *value, iw itemAt) {
			if p, ok := r.entry(sc, kind, it, iw); ok {
				emit(p)
			}
		})
		if c, n := cap(r.set.Entries), len(r.set.Entries); c-n > n/2+1024 {
			// A list of duplicates: the room made for it goes.
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
func (r *reader) entry(sc *scope, kind Kind, it *value, w itemAt) (pending, bool) {
	p, ok := r.readEntry(sc, kind, it, w)
	if ok {
		p.e.Origin = r.intern(p.e.Origin)
	}
	return p, ok
}

// readEntry is entry with the Origin still r.scratch.
func (r *reader) readEntry(sc *scope, kind Kind, it *value, w itemAt) (pending, bool) {
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
	off := it.off
	switch it.kind {
	case vString:
		raw = it.str
	case vAttrs:
		where := w.String()
		if !r.isSet(it, where) {
			return pending{}, false
		}
		e.Attrs = r.attrsOf(it, "")
		switch o, state := r.evaluatedEntry(&e, it, where); state {
		case evalOK:
			return pending{e, o}, true
		case evalBad:
			return pending{}, false
		}
		s, o, ok := r.str(it, keyName, where)
		if !ok {
			if x := r.attr(it, keyName, ""); x != nil && x.kind == vNull {
				r.diag(x.off, Error, "", "%s.%s: expected a path string, found null (the module rejects it)", where, keyName)
			} else if x == nil {
				other := "file"
				if kind == File {
					other = "directory"
				}
				if r.attr(it, other, "") != nil {
					r.diag(it.off, Error, "", "%s: a `%s` attribute in %s (expected `%s`)", where, other, map[Kind]string{Dir: "directories", File: "files"}[kind], keyName)
				} else {
					r.diagCode("missing-key", it.off, Error, "", "%s: expected a `%s` attribute", where, keyName)
					e.Pos, e.Home, e.Evaluated = r.pos(it.off), sc.home, sc.evaluated
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
		r.diag(it.off, Error, "", "%s: expected a string or an attribute set, found %s", w, it.kind)
		return pending{}, false
	}
	if sc.hmV1 {
		if kind == File {
			e.Method = "symlink"
		} else if e.Method == "" {
			e.Method = sc.hmDirMethod
		}
	}
	e.Raw, e.Home = raw, sc.home
	e.Evaluated = sc.evaluated
	return r.place(sc, e, raw, off, w)
}

// method reads how an entry is linked: impermanence file `method`,
// home-manager v1 directory `method`, preservation `how`. ok is false for
// an entry that is not persisted at all (preservation's _intermediate).
func (r *reader) method(sc *scope, e *Entry, it *value, where string) bool {
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
func (r *reader) evaluatedEntry(e *Entry, it *value, where string) (int, int) {
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
	if s, _, ok := r.str(it, raw, where); ok {
		e.Raw = s
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
	if perms != nil && perms.kind == vAttrs {
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
	if sc.hmV1 {
		if s, _ := cleanPath(src); s != e.Source() {
			e.SourcePath = s
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

// preservation reads config.preservation ({enable, preserveAt}).
func (r *reader) preservation(v *value, where string) {
	if !r.isSet(v, where) {
		return
	}
	en := r.attr(v, "enable", where+".enable")
	if en != nil && en.kind == vBool && !en.b {
		r.diag(en.off, Info, "", "%s.enable = false: preservation persists nothing", where)
		return
	}
	w := where + ".preserveAt"
	pa := r.attr(v, "preserveAt", w)
	if !r.isSet(pa, w) {
		return
	}
	for _, name := range pa.attrs.keys {
		pw := sub(w, name)
		r.preservationPath(name, r.attrOff(pa, name), r.attr(pa, name, pw), pw)
	}
}

func (r *reader) preservationPath(name string, nameOff int, pv *value, where string) {
	if !r.isSet(pv, where) {
		return
	}
	root, ok := r.systemStorage("preservation", "0644", name, nameOff, pv, where)
	if !ok {
		return
	}
	r.entries(root, pv, r.addPending)
	uw := where + ".users"
	uv := r.attr(pv, "users", uw)
	if !r.isSet(uv, uw) {
		return
	}
	for _, u := range uv.attrs.keys {
		w := sub(uw, u)
		up := r.attr(uv, u, w)
		if !r.isSet(up, w) {
			continue
		}
		sc := *root
		sc.where, sc.owner = w, u
		r.options(up, w, "preservation", u, false)
		name := u
		if s, _, ok := r.str(up, "username", w); ok {
			name = s
			sc.evaluated = true
		}
		if r.attr(up, "homeMode", "") != nil {
			sc.evaluated = true
		}
		sc.user, sc.group, sc.home = name, r.userGroup(name), r.home(name, up, w)
		r.entries(&sc, up, r.addPending)
	}
}

// hmKeys are options only home-manager's v1 module has.
var hmKeys = []string{"allowOther", "removePrefixDirectory", "defaultDirectoryMethod"}

func hasAny(v *value, keys ...string) bool {
	if v == nil || v.kind != vAttrs {
		return false
	}
	for _, k := range keys {
		if v.attrs.get(k) != nil {
			return true
		}
	}
	return false
}

// homeManagerMap reads home.persistence of one home-manager user. owner and
// home may be "": they are then taken from a storage path ending in
// /home/<user>, or from the only --home given.
func (r *reader) homeManagerMap(v *value, where, owner, home string) {
	if !r.isSet(v, where) {
		return
	}
	for _, name := range v.attrs.keys {
		w := sub(where, name)
		r.homeManagerPath(name, r.attrOff(v, name), r.attr(v, name, w), w, owner, home)
	}
	for _, u := range v.attrs.unknown {
		if u.dynBody != nil { // reported by isSet; its body is still read
			r.homeManagerPath(u.dynName, u.off, r.force(u.dynBody), sub(where, u.dynName), owner, home)
		}
	}
}

func (r *reader) homeManagerPath(name string, nameOff int, pv *value, where, owner, home string) {
	if !r.isSet(pv, where) || !r.enabled(pv, where) {
		return
	}
	psp, ok := r.storagePath(name, nameOff, pv, where)
	if !ok {
		return
	}
	if owner == "" || home == "" {
		if i := strings.LastIndex(psp, "/home/"); i >= 0 && !strings.Contains(psp[i+len("/home/"):], "/") {
			if owner == "" {
				owner = psp[i+len("/home/"):]
			}
		}
		if owner == "" && len(r.opts.Homes) == 1 {
			for u := range r.opts.Homes {
				owner = u
			}
		}
		if owner == "" {
			r.diag(nameOff, Error, "pass --home NAME=PATH", "%s: cannot tell whose home this home-manager storage path belongs to", where)
			return
		}
		if home == "" {
			home = r.homeOf(owner)
		}
	}
	home, _ = cleanPath(home)
	sc := &scope{module: "home-manager", where: where, psp: psp, owner: owner, home: home,
		user: owner, group: "", dirMode: "0755", fileMode: "0755"}
	if ui, ok := r.users[owner]; ok {
		sc.group = ui.group
	}
	_, endsInHome := trimPathSuffix(psp, home)
	if hasAny(pv, hmKeys...) || endsInHome {
		sc.hmV1 = true
		sc.hmDirMethod = "bindfs"
		if s, _, ok := r.str(pv, "defaultDirectoryMethod", where); ok && s == "symlink" {
			sc.hmDirMethod = "symlink"
		}
		if b := r.attr(pv, "removePrefixDirectory", where); b != nil && b.kind == vBool {
			sc.removePrefix = b.b
		}
		sc.hmStorage = psp
		if st, ok := trimPathSuffix(psp, home); ok {
			sc.psp = st
		}
	}
	r.options(pv, where, "home-manager", owner, sc.hmV1)
	r.set.Storage = append(r.set.Storage, StoragePath{Path: sc.psp, Pos: r.pos(nameOff), Module: "home-manager", Owner: owner, HMv1: sc.hmV1})
	r.entries(sc, pv, r.addPending)
}

// jsonKind names a JSON value's type for messages.
func jsonKind(v *value) string {
	switch v.kind {
	case vAttrs:
		return "object"
	case vList:
		return "array"
	case vString:
		return "string"
	case vNumber:
		return "number"
	case vBool:
		return "boolean"
	case vNull:
		return "null"
	}
	return "value"
}

// attrsOf lists the attributes of an entry (or option set) v as written,
// prefixing nested names; parentDirectory and parent are followed one
// level. In nix eval output, a failed removed-option assertion becomes an
// Attr with Removed set and the option's name.
func (r *reader) attrsOf(v *value, prefix string) []Attr {
	if v == nil || v.kind != vAttrs {
		return nil
	}
	var out []Attr
	for _, name := range v.attrs.keys {
		at := v.attrs.m[name]
		a := Attr{Name: prefix + name, Pos: r.pos(at.off)}
		x := r.quiet(v, name)
		if x != nil {
			a.ValuePos = r.pos(x.off)
			if x.kind == vString {
				a.Value, a.IsString = x.str, true
			}
		}
		out = append(out, a)
		switch {
		case prefix == "" && (name == "parentDirectory" || name == "parent") && x != nil && x.kind == vAttrs:
			out = append(out, r.attrsOf(x, name+".")...)
		case name == "assertions" && r.ev == nil && x != nil && x.kind == vList:
			out = append(out, r.removedAssertions(x, prefix)...)
		}
	}
	return out
}

// removedAssertions reads the assertions of mkRemovedOptionModule
// placeholders in nix eval output (current impermanence): an assertion that
// is false names a removed option that is defined ("The option definition
// `allowOther' in … no longer has any effect").
func (r *reader) removedAssertions(l *value, prefix string) []Attr {
	var out []Attr
	for _, it := range r.src.list(l) {
		a := r.force(it)
		ok := r.quiet(a, "assertion")
		msg := r.quiet(a, "message")
		if ok == nil || ok.kind != vBool || ok.b || msg == nil || msg.kind != vString {
			continue
		}
		const lead = "The option definition `"
		i := strings.Index(msg.str, lead)
		if i < 0 {
			continue
		}
		name := msg.str[i+len(lead):]
		if j := strings.IndexByte(name, '\''); j > 0 {
			name = name[:j]
		}
		out = append(out, Attr{Name: prefix + name, Pos: r.pos(a.off), Removed: true})
	}
	return out
}

// options records the attributes of a storage path or users.<name> set.
func (r *reader) options(v *value, where, module, owner string, hmV1 bool) {
	for _, a := range r.attrsOf(v, "") {
		if strings.HasPrefix(a.Name, "parent") && strings.Contains(a.Name, ".") {
			continue
		}
		r.set.Options = append(r.set.Options, Option{Attr: a, Where: where, Module: module, Owner: owner, HMv1: hmV1, Evaluated: r.ev == nil})
	}
}
