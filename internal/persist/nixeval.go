package persist

import (
	"fmt"
	"strings"
)

// env is a lexical scope of the static evaluator.
type env struct {
	vars   map[string]*lazy
	parent *env
	with   bool // a `with e;` scope: its names are unknown
}

func (e *env) lookup(name string) (l *lazy, inWith bool) {
	for s := e; s != nil; s = s.parent {
		if s.with {
			inWith = true
			continue
		}
		if l, ok := s.vars[name]; ok {
			return l, inWith
		}
	}
	return nil, inWith
}

// evaluator computes what can be known of a Nix expression without Nix:
// literals, lists, attribute sets, let/rec/inherit bindings, ++ // +,
// functions defined in the file, and the module-system wrappers (mkIf,
// mkMerge, mkDefault, mkForce, mkBefore, mkAfter, mkOverride, mkOrder) and
// lib.optional(s)/optionalAttrs. Everything else becomes a vUnknown saying
// why. Work is bounded by maxDepth and maxSteps.
type evaluator struct {
	src   *source
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
func tooLong(off int) *value {
	return unknownAt(off, "a string longer than 1 MiB")
}

// grow accounts for n items copied into a list being built.
func (ev *evaluator) grow(off, n int) *value {
	ev.steps += n
	if n > maxItems || ev.steps > maxSteps {
		return unknownAt(off, "a list with too many items (over 100000)")
	}
	return nil
}

func (ev *evaluator) budget(off int) *value {
	ev.src.tick()
	ev.steps++
	if ev.steps > maxSteps {
		return unknownAt(off, "an expression that takes too long to evaluate")
	}
	if ev.depth > maxDepth {
		return unknownAt(off, "an expression nested too deeply")
	}
	return nil
}

func (ev *evaluator) force(l *lazy) *value {
	if l.v != nil {
		return l.v
	}
	if l.busy {
		return unknownAt(lazyOff(l), "a value that refers to itself (infinite recursion)")
	}
	l.busy = true
	var v *value
	switch {
	case l.fn != nil:
		v = l.fn()
	default:
		v = ev.eval(l.n, l.env)
	}
	if len(l.conds) > 0 {
		v = withConds(v, l.conds...)
	}
	l.v, l.busy, l.n, l.env, l.fn = v, false, nil, nil, nil
	return v
}

func lazyOff(l *lazy) int {
	if l.n != nil {
		return l.n.offset()
	}
	return -1
}

func withConds(v *value, offs ...int) *value {
	c := *v
	c.conds = append(append([]int(nil), v.conds...), offs...)
	return &c
}

func (ev *evaluator) eval(n node, e *env) *value {
	if v := ev.budget(n.offset()); v != nil {
		return v
	}
	ev.depth++
	defer func() { ev.depth-- }()
	switch n := n.(type) {
	case *nIdent:
		switch n.name {
		case "true", "false":
			if l, _ := e.lookup(n.name); l == nil {
				return &value{kind: vBool, off: n.off, b: n.name == "true"}
			}
		case "null":
			if l, _ := e.lookup(n.name); l == nil {
				return &value{kind: vNull, off: n.off}
			}
		}
		l, inWith := e.lookup(n.name)
		if l != nil {
			return ev.force(l)
		}
		if inWith {
			return unknownAt(n.off, fmt.Sprintf("`%s` (from a `with` scope)", n.name))
		}
		return unknownAt(n.off, fmt.Sprintf("the variable `%s`", n.name))
	case *nNum:
		return &value{kind: vNumber, off: n.off, str: n.text}
	case *nStr:
		return ev.str(n, e)
	case *nList:
		v := &value{kind: vList, off: n.off, items: make([]*lazy, len(n.nodes))}
		for i, it := range n.nodes {
			v.items[i] = &lazy{n: it, env: e}
		}
		if len(n.nodes) < len(n.items) {
			v.at = n.items
		}
		return v
	case *nAttrs:
		return ev.attrSet(n, e)
	case *nLet:
		s := &env{vars: make(map[string]*lazy), parent: e}
		ev.bindInto(s, n.binds, n.inherits, s, e)
		return ev.eval(n.body, s)
	case *nWith:
		return ev.eval(n.body, &env{parent: e, with: true})
	case *nAssert:
		return ev.eval(n.body, e)
	case *nIf:
		return unknownAt(n.off, "a conditional (if … then … else …)")
	case *nFunc:
		return &value{kind: vFunc, off: n.off, fn: n, env: e}
	case *nApp:
		return ev.app(n, e)
	case *nSelect:
		return ev.sel(n, e)
	case *nBinop:
		return ev.binop(n, e)
	case *nHasAttr:
		return unknownAt(n.off, "an attribute test (?)")
	case *nUnary:
		return unknownAt(n.off, fmt.Sprintf("an expression with `%s`", n.op))
	}
	return unknownAt(n.offset(), "an expression")
}

func (ev *evaluator) str(n *nStr, e *env) *value {
	var b strings.Builder
	var bad *value // the first interpolation that is not a known string
	for _, pt := range n.parts {
		if pt.expr == nil {
			b.WriteString(pt.lit)
			continue
		}
		v := ev.eval(pt.expr, e)
		if v.kind != vString {
			if bad == nil {
				bad = v
			}
			b.WriteString("${…}")
			continue
		}
		if b.Len()+len(v.str) > maxString {
			return tooLong(n.off)
		}
		b.WriteString(v.str)
	}
	if bad != nil {
		what := "string"
		if n.isPath {
			what = "path"
		}
		why := bad.why
		if why == "" {
			why = bad.kind.String()
		}
		u := unknownAt(n.off, fmt.Sprintf("the interpolated %s %s (it uses %s)", what, strText(n), why))
		if !n.isPath {
			u.text = b.String()
		}
		return u
	}
	s := b.String()
	if n.isPath && !strings.HasPrefix(s, "/") {
		u := unknownAt(n.off, fmt.Sprintf("the path `%s` (relative to a file, not a live path)", s))
		u.relPath = s
		return u
	}
	return &value{kind: vString, off: n.off, str: s}
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
func (ev *evaluator) attrSet(n *nAttrs, e *env) *value {
	v := &value{kind: vAttrs, off: n.off, attrs: newAttrs()}
	scope := e
	if n.rec {
		scope = &env{vars: make(map[string]*lazy), parent: e}
	}
	for _, b := range n.binds {
		ev.insert(v.attrs, b.path, &lazy{n: b.val, env: scope}, scope)
	}
	for _, in := range n.inherits {
		for _, k := range in.names {
			if k.dyn != nil {
				continue
			}
			v.attrs.add(k.name, k.off, ev.inheritLazy(in, k, e, scope))
		}
	}
	if n.rec {
		for _, name := range v.attrs.keys {
			at := v.attrs.m[name]
			scope.vars[name] = &lazy{fn: func() *value { return ev.attrValue(at) }}
		}
	}
	return v
}

// inheritLazy is the value of `inherit name;` (from the enclosing scope
// outer) or `inherit (from) name;` (from evaluated in scope).
func (ev *evaluator) inheritLazy(in inherit, k attrKey, outer, scope *env) *lazy {
	if in.from == nil {
		return &lazy{n: &nIdent{off: k.off, name: k.name}, env: outer}
	}
	return &lazy{n: &nSelect{off: k.off, e: in.from, path: []attrKey{k}}, env: scope}
}

// bindInto binds let bindings into s (values evaluated in scope).
func (ev *evaluator) bindInto(s *env, binds []binding, inherits []inherit, scope, outer *env) {
	tmp := newAttrs()
	for _, b := range binds {
		ev.insert(tmp, b.path, &lazy{n: b.val, env: scope}, scope)
	}
	for _, in := range inherits {
		for _, k := range in.names {
			if k.dyn == nil {
				tmp.add(k.name, k.off, ev.inheritLazy(in, k, outer, scope))
			}
		}
	}
	for _, name := range tmp.keys {
		at := tmp.m[name]
		if len(at.defs) == 1 {
			s.vars[name] = at.defs[0]
		} else {
			s.vars[name] = &lazy{fn: func() *value { return ev.attrValue(at) }}
		}
	}
}

// insert adds the binding path = l to a, creating nested sets for the
// path's inner components (`a.b.c = 1;`).
func (ev *evaluator) insert(a *attrs, path []attrKey, l *lazy, scope *env) {
	k := path[0]
	name := k.name
	if k.dyn != nil {
		nv := ev.eval(k.dyn, scope)
		if nv.kind != vString {
			why := nv.why
			if why == "" {
				why = nv.kind.String()
			}
			u := unknownAt(k.off, "a dynamic attribute name (it uses "+why+")")
			u.dynBody, u.dynName = l, "${…}"
			if s, ok := k.dyn.(*nStr); ok {
				u.dynName = strings.Trim(strText(s), "\"`")
			}
			if len(path) > 1 {
				v := &value{kind: vAttrs, off: k.off, attrs: newAttrs(), built: true}
				ev.insert(v.attrs, path[1:], l, scope)
				u.dynBody = known(v)
			}
			a.unknown = append(a.unknown, u)
			return
		}
		name = nv.str
	}
	if len(path) == 1 {
		a.add(name, k.off, l)
		return
	}
	var sub *attrs
	if at := a.get(name); at != nil {
		for _, d := range at.defs {
			if d.v != nil && d.v.kind == vAttrs && d.v.built {
				sub = d.v.attrs
			}
		}
	}
	if sub == nil {
		v := &value{kind: vAttrs, off: k.off, attrs: newAttrs(), built: true}
		a.add(name, k.off, known(v))
		sub = v.attrs
	}
	ev.insert(sub, path[1:], l, scope)
}

// attrValue is the value of an attribute, merging several definitions the
// way the module system does for the types persistence options use: sets
// merge key by key, lists concatenate.
func (ev *evaluator) attrValue(at *attr) *value {
	if len(at.defs) == 1 {
		return ev.force(at.defs[0])
	}
	return ev.mergeDefs(at.defs, at.off)
}

func (ev *evaluator) mergeDefs(defs []*lazy, off int) *value {
	vals := make([]*value, 0, len(defs))
	nAttrs, nLists, size := 0, 0, 0
	for _, d := range defs {
		v := ev.force(d)
		vals = append(vals, v)
		switch v.kind {
		case vAttrs:
			nAttrs++
			for _, at := range v.attrs.m {
				size += len(at.defs)
			}
		case vList:
			nLists++
			size += listLen(v)
		}
	}
	if v := ev.grow(off, size); v != nil {
		return v
	}
	switch {
	case nAttrs > 0 && nAttrs >= nLists:
		out := &value{kind: vAttrs, off: off, attrs: newAttrs()}
		for _, v := range vals {
			if v.kind != vAttrs {
				out.attrs.unknown = append(out.attrs.unknown, v)
				continue
			}
			out.attrs.unknown = append(out.attrs.unknown, v.attrs.unknown...)
			for _, name := range v.attrs.keys {
				at := v.attrs.m[name]
				for _, d := range at.defs {
					out.attrs.add(name, at.off, ev.condLazy(d, v.conds))
				}
			}
		}
		return out
	case nLists > 0:
		out := &value{kind: vList, off: off}
		for _, v := range vals {
			if v.kind != vList {
				u := *v
				u.splice = true
				out.items = append(out.items, known(&u))
				continue
			}
			for _, it := range ev.src.list(v) {
				out.items = append(out.items, ev.condLazy(it, v.conds))
			}
		}
		return out
	}
	for _, v := range vals {
		if v.kind != vUnknown {
			return v
		}
	}
	if len(vals) == 0 {
		return &value{kind: vNull, off: off} // mkMerge [ ]: nothing defined
	}
	return vals[0]
}

// condLazy returns l, or when conds is not empty a lazy whose value is l's
// marked with conds (a part of a conditional list or set).
func (ev *evaluator) condLazy(l *lazy, conds []int) *lazy {
	if len(conds) == 0 {
		return l
	}
	return &lazy{fn: func() *value { return ev.force(l) }, conds: conds}
}
