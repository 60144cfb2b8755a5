package persist

import (
	"fmt"
	"slices"
	"strings"
)

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
