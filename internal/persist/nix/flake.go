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
// ++), in source order: what nixos-rebuild evaluates for a host of the
// flake (nixpkgs.lib.nixosSystem { modules = [ … ]; }). It reads the
// syntax alone: which host a machine is, and a list built by a function,
// are not known (an item that is neither a path literal, an input's
// module nor a module in place is listed with all fields but Off empty).
// The walk keeps its own stack, as Literals does.
func ModuleItems(src *Source, root Node) []ModuleItem {
	var out []ModuleItem
	walkBindings(src, root, func(b binding) bool {
		if k := b.path[len(b.path)-1]; k.dyn == nil && (k.Name == "modules" || k.Name == "imports") {
			out = append(out, moduleList(src, b.val)...)
		}
		return true
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Off < out[j].Off })
	return out
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
	walkBindings(src, root, func(b binding) bool {
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
	walkBindings(src, v, func(b binding) bool {
		if k := b.path[len(b.path)-1]; k.dyn == nil && k.Name == "modules" {
			found = true
		}
		return !found
	})
	return found
}

// walkBindings calls visit with every binding of an attribute set or let
// in the AST root, descending into its value when visit returns true. The
// walk keeps its own stack, as Literals does.
func walkBindings(src *Source, root Node, visit func(binding) bool) {
	stack := []Node{root}
	push := func(n Node) {
		if n != nil {
			stack = append(stack, n)
		}
	}
	binds := func(bs []binding, ins []inherit) {
		for _, b := range bs {
			if visit(b) {
				push(b.val)
			}
		}
		for _, in := range ins {
			push(in.from)
		}
	}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		src.Tick()
		switch n := n.(type) {
		case *nList:
			for _, it := range n.nodes {
				push(it)
			}
		case *nAttrs:
			binds(n.binds, n.inherits)
		case *nLet:
			binds(n.binds, n.inherits)
			push(n.body)
		case *nWith:
			push(n.Env)
			push(n.body)
		case *nAssert:
			push(n.body)
		case *nIf:
			push(n.then)
			push(n.elseOf)
		case *nFunc:
			push(n.body)
		case *nApp:
			push(n.Fn)
			push(n.arg)
		case *nSelect:
			push(n.e)
			push(n.def)
		case *Binop:
			push(n.L)
			push(n.R)
		}
	}
}

// moduleList is the items of the list v (lists joined by ++ too); any
// other value is one item that is not known.
func moduleList(src *Source, v Node) []ModuleItem {
	switch n := v.(type) {
	case *Binop:
		if n.Op == "++" {
			return append(moduleList(src, n.L), moduleList(src, n.R)...)
		}
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
