package nix

import (
	"slices"
	"sort"
	"strings"
)

// ModuleItem is one item of a `modules = [ … ];` (nixosSystem's argument)
// or `imports = [ … ];` list of a flake.nix, as written.
type ModuleItem struct {
	// Off is where the item starts.
	Off int
	// Path is the text of a path literal (./machine-extra.nix), "" for
	// any other item.
	Path string
	// Input is, for an item that selects a module a flake input exports
	// (impermanence.nixosModules.impermanence, inputs.x.nixosModules.y),
	// that selection as written; "" otherwise (self.nixosModules.x is the
	// flake's own: not an input's).
	Input string
	// Inline marks a module written in place: an attribute set or a
	// function (its text is the flake.nix's own).
	Inline bool
}

// ModuleItems lists the items of every list bound to a name `modules` or
// `imports` anywhere in the flake.nix AST root (a list, or lists joined by
// ++; a variable bound by let or rec to one, as Nix's scoping rules
// resolve it: modules = mods with let mods = [ ./a.nix ]; in …), in
// source order, each once: what nixos-rebuild evaluates for a host of the
// flake (nixpkgs.lib.nixosSystem { modules = [ … ]; }). It reads the
// syntax alone: which host a machine is, and a list built by a function
// or bound where its value is not known (a function's argument), are not
// known (an item that is neither a path literal, an input's module nor a
// module in place is listed with all fields but Off empty). The walk
// keeps its own stack, as Literals does.
func ModuleItems(src *Source, root Node) []ModuleItem {
	var out []ModuleItem
	r := resolver{src: src, state: map[Node]int8{}}
	walkBindings(src, root, func(b binding, sc *scope) bool {
		if k := b.path[len(b.path)-1]; k.dyn == nil && (k.Name == "modules" || k.Name == "imports") {
			out = append(out, r.moduleList(b.val, sc, 0)...)
		}
		return true
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Off < out[j].Off })
	// A list bound once and named by two hosts is read once.
	return slices.CompactFunc(out, func(a, b ModuleItem) bool { return a.Off == b.Off })
}

// UnlistedHost is a host of a flake.nix whose value lists no modules
// (UnlistedHosts).
type UnlistedHost struct {
	// Off is where the host's value starts.
	Off int
	// Name is the host's name as written ("" when nixosConfigurations is
	// bound to one value, not an attribute set of hosts).
	Name string
}

// UnlistedHosts lists, in source order, the hosts of the flake.nix AST
// root (the values bound under a name nixosConfigurations:
// nixosConfigurations.desk = …, nixosConfigurations = { desk = …; }, or
// nixosConfigurations = … as one value) in whose text no `modules` list
// is bound: what they evaluate is built elsewhere (mylib.mkHost "desk", a
// flake input's function), so ModuleItems does not list it.
func UnlistedHosts(src *Source, root Node) []UnlistedHost {
	var out []UnlistedHost
	host := func(name string, v Node) {
		if v != nil && !bindsModules(src, v) {
			out = append(out, UnlistedHost{Off: v.offset(), Name: name})
		}
	}
	walkBindings(src, root, func(b binding, _ *scope) bool {
		i := slices.IndexFunc(b.path, func(k attrKey) bool { return k.dyn == nil && k.Name == "nixosConfigurations" })
		switch {
		case i < 0:
			return true
		case i < len(b.path)-1:
			host(strings.Join(keyNames(b.path[i+1:]), "."), b.val)
		default:
			if a, ok := b.val.(*nAttrs); ok && !a.legacyLet {
				for _, hb := range a.binds {
					host(strings.Join(keyNames(hb.path), "."), hb.val)
				}
			} else {
				host("", b.val)
			}
		}
		return false
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Off < out[j].Off })
	return out
}

// bindsModules reports whether a binding named modules lies in v's text.
func bindsModules(src *Source, v Node) bool {
	found := false
	walkBindings(src, v, func(b binding, _ *scope) bool {
		if k := b.path[len(b.path)-1]; k.dyn == nil && k.Name == "modules" {
			found = true
		}
		return !found
	})
	return found
}

// walkBindings calls visit with every binding of an attribute set or let
// in the AST root, and the scope its value is evaluated in (nil at the
// top), descending into its value when visit returns true. The walk keeps
// its own stack, as Literals does.
func walkBindings(src *Source, root Node, visit func(binding, *scope) bool) {
	type item struct {
		n  Node
		sc *scope
	}
	stack := []item{{root, nil}}
	push := func(n Node, sc *scope) {
		if n != nil {
			stack = append(stack, item{n, sc})
		}
	}
	binds := func(bs []binding, ins []inherit, sc *scope) {
		for _, b := range bs {
			if visit(b, sc) {
				push(b.val, sc)
			}
		}
		for _, in := range ins {
			push(in.from, sc)
		}
	}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		src.Tick()
		switch n := it.n.(type) {
		case *nList:
			for _, e := range n.nodes {
				push(e, it.sc)
			}
		case *nAttrs:
			sc := it.sc
			if n.rec || n.legacyLet {
				sc = bindScope(n.binds, n.inherits, sc)
			}
			binds(n.binds, n.inherits, sc)
		case *nLet:
			sc := bindScope(n.binds, n.inherits, it.sc)
			binds(n.binds, n.inherits, sc)
			push(n.body, sc)
		case *nWith:
			// with's names never hide a lexical one: no scope.
			push(n.Env, it.sc)
			push(n.body, it.sc)
		case *nAssert:
			push(n.body, it.sc)
		case *nIf:
			push(n.then, it.sc)
			push(n.elseOf, it.sc)
		case *nFunc:
			push(n.body, funcScope(n, it.sc))
		case *nApp:
			push(n.Fn, it.sc)
			push(n.arg, it.sc)
		case *nSelect:
			push(n.e, it.sc)
			push(n.def, it.sc)
		case *Binop:
			push(n.L, it.sc)
			push(n.R, it.sc)
		}
	}
}

// scope is the names bound lexically around a node (by let, rec, a legacy
// let { … }, a function's arguments), innermost first: Nix resolves a
// variable to the innermost, and with never hides one.
type scope struct {
	// vals is each name's value, evaluated in this scope; nil when what
	// it is bound to is not known (a function's argument, inherit,
	// a.b = …).
	vals   map[string]Node
	parent *scope
}

// bindScope is the scope the bindings bs and inherits ins of a let or
// rec set open inside parent.
func bindScope(bs []binding, ins []inherit, parent *scope) *scope {
	sc := &scope{vals: map[string]Node{}, parent: parent}
	for _, b := range bs {
		k := b.path[0]
		if k.dyn != nil {
			continue // not a name Nix can bind lexically
		}
		_, twice := sc.vals[k.Name]
		if len(b.path) == 1 && !twice {
			sc.vals[k.Name] = b.val
		} else {
			sc.vals[k.Name] = nil
		}
	}
	for _, in := range ins {
		for _, k := range in.names {
			if k.dyn == nil {
				sc.vals[k.Name] = nil
			}
		}
	}
	return sc
}

// funcScope is the scope the function f's arguments open inside parent.
func funcScope(f *nFunc, parent *scope) *scope {
	sc := &scope{vals: map[string]Node{}, parent: parent}
	if f.param != "" {
		sc.vals[f.param] = nil
	}
	for _, fm := range f.formals {
		sc.vals[fm.Name] = nil
	}
	return sc
}

// lookup is the value the variable name is bound to in sc, with the
// scope it is evaluated in; ok is false when it is not bound lexically
// (a with's name, a builtin) or bound to what is not known.
func (sc *scope) lookup(name string) (v Node, in *scope, ok bool) {
	for ; sc != nil; sc = sc.parent {
		if v, bound := sc.vals[name]; bound {
			return v, sc, v != nil
		}
	}
	return nil, nil, false
}

// maxResolve bounds how many variables moduleList follows in a row
// (let a = b; b = c; …): past it, the variable is an item not known.
const maxResolve = 16

// resolver follows the variables of modules lists (moduleList): the value
// each names is read once (state: 1 while its items are read, 2 after),
// so that lists doubled through variables (a = b ++ b; b = c ++ c; …)
// cost their text, not 2^depth.
type resolver struct {
	src   *Source
	state map[Node]int8
}

// moduleList is the items of the list v (lists joined by ++ too; a
// variable sc binds to a list, depth variables followed already, read the
// first time only: its items are listed then); any other value, and a
// variable whose value refers back to itself (Nix's infinite recursion),
// is one item that is not known.
func (r *resolver) moduleList(v Node, sc *scope, depth int) []ModuleItem {
	r.src.Tick()
	switch n := v.(type) {
	case *Binop:
		if n.Op == "++" {
			return append(r.moduleList(n.L, sc, depth), r.moduleList(n.R, sc, depth)...)
		}
	case *Ident:
		val, in, ok := sc.lookup(n.Name)
		if !ok || depth >= maxResolve || r.state[val] == 1 {
			break
		}
		if r.state[val] == 2 {
			return nil
		}
		r.state[val] = 1
		out := r.moduleList(val, in, depth+1)
		r.state[val] = 2
		return out
	case *nList:
		var out []ModuleItem
		for _, a := range n.Items {
			if a >= 0 {
				out = append(out, ModuleItem{Off: int(a)}) // a string: not a module
				continue
			}
			out = append(out, moduleItem(n.nodes[-1-a]))
		}
		return out
	}
	return []ModuleItem{{Off: v.offset()}}
}

func moduleItem(n Node) ModuleItem {
	it := ModuleItem{Off: n.offset()}
	switch n := n.(type) {
	case *nStr:
		if lit, ok := literalString(n); ok && n.isPath {
			it.Path = lit
		}
	case *nAttrs:
		it.Inline = !n.legacyLet
	case *nFunc:
		it.Inline = true
	case *nSelect:
		var names []string
		e := n.e
		for {
			s, ok := e.(*nSelect)
			if !ok {
				break
			}
			e = s.e
			names = append(keyNames(s.path), names...)
		}
		id, ok := e.(*Ident)
		names = append(names, keyNames(n.path)...)
		for _, k := range names {
			if ok && id.Name != "self" && n.def == nil && (k == "nixosModules" || k == "nixosModule") {
				it.Input = id.Name + "." + strings.Join(names, ".")
			}
		}
	}
	return it
}

func keyNames(path []attrKey) []string {
	out := make([]string, len(path))
	for i, k := range path {
		out[i] = k.Name
		if k.dyn != nil {
			out[i] = "${…}"
		}
	}
	return out
}
