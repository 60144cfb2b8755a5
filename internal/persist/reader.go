package persist

import (
	"fmt"
	"github.com/nix-drift/drift/internal/persist/nix"
	"strconv"

	"github.com/nix-drift/drift/internal/hashindex"
)

// flakeHint is the hint of every "could not read statically" diagnostic.
const flakeHint = "evaluate the real configuration with --flake REF#HOST"

// reader turns values (decoded JSON or statically evaluated Nix) into
// entries, applying the modules' defaults and path rules.
type reader struct {
	src      *nix.Source
	opts     Options
	ev       *nix.Evaluator // nil for JSON: every lazy is already known
	set      *Set
	seen     hashindex.Index // the first entry of each key (entryKey) in set.Entries
	condSeen map[int]bool
	diagSeen hashindex.Index // the diagnostics in set.Diagnostics
	dupSeen  hashindex.Index // the records of set.Duplicates, by key
	// users holds users.users.<name>.{home,group} when a .nix file sets them
	// to literal strings.
	users map[string]userInfo
	// origins interns the Origin of every entry read: one per distinct
	// owner, mode, module and home, shared by all entries that have it.
	origins map[Origin]*Origin
	// scratch is the Origin of the entry being read, until it is interned.
	scratch Origin
	// lit is the string literal item each passes on (reader.item).
	lit nix.Value
}

type userInfo struct{ home, group string }

func newReader(src *nix.Source, opts Options, ev *nix.Evaluator) *reader {
	return &reader{src: src, opts: opts, ev: ev, set: &Set{},
		condSeen: make(map[int]bool), users: make(map[string]userInfo),
		origins: make(map[Origin]*Origin)}
}

func (r *reader) pos(off int) Pos { return r.src.Pos(off) }

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
	r.set.Diagnostics = nix.AppendDoubling(r.set.Diagnostics, d)
	ds = r.set.Diagnostics
	r.diagSeen.Add(h, len(ds)-1, func(i int) uint64 { return diagHash(&ds[i]) })
}

func diagHash(d *Diagnostic) uint64 {
	h := hashindex.Mix(hashindex.HashString(d.Message), hashindex.HashString(d.Pos.File))
	return hashindex.Mix(h, uint64(d.Pos.Line)<<32|uint64(uint32(d.Pos.Col)))
}

// notRead reports a value that could not be read statically.
func (r *reader) notRead(v *nix.Value, where string) {
	what := "cannot read %s statically"
	if v.Splice {
		what = "cannot read %s statically; the entries it adds are missing"
	}
	r.diagCode("not-static", v.Off, Warning, flakeHint, "%s: "+what, where, v.Why)
}

func (r *reader) force(l *nix.Lazy) *nix.Value {
	if l.Value != nil || r.ev == nil {
		if l.Value == nil {
			return nix.UnknownAt(-1, "a value")
		}
		return l.Value
	}
	return r.ev.Force(l)
}

// attr returns the value of v.name, or nil when v is not a set or lacks it.
// Conditions on the way are reported once each.
func (r *reader) attr(v *nix.Value, name, where string) *nix.Value {
	if v == nil || v.Kind != nix.KindAttrs {
		return nil
	}
	at := v.Attrs.Get(name)
	if at == nil {
		return nil
	}
	var out *nix.Value
	if r.ev == nil {
		out = at.Defs[0].Value
	} else {
		out = r.ev.AttrValue(at)
	}
	r.conds(out, where)
	return out
}

func (r *reader) attrOff(v *nix.Value, name string) int {
	if at := v.Attrs.Get(name); at != nil {
		return at.Off
	}
	return v.Off
}

func (r *reader) conds(v *nix.Value, where string) {
	for _, off := range v.Conds {
		if !r.condSeen[off] {
			r.condSeen[off] = true
			r.diagCode("conditional", off, Info, "", "%s is conditional (lib.mkIf or lib.optionals): read as if the condition holds", where)
		}
	}
}

// str returns the string at v.name: ok is false when absent (or null);
// a value of another type is reported.
func (r *reader) str(v *nix.Value, name, where string) (s string, off int, ok bool) {
	x := r.attr(v, name, where+"."+name)
	if x == nil || x.Kind == nix.KindNull {
		return "", 0, false
	}
	switch x.Kind {
	case nix.KindString:
		return x.Str, x.Off, true
	case nix.KindUnknown:
		r.notRead(x, where+"."+name)
	default:
		r.diag(x.Off, Error, "", "%s.%s: expected a string, found %s", where, name, x.Kind)
	}
	return "", x.Off, false
}

// enabled reads an `enable` flag: only a literal false disables.
func (r *reader) enabled(v *nix.Value, where string) bool {
	x := r.attr(v, "enable", where+".enable")
	if x == nil {
		return true
	}
	switch x.Kind {
	case nix.KindBool:
		if !x.Bool {
			r.diagCode("disabled", x.Off, Info, "", "%s.enable = false: its entries are not persisted and are skipped", where)
		}
		return x.Bool
	case nix.KindUnknown:
		r.diagCode("not-static", x.Off, Warning, flakeHint, "%s.enable: cannot read %s statically; assuming true", where, x.Why)
	}
	return true
}

// each calls fn for every known item of a list value, reporting unknown
// parts and a value that is not a list. it is valid until fn returns: a
// string literal of v.at is read into r.lit, the next one over it.
func (r *reader) each(v *nix.Value, where string, fn func(it *nix.Value, w itemAt)) {
	if v == nil {
		return
	}
	switch v.Kind {
	case nix.KindNull:
		return
	case nix.KindUnknown:
		r.notRead(v, where)
		return
	case nix.KindList:
	default:
		r.diag(v.Off, Error, "", "%s: expected a list, found %s", where, v.Kind)
		return
	}
	for i := range nix.ListLen(v) {
		it := r.item(v, i)
		if it.Kind == nix.KindUnknown {
			r.notRead(it, where)
			continue
		}
		w := itemAt{where, i}
		if len(it.Conds) > 0 {
			r.conds(it, w.String())
		}
		fn(it, w)
	}
}

// item is the i-th item of the vList v, forced. A string literal of v.at
// costs the evaluator the step evaluating it would, and is read into
// r.lit (no value is made for it).
func (r *reader) item(v *nix.Value, i int) *nix.Value {
	if v.At == nil {
		return r.force(v.Items[i])
	}
	a := v.At[i]
	if a < 0 {
		return r.force(v.Items[-1-a])
	}
	if r.ev != nil {
		if u := r.ev.Budget(int(a)); u != nil {
			return u
		}
	}
	r.lit = nix.Value{Kind: nix.KindString, Off: int(a), Str: r.src.Literal(a)}
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
func (r *reader) isSet(v *nix.Value, where string) bool {
	switch {
	case v == nil:
		return false
	case v.Kind == nix.KindAttrs:
		for _, u := range v.Attrs.Unknown {
			if u.Why == "" {
				u = nix.UnknownAt(u.Off, u.Kind.String())
			}
			r.notRead(u, where)
		}
		return true
	case v.Kind == nix.KindUnknown:
		r.notRead(v, where)
	case v.Kind != nix.KindNull:
		r.diag(v.Off, Error, "", "%s: expected an attribute set, found %s", where, v.Kind)
	}
	return false
}

func sub(where, name string) string {
	if where == "" {
		return nix.AttrName(name)
	}
	return where + "." + nix.AttrName(name)
}

// addPending is add of an entry read by entries.
func (r *reader) addPending(p pending) { r.add(p.e, p.Off) }

// add records an entry. A second entry with the same kind, storage path and
// path is reported and dropped (impermanence asserts against duplicates).
func (r *reader) add(e Entry, off int) {
	r.src.Tick()
	e.Pos = r.pos(off)
	if r.src.Name == "" || off < 0 {
		e.Pos = Pos{File: r.src.Name}
	}
	h := entryHash(&e)
	es := r.set.Entries
	if r.seen.Find(h, func(i int) bool { return keyOf(es[i]) == keyOf(e) }) >= 0 {
		// Counted in the key's one record (finish warns of it).
		ds := r.set.Duplicates
		if k := r.dupSeen.Find(h, func(k int) bool { return ds[k].key() == keyOf(e) }); k >= 0 {
			ds[k].again(e.Pos)
			return
		}
		r.set.Duplicates = nix.AppendDoubling(ds, newDuplicate(&e))
		ds = r.set.Duplicates
		r.dupSeen.Add(h, len(ds)-1, func(k int) uint64 { return ds[k].hash() })
		return
	}
	r.set.Entries = append(r.set.Entries, e)
	es = r.set.Entries
	r.seen.Add(h, len(es)-1, func(i int) uint64 { return entryHash(&es[i]) })
}
