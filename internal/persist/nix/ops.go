package nix

import (
	"fmt"
	"slices"
	"strconv"
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

func calleeName(n Node) string {
	switch n := n.(type) {
	case *Ident:
		return n.Name
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

func (ev *Evaluator) app(n *nApp, e *Env) *Value {
	// f a b c is ((f a) b) c: the arguments are collected from the last,
	// then put in order (appending, not prepending: a chain of n
	// applications costs n, not n²).
	var args []Node
	fn := Node(n)
	for {
		a, ok := fn.(*nApp)
		if !ok {
			break
		}
		args = append(args, a.arg)
		fn = a.Fn
	}
	slices.Reverse(args)
	full := calleeName(fn)
	name := lastName(full)
	if k, ok := moduleWrappers[name]; ok && len(args) == k {
		return ev.Eval(args[k-1], e)
	}
	if k, ok := conditionals[name]; ok && len(args) == k {
		// A condition known statically decides: lib.mkIf false … defines
		// nothing; lib.mkIf true … is its value, unconditionally.
		switch on, known := ev.staticCond(args[0], e); {
		case known && on:
			return ev.Eval(args[k-1], e)
		case known && name == "optionalString":
			return &Value{Kind: KindString, Off: n.Off}
		case known:
			return ev.absent(args[k-1], e, n.Off)
		}
		return withConds(ev.Eval(args[k-1], e), n.Off)
	}
	if b := builtinName(full, fn, e); b != "" && (len(args) == stringBuiltins[b] || b == "path.append" && len(args) == 2) {
		return ev.builtin(b, full, args, n, e)
	}
	switch {
	case name == "optional" && len(args) == 2:
		switch on, known := ev.staticCond(args[0], e); {
		case known && on:
			return &Value{Kind: KindList, Off: n.Off, Items: []*Lazy{{Node: args[1], Env: e}}}
		case known:
			return &Value{Kind: KindList, Off: n.Off}
		}
		return &Value{Kind: KindList, Off: n.Off, Items: []*Lazy{{Node: args[1], Env: e}}, Conds: []int{n.Off}}
	case name == "mkMerge" && len(args) == 1:
		l := ev.Eval(args[0], e)
		if l.Kind != KindList {
			return l
		}
		return ev.mergeDefs(ev.Src.List(l), n.Off)
	case name == "import" || full == "builtins.import":
		u := UnknownAt(n.Off, "an `import` of another file")
		if len(args) == 1 {
			switch p := ev.Eval(args[0], e); {
			case p.Kind == KindUnknown && p.RelPath != "":
				u.ImportPath = p.RelPath
			case p.Kind == KindString && strings.HasPrefix(p.Str, "/"):
				u.ImportPath = p.Str
			}
		}
		return u
	}
	// A function defined in this file: apply it.
	f := ev.Eval(fn, e)
	for i, a := range args {
		if f.Kind != KindFunc {
			break
		}
		f = ev.Apply(f, &Lazy{Node: a, Env: e})
		if i == len(args)-1 {
			return f
		}
	}
	if full == "" {
		full = "a function"
	}
	return ev.unknownCall(n.Off, fmt.Sprintf("the result of calling `%s`", full), args, e)
}

// unknownCall is the KindUnknown value of a call that cannot be
// evaluated: when an argument is a known string (or a partly known one),
// its Text is those strings, each followed by an unknown part: what the
// function makes of "/nix/persist" may be a path below it.
func (ev *Evaluator) unknownCall(off int, why string, args []Node, e *Env) *Value {
	u := UnknownAt(off, why)
	var b strings.Builder
	for _, a := range args {
		if _, ok := a.(*nFunc); ok {
			continue
		}
		switch v := ev.Eval(a, e); {
		case v.Kind == KindString:
			b.WriteString(v.Str)
		case v.Kind == KindUnknown && v.Text != "":
			b.WriteString(v.Text)
		default:
			continue
		}
		b.WriteString(unknownPart)
	}
	if b.Len() <= maxString {
		u.Text = b.String()
	}
	return u
}

// Apply calls a function value with one argument.
func (ev *Evaluator) Apply(f *Value, arg *Lazy) *Value {
	s := &Env{Vars: make(map[string]*Lazy), parent: f.Env}
	if f.Fn.param != "" {
		s.Vars[f.Fn.param] = arg
	}
	for _, fm := range f.Fn.formals {
		s.Vars[fm.Name] = &Lazy{Fn: func() *Value {
			av := ev.Force(arg)
			if av.Kind == KindAttrs {
				if at := av.Attrs.Get(fm.Name); at != nil {
					return ev.AttrValue(at)
				}
			}
			if fm.def != nil {
				return ev.Eval(fm.def, s)
			}
			if av.Kind == KindUnknown {
				return UnknownAt(av.Off, fmt.Sprintf("the function argument `%s`", fm.Name))
			}
			return UnknownAt(av.Off, fmt.Sprintf("the missing function argument `%s`", fm.Name))
		}}
	}
	return ev.Eval(f.Fn.body, s)
}

func (ev *Evaluator) sel(n *nSelect, e *Env) *Value {
	v := ev.Eval(n.e, e)
	for i, k := range n.path {
		name := k.Name
		if k.dyn != nil {
			kv := ev.Eval(k.dyn, e)
			if kv.Kind != KindString {
				v = UnknownAt(n.Off, fmt.Sprintf("`%s`", exprText(n)))
				break
			}
			name = kv.Str
		}
		if v.Kind != KindAttrs {
			v = UnknownAt(n.Off, fmt.Sprintf("`%s`", exprText(n)))
			break
		}
		at := v.Attrs.Get(name)
		if at == nil {
			if n.def != nil {
				return ev.Eval(n.def, e)
			}
			return UnknownAt(n.Off, fmt.Sprintf("`%s` (attribute `%s` missing)", exprText(n), name))
		}
		v = ev.AttrValue(at)
		_ = i
	}
	if v.Kind == KindUnknown && n.def != nil {
		return UnknownAt(n.Off, fmt.Sprintf("`%s`", exprText(n)))
	}
	return v
}

func (ev *Evaluator) binop(n *Binop, e *Env) *Value {
	switch n.Op {
	case "&&", "||", "==", "!=":
		if v := ev.logic(n, e); v != nil {
			return v
		}
	case "++":
		// a ++ b ++ c is a ++ (b ++ c): the chain is concatenated at once,
		// each item copied once (not once per ++ to its left).
		var sides []*Value
		var x Node = n
		for {
			b, ok := x.(*Binop)
			if !ok || b.Op != "++" {
				sides = append(sides, ev.Eval(x, e))
				break
			}
			sides = append(sides, ev.Eval(b.L, e))
			x = b.R
		}
		total := 0
		for _, side := range sides {
			total += ListLen(side)
		}
		if v := ev.grow(n.Off, total); v != nil {
			return v
		}
		out := &Value{Kind: KindList, Off: n.L.offset(), Items: make([]*Lazy, 0, total)}
		for _, side := range sides {
			if side.Kind == KindList {
				for _, it := range ev.Src.List(side) {
					out.Items = append(out.Items, ev.condLazy(it, side.Conds))
				}
				continue
			}
			u := *side
			if u.Kind != KindUnknown {
				u = Value{Kind: KindUnknown, Off: side.Off, Why: side.Kind.String() + " where a list was expected"}
			}
			u.Splice = true
			out.Items = append(out.Items, Known(&u))
		}
		return out
	case "//":
		l, r := ev.Eval(n.L, e), ev.Eval(n.R, e)
		if l.Kind != KindAttrs || r.Kind != KindAttrs {
			return UnknownAt(n.Off, "an update (//) of "+describe(l, r))
		}
		out := &Value{Kind: KindAttrs, Off: n.L.offset(), Attrs: NewAttrs()}
		out.Attrs.Unknown = append(append(out.Attrs.Unknown, l.Attrs.Unknown...), r.Attrs.Unknown...)
		for _, side := range []*Value{l, r} {
			for _, name := range side.Attrs.Keys {
				at := side.Attrs.ByName[name]
				if old := out.Attrs.Get(name); old != nil {
					old.Defs = at.Defs // right side wins
					continue
				}
				out.Attrs.Add(name, at.Off, nil).Defs = at.Defs
			}
		}
		return out
	case "+":
		l, r := ev.Eval(n.L, e), ev.Eval(n.R, e)
		if l.Kind == KindString && r.Kind == KindString {
			if len(l.Str)+len(r.Str) > maxString {
				return tooLong(n.Off)
			}
			return &Value{Kind: KindString, Off: n.L.offset(), Str: l.Str + r.Str}
		}
		for _, v := range []*Value{l, r} {
			if v.Why == tooLong(0).Why {
				return v // say what is wrong, not how it was built
			}
		}
		u := UnknownAt(n.Off, "a sum (+) of "+describe(l, r))
		if l.Kind == KindString || r.Kind == KindString || l.Text != "" || r.Text != "" {
			// "/nix/persist/" + name: the known part may start a path.
			var p partial
			p.add(l)
			p.add(r)
			if p.b.Len() <= maxString {
				u.Text = p.b.String()
			}
		}
		return u
	}
	return UnknownAt(n.Off, fmt.Sprintf("an expression with `%s`", n.Op))
}

// describe names the kinds of vs for a diagnostic ("a list and an
// attribute set"), an unknown by why it is unknown. Each part is cut at
// maxWhy bytes: an unknown built from unknowns (`a = b + b; b = c + c; …`)
// would otherwise carry a reason that doubles at every step.
func describe(vs ...*Value) string {
	var parts []string
	for _, v := range vs {
		p := v.Kind.String()
		if v.Kind == KindUnknown {
			p = v.Why
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
func exprText(n Node) string {
	switch n := n.(type) {
	case *Ident:
		return n.Name
	case *nSelect:
		var b strings.Builder
		b.WriteString(exprText(n.e))
		for _, k := range n.path {
			b.WriteByte('.')
			if k.dyn != nil {
				b.WriteString("${…}")
			} else {
				b.WriteString(AttrName(k.Name))
			}
		}
		return b.String()
	case *nApp:
		return "(" + exprText(n.Fn) + " …)"
	case *nStr:
		return strText(n)
	}
	return "(…)"
}

// AttrName quotes an attribute name when it is not a plain identifier.
func AttrName(s string) string {
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

// logic folds the boolean operators on what is known (a condition such as
// `lib.mkIf (cfg.enable && false)` or `lib.mkIf (x == "a")`): && is false
// when either side is false and true when both are true, || the other way
// round; == and != compare two known booleans, nulls, strings or numbers
// (of one kind; values of two kinds are never equal). nil when not known.
func (ev *Evaluator) logic(n *Binop, e *Env) *Value {
	l, r := ev.Eval(n.L, e), ev.Eval(n.R, e)
	known := func(b bool) *Value { return &Value{Kind: KindBool, Off: n.Off, Bool: b} }
	isBool := func(v *Value, b bool) bool { return v.Kind == KindBool && v.Bool == b }
	switch n.Op {
	case "&&":
		switch {
		case isBool(l, false) || isBool(r, false):
			return known(false)
		case isBool(l, true) && isBool(r, true):
			return known(true)
		}
		return nil
	case "||":
		switch {
		case isBool(l, true) || isBool(r, true):
			return known(true)
		case isBool(l, false) && isBool(r, false):
			return known(false)
		}
		return nil
	}
	for _, side := range []Node{n.L, n.R} {
		if s, ok := side.(*nStr); ok && s.isPath {
			return nil // a path is never equal to a string; the reader makes both strings
		}
	}
	eq, ok := equal(l, r)
	if !ok {
		return nil
	}
	return known(eq == (n.Op == "=="))
}

// equal compares two known scalars (booleans, nulls, strings, numbers);
// ok false when either is anything else.
func equal(l, r *Value) (eq, ok bool) {
	scalar := func(v *Value) bool {
		switch v.Kind {
		case KindBool, KindNull, KindString, KindNumber:
			return true
		}
		return false
	}
	if !scalar(l) || !scalar(r) {
		return false, false
	}
	if l.Kind != r.Kind {
		return false, true
	}
	switch l.Kind {
	case KindBool:
		return l.Bool == r.Bool, true
	case KindNull:
		return true, true
	case KindNumber:
		a, errA := strconv.ParseFloat(l.Str, 64)
		b, errB := strconv.ParseFloat(r.Str, 64)
		if errA != nil || errB != nil {
			return false, false
		}
		return a == b, true
	}
	return l.Str == r.Str, true
}
