package persist

import (
	"github.com/nix-drift/drift/internal/persist/nix"
	"strings"
)

// preservation reads config.preservation ({enable, preserveAt}).
func (r *reader) preservation(v *nix.Value, where string) {
	if !r.isSet(v, where) {
		return
	}
	en := r.attr(v, "enable", where+".enable")
	if en != nil && en.Kind == nix.KindBool && !en.Bool {
		r.diag(en.Off, Info, "", "%s.enable = false: preservation persists nothing", where)
		return
	}
	w := where + ".preserveAt"
	pa := r.attr(v, "preserveAt", w)
	if !r.isSet(pa, w) {
		return
	}
	for _, name := range pa.Attrs.Keys {
		pw := sub(w, name)
		r.preservationPath(name, r.attrOff(pa, name), r.attr(pa, name, pw), pw)
	}
}

func (r *reader) preservationPath(name string, nameOff int, pv *nix.Value, where string) {
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
	for _, u := range uv.Attrs.Keys {
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
		home, guessed := r.home(name, up, w)
		sc.user, sc.group, sc.home = name, r.userGroup(name), home
		r.guess(&sc, name, guessed)
		r.entries(&sc, up, r.addPending)
	}
}

// hmKeys are options only home-manager's v1 module has.
var hmKeys = []string{"allowOther", "removePrefixDirectory", "defaultDirectoryMethod"}

func hasAny(v *nix.Value, keys ...string) bool {
	if v == nil || v.Kind != nix.KindAttrs {
		return false
	}
	for _, k := range keys {
		if v.Attrs.Get(k) != nil {
			return true
		}
	}
	return false
}

// homeManagerMap reads home.persistence of one home-manager user. owner and
// home may be "": they are then taken from a storage path ending in
// /home/<user>, or from the only --home given.
func (r *reader) homeManagerMap(v *nix.Value, where, owner, home string) {
	if !r.isSet(v, where) {
		return
	}
	for _, name := range v.Attrs.Keys {
		w := sub(where, name)
		r.homeManagerPath(name, r.attrOff(v, name), r.attr(v, name, w), w, owner, home)
	}
	for _, u := range v.Attrs.Unknown {
		if u.DynBody != nil { // reported by isSet; its body is still read
			r.homeManagerPath(u.DynName, u.Off, r.force(u.DynBody), sub(where, u.DynName), owner, home)
		}
	}
}

func (r *reader) homeManagerPath(name string, nameOff int, pv *nix.Value, where, owner, home string) {
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
		if b := r.attr(pv, "removePrefixDirectory", where); b != nil && b.Kind == nix.KindBool {
			sc.removePrefix = b.Bool
		}
		sc.hmStorage = psp
		if st, ok := trimPathSuffix(psp, home); ok {
			sc.psp = st
		}
	}
	r.options(pv, where, "home-manager", owner, sc.hmV1)
	if d, _ := cleanPath(r.homeOf(owner)); d == home {
		r.guess(sc, owner, r.homeGuessed(owner))
	}
	r.set.Storage = append(r.set.Storage, StoragePath{Path: sc.psp, Pos: r.pos(nameOff), Module: "home-manager", Owner: owner, HMv1: sc.hmV1})
	r.entries(sc, pv, r.addPending)
}

// jsonKind names a JSON value's type for messages.
func jsonKind(v *nix.Value) string {
	switch v.Kind {
	case nix.KindAttrs:
		return "object"
	case nix.KindList:
		return "array"
	case nix.KindString:
		return "string"
	case nix.KindNumber:
		return "number"
	case nix.KindBool:
		return "boolean"
	case nix.KindNull:
		return "null"
	}
	return "value"
}

// attrsOf lists the attributes of an entry (or option set) v as written,
// prefixing nested names; parentDirectory and parent are followed one
// level. In nix eval output, a failed removed-option assertion becomes an
// Attr with Removed set and the option's name.
func (r *reader) attrsOf(v *nix.Value, prefix string) []Attr {
	if v == nil || v.Kind != nix.KindAttrs {
		return nil
	}
	var out []Attr
	for _, name := range v.Attrs.Keys {
		at := v.Attrs.ByName[name]
		a := Attr{Name: prefix + name, Pos: r.pos(at.Off)}
		x := r.quiet(v, name)
		if x != nil {
			a.ValuePos = r.pos(x.Off)
			if x.Kind == nix.KindString {
				a.Value, a.IsString = x.Str, true
			}
		}
		out = append(out, a)
		switch {
		case prefix == "" && (name == "parentDirectory" || name == "parent") && x != nil && x.Kind == nix.KindAttrs:
			out = append(out, r.attrsOf(x, name+".")...)
		case name == "assertions" && r.ev == nil && x != nil && x.Kind == nix.KindList:
			out = append(out, r.removedAssertions(x, prefix)...)
		}
	}
	return out
}

// removedAssertions reads the assertions of mkRemovedOptionModule
// placeholders in nix eval output (current impermanence): an assertion that
// is false names a removed option that is defined ("The option definition
// `allowOther' in … no longer has any effect").
func (r *reader) removedAssertions(l *nix.Value, prefix string) []Attr {
	var out []Attr
	for _, it := range r.src.List(l) {
		a := r.force(it)
		ok := r.quiet(a, "assertion")
		msg := r.quiet(a, "message")
		if ok == nil || ok.Kind != nix.KindBool || ok.Bool || msg == nil || msg.Kind != nix.KindString {
			continue
		}
		const lead = "The option definition `"
		i := strings.Index(msg.Str, lead)
		if i < 0 {
			continue
		}
		name := msg.Str[i+len(lead):]
		if j := strings.IndexByte(name, '\''); j > 0 {
			name = name[:j]
		}
		out = append(out, Attr{Name: prefix + name, Pos: r.pos(a.Off), Removed: true})
	}
	return out
}

// options records the attributes of a storage path or users.<name> set.
func (r *reader) options(v *nix.Value, where, module, owner string, hmV1 bool) {
	for _, a := range r.attrsOf(v, "") {
		if strings.HasPrefix(a.Name, "parent") && strings.Contains(a.Name, ".") {
			continue
		}
		r.set.Options = append(r.set.Options, Option{Attr: a, Where: where, Module: module, Owner: owner, HMv1: hmV1, Evaluated: r.ev == nil})
	}
}
