package nix

// Literals calls visit with the text of every literal part of every string
// and path literal in the AST root, evaluated or not: a plain string, the
// literal parts of an interpolated one ("${x}/a" gives "/a"), an indented
// string's text, a path literal, an `or` default, a function's default
// argument, a string attribute name ("/srv/www" in fileSystems."/srv/www").
// off is the literal's offset in src. A binding is left out, its name and
// value, when skip(names) is true, names being the binding's attribute
// path preceded by the last name of the binding it is nested in ("" at the
// top, and in a let): { environment.persistence… } gives ["",
// "environment", "persistence", …], { environment = { persistence = … }; }
// gives ["environment", "persistence"] for the inner binding. The walk
// keeps its own stack: an AST as deep as the input is long (`f f f … x`,
// `a ++ b ++ …`) costs no goroutine stack.
//
// isPath tells a path literal's text (./backup.sh, /etc/x) from a string's.
func Literals(src *Source, root Node, skip func(names []string) bool, visit func(off int, text string, isPath bool)) {
	type item struct {
		n    Node
		last string
	}
	stack := []item{{root, ""}}
	push := func(n Node, last string) {
		if n != nil {
			stack = append(stack, item{n, last})
		}
	}
	// child pushes a child of the node popped, with the node's last name
	// (popped) when the node's value may be the child's.
	var popped string
	child := func(c Node, tail bool) {
		if tail {
			push(c, popped)
		} else {
			push(c, "")
		}
	}
	var names []string
	binds := func(bs []binding, inh []inherit, last string) {
		for _, b := range bs {
			names = append(names[:0], last)
			for _, k := range b.path {
				names = append(names, k.Name)
			}
			if skip(names) {
				continue
			}
			for _, k := range b.path {
				if k.dyn != nil {
					push(k.dyn, "")
				} else if k.Name != "" {
					visit(k.Off, k.Name, false)
				}
			}
			push(b.val, names[len(names)-1])
		}
		for _, in := range inh {
			push(in.from, "")
		}
	}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		src.Tick()
		popped = it.last
		switch n := it.n.(type) {
		case *nStr:
			for _, pt := range n.parts {
				if pt.expr != nil {
					push(pt.expr, "")
				} else {
					visit(n.Off, pt.lit, n.isPath)
				}
			}
		case *nList:
			for _, a := range n.Items {
				if a >= 0 {
					visit(int(a), src.Literal(a), false)
				} else {
					push(n.nodes[-1-a], it.last)
				}
			}
		case *nAttrs:
			binds(n.binds, n.inherits, it.last)
		case *nLet:
			binds(n.binds, n.inherits, "")
			children(n, child)
		default:
			children(n, child)
		}
	}
}
