package nix

import (
	"fmt"
	"path"
	"strings"
)

// unknownPart is how a string's Text writes a part that cannot be read.
const unknownPart = "${…}"

// builtinPrefixes are the attribute paths the pure string functions are
// called through: builtins.concatStringsSep, lib.concatStringsSep,
// lib.strings.concatStringsSep (nixpkgs lib re-exports them), or a bare
// name from `with lib;` / `with builtins;`.
var builtinPrefixes = []string{"", "builtins.", "lib.", "lib.strings.", "pkgs.lib.", "lib.trivial."}

// stringBuiltins are the pure functions of strings and paths evaluated
// statically when their arguments are known: name → number of arguments
// (builtins and nixpkgs lib/strings.nix, lib/path).
var stringBuiltins = map[string]int{
	"concatStrings": 1, "concatStringsSep": 2, "concatMapStrings": 2, "concatMapStringsSep": 3,
	"concatLines": 1, "toString": 1, "baseNameOf": 1, "dirOf": 1,
	"removePrefix": 2, "removeSuffix": 2, "hasPrefix": 2, "hasSuffix": 2,
	"toLower": 1, "toUpper": 1, "replaceStrings": 3,
}

// builtinName is the string function the callee full (as written: a
// name or an attribute path) names, "" for none: a bare name bound in
// the file is the file's own function, not the builtin.
func builtinName(full string, fn Node, e *Env) string {
	if full == "lib.path.append" || full == "pkgs.lib.path.append" {
		return "path.append"
	}
	if id, ok := fn.(*Ident); ok {
		if l, _ := e.lookup(id.Name); l != nil {
			return ""
		}
	}
	for _, p := range builtinPrefixes {
		if name, ok := strings.CutPrefix(full, p); ok {
			if _, ok := stringBuiltins[name]; ok {
				return name
			}
		}
	}
	return ""
}

// partial is a string being built from parts some of which are unknown:
// the known text with each unknown part written unknownPart, and the
// first unknown value met (its reason).
type partial struct {
	b   strings.Builder
	bad *Value
}

func (p *partial) add(v *Value) {
	switch {
	case v.Kind == KindString:
		p.b.WriteString(v.Str)
	case v.Kind == KindUnknown && v.Text != "":
		p.b.WriteString(v.Text)
		if p.bad == nil {
			p.bad = v
		}
	default:
		p.b.WriteString(unknownPart)
		if p.bad == nil {
			p.bad = v
		}
	}
}

// value is the string built, or, when a part was unknown, a KindUnknown
// at off saying why (what), with the known text as Text.
func (p *partial) value(off int, what string) *Value {
	if p.b.Len() > maxString {
		return tooLong(off)
	}
	if p.bad == nil {
		return &Value{Kind: KindString, Off: off, Str: p.b.String()}
	}
	why := p.bad.Why
	if why == "" {
		why = p.bad.Kind.String()
	}
	if len(why) > maxWhy {
		why = strings.ToValidUTF8(why[:maxWhy], "") + "…"
	}
	u := UnknownAt(off, fmt.Sprintf("%s (it uses %s)", what, why))
	u.Text = p.b.String()
	return u
}

// listOf evaluates the list v's items, at most maxItems.
func (ev *Evaluator) listOf(v *Value, off int) ([]*Value, *Value) {
	if v.Kind != KindList {
		return nil, v
	}
	items := ev.Src.List(v)
	if bad := ev.grow(off, len(items)); bad != nil {
		return nil, bad
	}
	out := make([]*Value, len(items))
	for i, it := range items {
		out[i] = ev.Force(it)
	}
	return out, nil
}

// builtin evaluates the string function name (builtinName) on args at
// the call n: its value, known when every argument is, else a KindUnknown
// carrying the known text (Value.Text).
func (ev *Evaluator) builtin(name, full string, args []Node, n *nApp, e *Env) *Value {
	what := fmt.Sprintf("the result of calling `%s`", full)
	arg := func(i int) *Value { return ev.Eval(args[i], e) }
	var p partial
	joined := func(list *Value, sep string, f *Value) *Value {
		items, bad := ev.listOf(list, n.Off)
		if bad != nil {
			p.add(bad)
			return p.value(n.Off, what)
		}
		for i, it := range items {
			if i > 0 {
				p.b.WriteString(sep)
			}
			if f != nil {
				it = ev.Apply(f, Known(it))
			}
			p.add(it)
			if p.b.Len() > maxString {
				return tooLong(n.Off)
			}
		}
		return p.value(n.Off, what)
	}
	switch name {
	case "concatStrings":
		return joined(arg(0), "", nil)
	case "concatLines":
		v := joined(arg(0), "\n", nil)
		if v.Kind == KindString && v.Str != "" {
			v.Str += "\n"
		}
		return v
	case "concatStringsSep", "concatMapStrings", "concatMapStringsSep":
		sep, f, list := "", (*Value)(nil), args[len(args)-1]
		if name != "concatMapStrings" {
			s := arg(0)
			if s.Kind != KindString {
				return UnknownAt(n.Off, what+" (its separator is not known)")
			}
			sep = s.Str
		}
		if name != "concatStringsSep" {
			if f = arg(len(args) - 2); f.Kind != KindFunc {
				p.add(f)
				p.b.WriteString(unknownPart)
				return p.value(n.Off, what)
			}
		}
		return joined(ev.Eval(list, e), sep, f)
	case "toString":
		return ev.toString(arg(0), n.Off, what)
	case "path.append":
		base, sub := arg(0), arg(1)
		p.add(base)
		p.b.WriteString("/")
		p.add(sub)
		v := p.value(n.Off, what)
		if v.Kind == KindString {
			if !strings.HasPrefix(base.Str, "/") || strings.HasPrefix(sub.Str, "/") {
				return UnknownAt(n.Off, what+" (lib.path.append takes an absolute path and a relative one)")
			}
			v.Str = path.Clean(v.Str)
		}
		return v
	}
	return ev.stringFn(name, arg, n.Off, what)
}

// stringFn evaluates the string functions of one string (or two) that
// need every argument known.
func (ev *Evaluator) stringFn(name string, arg func(int) *Value, off int, what string) *Value {
	var vs []*Value
	for i := 0; i < stringBuiltins[name]; i++ {
		v := arg(i)
		if v.Kind != KindString && name != "replaceStrings" {
			var p partial
			return p.unknown(v, off, what)
		}
		vs = append(vs, v)
	}
	s := func(v *Value) *Value { return &Value{Kind: KindString, Off: off, Str: v.Str} }
	b := func(x bool) *Value { return &Value{Kind: KindBool, Off: off, Bool: x} }
	switch name {
	case "baseNameOf":
		return s(&Value{Str: baseNameOf(vs[0].Str)})
	case "dirOf":
		return s(&Value{Str: dirOf(vs[0].Str)})
	case "toLower":
		return s(&Value{Str: strings.ToLower(vs[0].Str)})
	case "toUpper":
		return s(&Value{Str: strings.ToUpper(vs[0].Str)})
	case "removePrefix":
		return s(&Value{Str: strings.TrimPrefix(vs[1].Str, vs[0].Str)})
	case "removeSuffix":
		return s(&Value{Str: strings.TrimSuffix(vs[1].Str, vs[0].Str)})
	case "hasPrefix":
		return b(strings.HasPrefix(vs[1].Str, vs[0].Str))
	case "hasSuffix":
		return b(strings.HasSuffix(vs[1].Str, vs[0].Str))
	case "replaceStrings":
		return ev.replaceStrings(vs, off, what)
	}
	return UnknownAt(off, what)
}

// unknown is the value of a call whose argument v is not a known string.
func (p *partial) unknown(v *Value, off int, what string) *Value {
	p.add(v)
	if v.Kind != KindUnknown || v.Text == "" {
		return p.value(off, what)
	}
	// What a function makes of a partly known string is not known; its
	// known text may still name a path, so it is kept, ending unknown.
	p.b.WriteString(unknownPart)
	return p.value(off, what)
}

// replaceStrings is builtins.replaceStrings from to s: lists of known
// strings and a known string.
func (ev *Evaluator) replaceStrings(vs []*Value, off int, what string) *Value {
	from, bad := ev.listOf(vs[0], off)
	to, bad2 := ev.listOf(vs[1], off)
	if bad != nil || bad2 != nil || vs[2].Kind != KindString || len(from) != len(to) {
		return UnknownAt(off, what)
	}
	var pairs []string
	for i := range from {
		if from[i].Kind != KindString || to[i].Kind != KindString || from[i].Str == "" {
			return UnknownAt(off, what)
		}
		pairs = append(pairs, from[i].Str, to[i].Str)
	}
	out := strings.NewReplacer(pairs...).Replace(vs[2].Str)
	if len(out) > maxString {
		return tooLong(off)
	}
	return &Value{Kind: KindString, Off: off, Str: out}
}

// toString is builtins.toString of v: a string or path as it is, a
// number as written, true "1", false and null "", a list its items'
// strings joined by spaces.
func (ev *Evaluator) toString(v *Value, off int, what string) *Value {
	switch v.Kind {
	case KindString:
		return &Value{Kind: KindString, Off: off, Str: v.Str}
	case KindNumber:
		return &Value{Kind: KindString, Off: off, Str: v.Str}
	case KindBool:
		s := ""
		if v.Bool {
			s = "1"
		}
		return &Value{Kind: KindString, Off: off, Str: s}
	case KindNull:
		return &Value{Kind: KindString, Off: off, Str: ""}
	case KindList:
		items, bad := ev.listOf(v, off)
		var p partial
		if bad != nil {
			return p.unknown(bad, off, what)
		}
		for i, it := range items {
			if i > 0 {
				p.b.WriteString(" ")
			}
			p.add(ev.toString(it, off, what))
		}
		return p.value(off, what)
	}
	var p partial
	p.add(v)
	return p.value(off, what)
}

// baseNameOf is builtins.baseNameOf: what follows the last slash, one
// trailing slash ignored.
func baseNameOf(s string) string {
	if len(s) > 1 && strings.HasSuffix(s, "/") {
		s = s[:len(s)-1]
	}
	return s[strings.LastIndexByte(s, '/')+1:]
}

// dirOf is builtins.dirOf of a string: what precedes the last slash, "/"
// for a name just below the root, "." without a slash.
func dirOf(s string) string {
	i := strings.LastIndexByte(s, '/')
	switch {
	case i < 0:
		return "."
	case i == 0:
		return "/"
	}
	return s[:i]
}

// staticCond is the value of a condition that is a known boolean: ok is
// false when it is not (config.services.x.enable: read by Nix only).
func (ev *Evaluator) staticCond(n Node, e *Env) (value, ok bool) {
	v := ev.Eval(n, e)
	return v.Bool, v.Kind == KindBool
}

// absent is what a condition that is statically false makes of the value
// n (lib.mkIf false …, lib.optionals false …): nothing defined — an empty
// list or set when n is one, else null.
func (ev *Evaluator) absent(n Node, e *Env, off int) *Value {
	switch v := ev.Eval(n, e); v.Kind {
	case KindList:
		return &Value{Kind: KindList, Off: off}
	case KindAttrs:
		return &Value{Kind: KindAttrs, Off: off, Attrs: NewAttrs()}
	}
	return &Value{Kind: KindNull, Off: off}
}
