package nix

import (
	"fmt"
	"strings"
)

// Env is a lexical scope of the static evaluator.
type Env struct {
	Vars   map[string]*Lazy
	parent *Env
	with   bool // a `with e;` scope: its names are unknown
}

func (e *Env) lookup(name string) (l *Lazy, inWith bool) {
	for s := e; s != nil; s = s.parent {
		if s.with {
			inWith = true
			continue
		}
		if l, ok := s.Vars[name]; ok {
			return l, inWith
		}
	}
	return nil, inWith
}

// Evaluator computes what can be known of a Nix expression without Nix:
// literals, lists, attribute sets, let/rec/inherit bindings, ++ // +,
// functions defined in the file, and the module-system wrappers (mkIf,
// mkMerge, mkDefault, mkForce, mkBefore, mkAfter, mkOverride, mkOrder) and
// lib.optional(s)/optionalAttrs. Everything else becomes a vUnknown saying
// why. Work is bounded by maxDepth and maxSteps.
type Evaluator struct {
	Src   *Source
	depth int
	steps int
}

const (
	maxSteps = 2_000_000
	// maxItems caps a list or a merged definition list built by ++ or
	// mkMerge; `a = b ++ b; b = c ++ c; …` would otherwise double per line.
	maxItems = 100_000
	// maxString caps a string built by + or interpolation: `a = b + b;
	// b = c + c; …` doubles per line too, and a path or a mode is short.
	maxString = 1 << 20
)

// tooLong is the unknown value of a string that would exceed maxString.
func tooLong(off int) *Value {
	return UnknownAt(off, "a string longer than 1 MiB")
}

// grow accounts for n items copied into a list being built.
func (ev *Evaluator) grow(off, n int) *Value {
	ev.steps += n
	if n > maxItems || ev.steps > maxSteps {
		return UnknownAt(off, "a list with too many items (over 100000)")
	}
	return nil
}

// Budget counts one evaluation step at off: a KindUnknown value when the
// evaluator's steps or depth are spent, else nil.
func (ev *Evaluator) Budget(off int) *Value {
	ev.Src.Tick()
	ev.steps++
	if ev.steps > maxSteps {
		return UnknownAt(off, "an expression that takes too long to evaluate")
	}
	if ev.depth > MaxDepth {
		return UnknownAt(off, "an expression nested too deeply")
	}
	return nil
}

// Force computes l once (a thunk evaluated again while it is computed is
// an unknown value, not a loop).
func (ev *Evaluator) Force(l *Lazy) *Value {
	if l.Value != nil {
		return l.Value
	}
	if l.Busy {
		return UnknownAt(lazyOff(l), "a value that refers to itself (infinite recursion)")
	}
	l.Busy = true
	var v *Value
	switch {
	case l.Fn != nil:
		v = l.Fn()
	default:
		v = ev.Eval(l.Node, l.Env)
	}
	if len(l.Conds) > 0 {
		v = withConds(v, l.Conds...)
	}
	l.Value, l.Busy, l.Node, l.Env, l.Fn = v, false, nil, nil, nil
	return v
}

func lazyOff(l *Lazy) int {
	if l.Node != nil {
		return l.Node.offset()
	}
	return -1
}

func withConds(v *Value, offs ...int) *Value {
	c := *v
	c.Conds = append(append([]int(nil), v.Conds...), offs...)
	return &c
}

// Eval evaluates n in e, as far as it can be read statically: what cannot
// be is a KindUnknown value saying why.
func (ev *Evaluator) Eval(n Node, e *Env) *Value {
	if v := ev.Budget(n.offset()); v != nil {
		return v
	}
	ev.depth++
	defer func() { ev.depth-- }()
	switch n := n.(type) {
	case *Ident:
		switch n.Name {
		case "true", "false":
			if l, _ := e.lookup(n.Name); l == nil {
				return &Value{Kind: KindBool, Off: n.Off, Bool: n.Name == "true"}
			}
		case "null":
			if l, _ := e.lookup(n.Name); l == nil {
				return &Value{Kind: KindNull, Off: n.Off}
			}
		}
		l, inWith := e.lookup(n.Name)
		if l != nil {
			return ev.Force(l)
		}
		if inWith {
			return UnknownAt(n.Off, fmt.Sprintf("`%s` (from a `with` scope)", n.Name))
		}
		return UnknownAt(n.Off, fmt.Sprintf("the variable `%s`", n.Name))
	case *nNum:
		return &Value{Kind: KindNumber, Off: n.Off, Str: n.Text}
	case *nStr:
		return ev.str(n, e)
	case *nList:
		v := &Value{Kind: KindList, Off: n.Off, Items: make([]*Lazy, len(n.nodes))}
		for i, it := range n.nodes {
			v.Items[i] = &Lazy{Node: it, Env: e}
		}
		if len(n.nodes) < len(n.Items) {
			v.At = n.Items
		}
		return v
	case *nAttrs:
		v := ev.attrSet(n, e)
		if n.legacyLet {
			if at := v.Attrs.Get("body"); at != nil {
				return ev.AttrValue(at)
			}
			return UnknownAt(n.Off, "a `let { … }` without a body attribute")
		}
		return v
	case *nLet:
		s := &Env{Vars: make(map[string]*Lazy), parent: e}
		ev.bindInto(s, n.binds, n.inherits, s, e)
		return ev.Eval(n.body, s)
	case *nWith:
		return ev.Eval(n.body, &Env{parent: e, with: true})
	case *nAssert:
		return ev.Eval(n.body, e)
	case *nIf:
		// A condition known statically picks its branch.
		if on, known := ev.staticCond(n.cond, e); known {
			if on {
				return ev.Eval(n.then, e)
			}
			return ev.Eval(n.elseOf, e)
		}
		return UnknownAt(n.Off, "a conditional (if … then … else …)")
	case *nFunc:
		return &Value{Kind: KindFunc, Off: n.Off, Fn: n, Env: e}
	case *nApp:
		return ev.app(n, e)
	case *nSelect:
		return ev.sel(n, e)
	case *Binop:
		return ev.binop(n, e)
	case *nHasAttr:
		return UnknownAt(n.Off, "an attribute test (?)")
	case *nUnary:
		if v := ev.Eval(n.e, e); n.Op == "!" && v.Kind == KindBool {
			return &Value{Kind: KindBool, Off: n.Off, Bool: !v.Bool} // lib.mkIf (!true) …
		}
		return UnknownAt(n.Off, fmt.Sprintf("an expression with `%s`", n.Op))
	}
	return UnknownAt(n.offset(), "an expression")
}

func (ev *Evaluator) str(n *nStr, e *Env) *Value {
	var b strings.Builder
	var bad *Value // the first interpolation that is not a known string
	for _, pt := range n.parts {
		if pt.expr == nil {
			b.WriteString(pt.lit)
			continue
		}
		v := ev.Eval(pt.expr, e)
		if v.Kind != KindString {
			if bad == nil {
				bad = v
			}
			if v.Kind == KindUnknown && v.Text != "" && b.Len()+len(v.Text) <= maxString {
				b.WriteString(v.Text) // "${base}/x", base partly known
			} else {
				b.WriteString(unknownPart)
			}
			continue
		}
		if b.Len()+len(v.Str) > maxString {
			return tooLong(n.Off)
		}
		b.WriteString(v.Str)
	}
	if bad != nil {
		what := "string"
		if n.isPath {
			what = "path"
		}
		why := bad.Why
		if why == "" {
			why = bad.Kind.String()
		}
		u := UnknownAt(n.Off, fmt.Sprintf("the interpolated %s %s (it uses %s)", what, strText(n), why))
		u.Text = b.String()
		return u
	}
	s := b.String()
	if n.isPath && !strings.HasPrefix(s, "/") {
		u := UnknownAt(n.Off, fmt.Sprintf("the path `%s` (relative to a file, not a live path)", s))
		u.RelPath = s
		return u
	}
	return &Value{Kind: KindString, Off: n.Off, Str: s}
}

// strText renders a string with its interpolations elided, for messages.
func strText(n *nStr) string {
	var b strings.Builder
	for _, pt := range n.parts {
		if pt.expr != nil {
			b.WriteString("${…}")
		} else {
			b.WriteString(pt.lit)
		}
	}
	if n.isPath {
		return "`" + b.String() + "`"
	}
	return fmt.Sprintf("%q", b.String())
}

// attrSet builds a (possibly rec) attribute set literal.
func (ev *Evaluator) attrSet(n *nAttrs, e *Env) *Value {
	v := &Value{Kind: KindAttrs, Off: n.Off, Attrs: NewAttrs()}
	scope := e
	if n.rec {
		scope = &Env{Vars: make(map[string]*Lazy), parent: e}
	}
	for _, b := range n.binds {
		ev.insert(v.Attrs, b.path, &Lazy{Node: b.val, Env: scope}, scope)
	}
	for _, in := range n.inherits {
		for _, k := range in.names {
			if k.dyn != nil {
				continue
			}
			v.Attrs.Add(k.Name, k.Off, ev.inheritLazy(in, k, e, scope))
		}
	}
	if n.rec {
		for _, name := range v.Attrs.Keys {
			at := v.Attrs.ByName[name]
			scope.Vars[name] = &Lazy{Fn: func() *Value { return ev.AttrValue(at) }}
		}
	}
	return v
}

// inheritLazy is the value of `inherit name;` (from the enclosing scope
// outer) or `inherit (from) name;` (from evaluated in scope).
func (ev *Evaluator) inheritLazy(in inherit, k attrKey, outer, scope *Env) *Lazy {
	if in.from == nil {
		return &Lazy{Node: &Ident{Off: k.Off, Name: k.Name}, Env: outer}
	}
	return &Lazy{Node: &nSelect{Off: k.Off, e: in.from, path: []attrKey{k}}, Env: scope}
}

// bindInto binds let bindings into s (values evaluated in scope).
func (ev *Evaluator) bindInto(s *Env, binds []binding, inherits []inherit, scope, outer *Env) {
	tmp := NewAttrs()
	for _, b := range binds {
		ev.insert(tmp, b.path, &Lazy{Node: b.val, Env: scope}, scope)
	}
	for _, in := range inherits {
		for _, k := range in.names {
			if k.dyn == nil {
				tmp.Add(k.Name, k.Off, ev.inheritLazy(in, k, outer, scope))
			}
		}
	}
	for _, name := range tmp.Keys {
		at := tmp.ByName[name]
		if len(at.Defs) == 1 {
			s.Vars[name] = at.Defs[0]
		} else {
			s.Vars[name] = &Lazy{Fn: func() *Value { return ev.AttrValue(at) }}
		}
	}
}

// insert adds the binding path = l to a, creating nested sets for the
// path's inner components (`a.b.c = 1;`).
func (ev *Evaluator) insert(a *Attrs, path []attrKey, l *Lazy, scope *Env) {
	k := path[0]
	name := k.Name
	if k.dyn != nil {
		nv := ev.Eval(k.dyn, scope)
		if nv.Kind != KindString {
			why := nv.Why
			if why == "" {
				why = nv.Kind.String()
			}
			u := UnknownAt(k.Off, "a dynamic attribute name (it uses "+why+")")
			u.DynBody, u.DynName = l, "${…}"
			if s, ok := k.dyn.(*nStr); ok {
				u.DynName = strings.Trim(strText(s), "\"`")
			}
			if len(path) > 1 {
				v := &Value{Kind: KindAttrs, Off: k.Off, Attrs: NewAttrs(), Built: true}
				ev.insert(v.Attrs, path[1:], l, scope)
				u.DynBody = Known(v)
			}
			a.Unknown = append(a.Unknown, u)
			return
		}
		name = nv.Str
	}
	if len(path) == 1 {
		a.Add(name, k.Off, l)
		return
	}
	var sub *Attrs
	if at := a.Get(name); at != nil {
		for _, d := range at.Defs {
			if d.Value != nil && d.Value.Kind == KindAttrs && d.Value.Built {
				sub = d.Value.Attrs
			}
		}
	}
	if sub == nil {
		v := &Value{Kind: KindAttrs, Off: k.Off, Attrs: NewAttrs(), Built: true}
		a.Add(name, k.Off, Known(v))
		sub = v.Attrs
	}
	ev.insert(sub, path[1:], l, scope)
}

// AttrValue is the value of an attribute, merging several definitions the
// way the module system does for the types persistence options use: sets
// merge key by key, lists concatenate.
func (ev *Evaluator) AttrValue(at *Attribute) *Value {
	if len(at.Defs) == 1 {
		return ev.Force(at.Defs[0])
	}
	return ev.mergeDefs(at.Defs, at.Off)
}

func (ev *Evaluator) mergeDefs(defs []*Lazy, off int) *Value {
	vals := make([]*Value, 0, len(defs))
	nAttrs, nLists, size := 0, 0, 0
	for _, d := range defs {
		v := ev.Force(d)
		vals = append(vals, v)
		switch v.Kind {
		case KindAttrs:
			nAttrs++
			for _, at := range v.Attrs.ByName {
				size += len(at.Defs)
			}
		case KindList:
			nLists++
			size += ListLen(v)
		}
	}
	if v := ev.grow(off, size); v != nil {
		return v
	}
	switch {
	case nAttrs > 0 && nAttrs >= nLists:
		out := &Value{Kind: KindAttrs, Off: off, Attrs: NewAttrs()}
		for _, v := range vals {
			if v.Kind != KindAttrs {
				out.Attrs.Unknown = append(out.Attrs.Unknown, v)
				continue
			}
			out.Attrs.Unknown = append(out.Attrs.Unknown, v.Attrs.Unknown...)
			for _, name := range v.Attrs.Keys {
				at := v.Attrs.ByName[name]
				for _, d := range at.Defs {
					out.Attrs.Add(name, at.Off, ev.condLazy(d, v.Conds))
				}
			}
		}
		return out
	case nLists > 0:
		out := &Value{Kind: KindList, Off: off}
		for _, v := range vals {
			if v.Kind != KindList {
				u := *v
				u.Splice = true
				out.Items = append(out.Items, Known(&u))
				continue
			}
			for _, it := range ev.Src.List(v) {
				out.Items = append(out.Items, ev.condLazy(it, v.Conds))
			}
		}
		return out
	}
	for _, v := range vals {
		if v.Kind != KindUnknown {
			return v
		}
	}
	if len(vals) == 0 {
		return &Value{Kind: KindNull, Off: off} // mkMerge [ ]: nothing defined
	}
	return vals[0]
}

// condLazy returns l, or when conds is not empty a lazy whose value is l's
// marked with conds (a part of a conditional list or set).
func (ev *Evaluator) condLazy(l *Lazy, conds []int) *Lazy {
	if len(conds) == 0 {
		return l
	}
	return &Lazy{Fn: func() *Value { return ev.Force(l) }, Conds: conds}
}
