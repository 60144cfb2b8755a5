package nix

import (
	"strconv"
	"strings"
)

// The rules of this file are Nix's own parser's (addAttr and the inherit
// and formals rules of parser.y), checked form by form against
// `nix-instantiate --parse` (TestDuplicatesAgreeWithNix): Nix rejects a
// file that defines one attribute twice before it evaluates anything, so
// the static reader must too, or drift lint passes a configuration
// nixos-rebuild cannot build.
//
// Nix adds a set's bindings (and inherited names) in source order. A path
// a.b.c = v walks a and b, making a set for each that is not defined yet;
// one defined by a value that is not an attribute set expression ({ … },
// rec { … }) is a duplicate. The last name may be defined again only when
// both its values are attribute set expressions: their names are merged,
// one level deep, and a name in both is a duplicate. An inherited name is
// never a set. A dynamic name (${e} other than ${"literal"}, or "${e}")
// is only known when evaluated: Nix checks none.

// dupSet is what the parser knows of one attribute set expression while
// its bindings are added: its static names in the order defined.
type dupSet struct {
	names map[string]*dupAttr
	order []string
}

// dupAttr is one name of a dupSet: the offset of its first definition
// and, when its value is an attribute set expression, that set's names.
type dupAttr struct {
	off int
	sub *dupSet
}

func (s *dupSet) get(name string) *dupAttr { return s.names[name] }

func (s *dupSet) add(name string, a *dupAttr) {
	if s.names == nil {
		s.names = make(map[string]*dupAttr)
	}
	s.names[name] = a
	s.order = append(s.order, name)
}

// checkDuplicates fails at the first attribute of root defined twice, or
// name inherited dynamically, the way Nix's parser does. It walks root
// with its own stack (an AST is as deep as `a + b + …` is long); only
// attribute sets nested as values recurse, at most MaxDepth deep.
func (p *parser) checkDuplicates(root Node) {
	p.walk(root)
}

// walk checks every attribute set and let below n.
func (p *parser) walk(n Node) {
	base := len(p.stack)
	child := func(c Node, _ bool) { p.push(c) }
	p.push(n)
	for len(p.stack) > base {
		n := p.stack[len(p.stack)-1]
		p.stack = p.stack[:len(p.stack)-1]
		p.lx.Src.Tick()
		switch n := n.(type) {
		case *nAttrs:
			p.setOf(n)
		case *nLet:
			p.addAll(&dupSet{}, n.binds, n.inherits)
			children(n, child)
		default:
			children(n, child)
		}
	}
}

func (p *parser) push(n Node) {
	if n != nil {
		p.stack = append(p.stack, n)
	}
}

// setOf checks the set expression a and returns its names.
func (p *parser) setOf(a *nAttrs) *dupSet {
	s := &dupSet{}
	p.addAll(s, a.binds, a.inherits)
	return s
}

// valueSet checks v and returns its names when it is an attribute set
// expression (a legacy `let { … }` is its body, not a set), else nil.
func (p *parser) valueSet(v Node) *dupSet {
	if a, ok := v.(*nAttrs); ok && !a.legacyLet {
		return p.setOf(a)
	}
	p.walk(v)
	return nil
}

// addAll adds binds and inherits to s in source order.
func (p *parser) addAll(s *dupSet, binds []binding, inherits []inherit) {
	i, j := 0, 0
	for i < len(binds) || j < len(inherits) {
		if j == len(inherits) || i < len(binds) && binds[i].Off < inherits[j].Off {
			p.addBinding(s, binds[i])
			i++
			continue
		}
		in := inherits[j]
		j++
		if in.from != nil {
			p.walk(in.from)
		}
		for _, k := range in.names {
			if k.dyn != nil {
				p.fail(k.Off, "dynamic attributes not allowed in inherit")
			}
			if prev := s.get(k.Name); prev != nil {
				p.dupFail(k.Off, []attrKey{k}, prev.off)
			}
			s.add(k.Name, &dupAttr{off: k.Off})
		}
	}
}

// addBinding adds b to s as Nix's addAttr does.
func (p *parser) addBinding(s *dupSet, b binding) {
	for _, k := range b.path {
		if k.dyn != nil {
			p.walk(k.dyn)
		}
	}
	sub := p.valueSet(b.val)
	last := len(b.path) - 1
	for i, k := range b.path[:last] {
		if k.dyn != nil {
			s = &dupSet{}
			continue
		}
		at := s.get(k.Name)
		if at == nil {
			at = &dupAttr{off: b.Off, sub: &dupSet{}}
			s.add(k.Name, at)
		} else if at.sub == nil {
			p.dupFail(b.Off, b.path[:i+1], at.off)
		}
		s = at.sub
	}
	k := b.path[last]
	if k.dyn != nil {
		return
	}
	at := s.get(k.Name)
	if at == nil {
		s.add(k.Name, &dupAttr{off: b.Off, sub: sub})
		return
	}
	if at.sub == nil || sub == nil {
		p.dupFail(b.Off, b.path, at.off)
	}
	for _, name := range sub.order {
		a := sub.names[name]
		if prev := at.sub.get(name); prev != nil {
			p.dupFail(a.off, []attrKey{{Name: name}}, prev.off)
		}
		at.sub.add(name, a)
	}
}

// dupFail fails at off: the attribute path was defined at prev already.
func (p *parser) dupFail(off int, path []attrKey, prev int) {
	names := make([]string, len(path))
	for i, k := range path {
		names[i] = attrText(k.Name)
	}
	pos := p.lx.Src.Pos(prev)
	p.fail(off, "attribute '%s' already defined at line %d, column %d (Nix allows one definition of a name in a set, unless both are attribute sets { … })",
		strings.Join(names, "."), pos.Line, pos.Col)
}

// attrText is name as written in an attribute path: quoted unless it is
// an identifier.
func attrText(name string) string {
	for i, c := range name {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' ||
			i > 0 && (c >= '0' && c <= '9' || c == '\'' || c == '-')) {
			return strconv.Quote(name)
		}
	}
	if name == "" {
		return `""`
	}
	return name
}

// checkFormals fails at a parameter named twice in f's header, or named
// as the whole argument (x@{ x, … }), as Nix's parser does.
func (p *parser) checkFormals(f *nFunc) {
	seen := make(map[string]bool, len(f.formals)+1)
	if f.param != "" {
		seen[f.param] = true
	}
	for _, fm := range f.formals {
		if seen[fm.Name] {
			p.fail(fm.Off, "duplicate formal function argument '%s'", fm.Name)
		}
		seen[fm.Name] = true
	}
}
