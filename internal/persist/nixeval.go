package persist

import (
	"fmt"
	"slices"
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

// moduleWrappers are lib functions that wrap a value without changing it
// for our purposes: name → number of arguments; the last one is the value.
var moduleWrappers = map[string]int{
	"mkDefault": 1, "mkForce": 1, "mkBefore": 1, "mkAfter": 1, "mkOptionDefault": 1,
	"mkImageMediaOverride": 1, "mkVMOverride": 1, "mkFixStrictness": 1,
	"mkOverride": 2, "mkOrder": 2,
}

// conditionals include their last argument, marked as conditional.
var conditionals = map[string]int{
	"mkIf": 2, "optionals": 2, "optionalAttrs": 2, "optionalString": 2,
}

func calleeName(n node) string {
	switch n := n.(type) {
	case *nIdent:
		return n.name
	case *nSelect:
		if k := n.path[len(n.path)-1]; k.dyn == nil {
			return exprText(n)
		}
	}
	return ""
}

func lastName(s string) string {
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func (ev *evaluator) app(n *nApp, e *env) *value {
	// f a b c is ((f a) b) c: the arguments are collected from the last,
	// then put in order (appending, not prepending: a chain of n
	// applications costs n, not n²).
	var args []node
	fn := node(n)
	for {
		a, ok := fn.(*nApp)
		if !ok {
			break
		}
		args = append(args, a.arg)
		fn = a.fn
	}
	slices.Reverse(args)
	full := calleeName(fn)
	name := lastName(full)
	if k, ok := moduleWrappers[name]; ok && len(args) == k {
		return ev.eval(args[k-1], e)
	}
	if k, ok := conditionals[name]; ok && len(args) == k {
		return withConds(ev.eval(args[k-1], e), n.off)
	}
	switch {
	case name == "optional" && len(args) == 2:
		return &value{kind: vList, off: n.off, items: []*lazy{{n: args[1], env: e}}, conds: []int{n.off}}
	case name == "mkMerge" && len(args) == 1:
		l := ev.eval(args[0], e)
		if l.kind != vList {
			return l
		}
		return ev.mergeDefs(ev.src.list(l), n.off)
	case name == "import" || full == "builtins.import":
		return unknownAt(n.off, "an `import` of another file")
	}
	// A function defined in this file: apply it.
	f := ev.eval(fn, e)
	for i, a := range args {
		if f.kind != vFunc {
			break
		}
		f = ev.apply(f, &lazy{n: a, env: e})
		if i == len(args)-1 {
			return f
		}
	}
	if full == "" {
		full = "a function"
	}
	return unknownAt(n.off, fmt.Sprintf("the result of calling `%s`", full))
}

// apply calls a function value with one argument.
func (ev *evaluator) apply(f *value, arg *lazy) *value {
	s := &env{vars: make(map[string]*lazy), parent: f.env}
	if f.fn.param != "" {
		s.vars[f.fn.param] = arg
	}
	for _, fm := range f.fn.formals {
		s.vars[fm.name] = &lazy{fn: func() *value {
			av := ev.force(arg)
			if av.kind == vAttrs {
				if at := av.attrs.get(fm.name); at != nil {
					return ev.attrValue(at)
				}
			}
			if fm.def != nil {
				return ev.eval(fm.def, s)
			}
			if av.kind == vUnknown {
				return unknownAt(av.off, fmt.Sprintf("the function argument `%s`", fm.name))
			}
			return unknownAt(av.off, fmt.Sprintf("the missing function argument `%s`", fm.name))
		}}
	}
	return ev.eval(f.fn.body, s)
}

func (ev *evaluator) sel(n *nSelect, e *env) *value {
	v := ev.eval(n.e, e)
	for i, k := range n.path {
		name := k.name
		if k.dyn != nil {
			kv := ev.eval(k.dyn, e)
			if kv.kind != vString {
				v = unknownAt(n.off, fmt.Sprintf("`%s`", exprText(n)))
				break
			}
			name = kv.str
		}
		if v.kind != vAttrs {
			v = unknownAt(n.off, fmt.Sprintf("`%s`", exprText(n)))
			break
		}
		at := v.attrs.get(name)
		if at == nil {
			if n.def != nil {
				return ev.eval(n.def, e)
			}
			return unknownAt(n.off, fmt.Sprintf("`%s` (attribute `%s` missing)", exprText(n), name))
		}
		v = ev.attrValue(at)
		_ = i
	}
	if v.kind == vUnknown && n.def != nil {
		return unknownAt(n.off, fmt.Sprintf("`%s`", exprText(n)))
	}
	return v
}

func (ev *evaluator) binop(n *nBinop, e *env) *value {
	switch n.op {
	case "++":
		// a ++ b ++ c is a ++ (b ++ c): the chain is concatenated at once,
		// each item copied once (not once per ++ to its left).
		var sides []*value
		var x node = n
		for {
			b, ok := x.(*nBinop)
			if !ok || b.op != "++" {
				sides = append(sides, ev.eval(x, e))
				break
			}
			sides = append(sides, ev.eval(b.l, e))
			x = b.r
		}
		total := 0
		for _, side := range sides {
			total += listLen(side)
		}
		if v := ev.grow(n.off, total); v != nil {
			return v
		}
		out := &value{kind: vList, off: n.l.offset(), items: make([]*lazy, 0, total)}
		for _, side := range sides {
			if side.kind == vList {
				for _, it := range ev.src.list(side) {
					out.items = append(out.items, ev.condLazy(it, side.conds))
				}
				continue
			}
			u := *side
			if u.kind != vUnknown {
				u = value{kind: vUnknown, off: side.off, why: side.kind.String() + " where a list was expected"}
			}
			u.splice = true
			out.items = append(out.items, known(&u))
		}
		return out
	case "//":
		l, r := ev.eval(n.l, e), ev.eval(n.r, e)
		if l.kind != vAttrs || r.kind != vAttrs {
			return unknownAt(n.off, "an update (//) of "+describe(l, r))
		}
		out := &value{kind: vAttrs, off: n.l.offset(), attrs: newAttrs()}
		out.attrs.unknown = append(append(out.attrs.unknown, l.attrs.unknown...), r.attrs.unknown...)
		for _, side := range []*value{l, r} {
			for _, name := range side.attrs.keys {
				at := side.attrs.m[name]
				if old := out.attrs.get(name); old != nil {
					old.defs = at.defs // right side wins
					continue
				}
				out.attrs.add(name, at.off, nil).defs = at.defs
			}
		}
		return out
	case "+":
		l, r := ev.eval(n.l, e), ev.eval(n.r, e)
		if l.kind == vString && r.kind == vString {
			if len(l.str)+len(r.str) > maxString {
				return tooLong(n.off)
			}
			return &value{kind: vString, off: n.l.offset(), str: l.str + r.str}
		}
		for _, v := range []*value{l, r} {
			if v.why == tooLong(0).why {
				return v // say what is wrong, not how it was built
			}
		}
		return unknownAt(n.off, "a sum (+) of "+describe(l, r))
	}
	return unknownAt(n.off, fmt.Sprintf("an expression with `%s`", n.op))
}

// describe names the kinds of vs for a diagnostic ("a list and an
// attribute set"), an unknown by why it is unknown. Each part is cut at
// maxWhy bytes: an unknown built from unknowns (`a = b + b; b = c + c; …`)
// would otherwise carry a reason that doubles at every step.
func describe(vs ...*value) string {
	var parts []string
	for _, v := range vs {
		p := v.kind.String()
		if v.kind == vUnknown {
			p = v.why
		}
		if len(p) > maxWhy {
			p = strings.ToValidUTF8(p[:maxWhy], "") + "…"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " and ")
}

// maxWhy caps each reason describe quotes, in bytes.
const maxWhy = 120

// exprText renders a variable or attribute selection for messages.
func exprText(n node) string {
	switch n := n.(type) {
	case *nIdent:
		return n.name
	case *nSelect:
		var b strings.Builder
		b.WriteString(exprText(n.e))
		for _, k := range n.path {
			b.WriteByte('.')
			if k.dyn != nil {
				b.WriteString("${…}")
			} else {
				b.WriteString(attrName(k.name))
			}
		}
		return b.String()
	case *nApp:
		return "(" + exprText(n.fn) + " …)"
	case *nStr:
		return strText(n)
	}
	return "(…)"
}

// attrName quotes an attribute name when it is not a plain identifier.
func attrName(s string) string {
	if s == "" || !isIDStart(s[0]) {
		return fmt.Sprintf("%q", s)
	}
	for i := 1; i < len(s); i++ {
		if !isIDChar(s[i]) {
			return fmt.Sprintf("%q", s)
		}
	}
	return s
}
