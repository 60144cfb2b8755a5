package persist

import (
	"fmt"
	"strings"
)

// parser is a recursive-descent parser for Nix expressions. It builds the
// whole AST (so a syntax error anywhere in a file is reported), with nesting
// capped at maxDepth. p.tok is the current token; the lexer's offset is
// always just past it, which lets string bodies be read straight from the
// source.
type parser struct {
	lx    lexer
	tok   token
	depth int
}

// bailout carries a syntax error up the parser's stack; parseNixSource
// recovers it. Nothing else panics.
type bailout struct{ err error }

func parseNixSource(src *source) (root node, err error) {
	p := &parser{lx: lexer{src: src, data: src.data}}
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r) // cancelled goes on to ParseNix
			}
			root, err = nil, b.err
		}
	}()
	p.advance()
	root = p.expr()
	if p.tok.kind != tEOF {
		p.fail(p.tok.off, "expected end of file after the expression, found %s", p.tok)
	}
	return root, nil
}

func (p *parser) fail(off int, format string, a ...any) {
	panic(bailout{&syntaxError{p.lx.src, off, fmt.Sprintf(format, a...)}})
}

func (p *parser) advance() {
	p.lx.src.tick()
	t, err := p.lx.next()
	if err != nil {
		panic(bailout{err})
	}
	p.tok = t
}

func (p *parser) is(text string) bool {
	return (p.tok.kind == tPunct || p.tok.kind == tKeyword) && p.tok.text == text
}

func (p *parser) expect(text, context string) token {
	if !p.is(text) {
		p.fail(p.tok.off, "expected '%s' %s, found %s", text, context, p.tok)
	}
	t := p.tok
	p.advance()
	return t
}

// peek returns the tokens after the current one without consuming them.
func (p *parser) peek(n int) []token {
	save := p.lx.off
	defer func() { p.lx.off = save }()
	var out []token
	for range n {
		t, err := p.lx.next()
		if err != nil {
			break
		}
		out = append(out, t)
		if t.kind == tEOF || t.kind == tDQuote || t.kind == tIndQuote {
			break
		}
	}
	return out
}

func tokIs(ts []token, i int, text string) bool {
	return i < len(ts) && (ts[i].kind == tPunct || ts[i].kind == tKeyword) && ts[i].text == text
}

func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		p.fail(p.tok.off, "expression nested deeper than %d levels", maxDepth)
	}
}

func (p *parser) leave() { p.depth-- }

// expr parses a full expression: function, assert, with, let, if, or an
// operator expression.
func (p *parser) expr() node {
	p.enter()
	defer p.leave()
	t := p.tok
	switch {
	case t.kind == tID:
		next := p.peek(1)
		if tokIs(next, 0, ":") {
			p.advance()
			p.advance()
			return &nFunc{off: t.off, param: t.text, body: p.expr()}
		}
		if tokIs(next, 0, "@") {
			p.advance()
			p.advance()
			if !p.is("{") {
				p.fail(p.tok.off, "expected '{' after '@' in a function header, found %s", p.tok)
			}
			f := p.formals(t.off)
			f.param = t.text
			p.expect(":", "after the function header")
			f.body = p.expr()
			return f
		}
	case p.is("{") && p.isFormals():
		f := p.formals(t.off)
		if p.is("@") {
			p.advance()
			if p.tok.kind != tID {
				p.fail(p.tok.off, "expected an identifier after '@', found %s", p.tok)
			}
			f.param = p.tok.text
			p.advance()
		}
		p.expect(":", "after the function header")
		f.body = p.expr()
		return f
	case p.is("assert"):
		p.advance()
		c := p.expr()
		p.expect(";", "after the assert condition")
		return &nAssert{off: t.off, cond: c, body: p.expr()}
	case p.is("with"):
		p.advance()
		e := p.expr()
		p.expect(";", "after the with expression")
		return &nWith{off: t.off, env: e, body: p.expr()}
	case p.is("let"):
		if next := p.peek(1); tokIs(next, 0, "{") {
			// legacy `let { … body = …; }`
			p.advance()
			a := p.attrsBody(t.off, true)
			return a
		}
		p.advance()
		l := &nLet{off: t.off}
		l.binds, l.inherits = p.binds("in")
		p.expect("in", "after the let bindings")
		l.body = p.expr()
		return l
	case p.is("if"):
		p.advance()
		c := p.expr()
		p.expect("then", "after the if condition")
		th := p.expr()
		p.expect("else", "after the then branch")
		return &nIf{off: t.off, cond: c, then: th, elseOf: p.expr()}
	}
	return p.binary(0)
}

// isFormals decides, at '{', whether a function header `{ a, b ? 1, ... }:`
// follows rather than an attribute set.
func (p *parser) isFormals() bool {
	ts := p.peek(3)
	switch {
	case tokIs(ts, 0, "}"):
		return tokIs(ts, 1, ":") || tokIs(ts, 1, "@")
	case tokIs(ts, 0, "..."):
		return true
	case len(ts) > 0 && ts[0].kind == tID:
		return tokIs(ts, 1, ",") || tokIs(ts, 1, "?") ||
			tokIs(ts, 1, "}") && (tokIs(ts, 2, ":") || tokIs(ts, 2, "@"))
	}
	return false
}

func (p *parser) formals(off int) *nFunc {
	f := &nFunc{off: off, hasSet: true}
	p.expect("{", "to open the function header")
	for !p.is("}") {
		if p.is("...") {
			p.advance()
		} else {
			if p.tok.kind != tID {
				p.fail(p.tok.off, "expected a parameter name, '...' or '}' in the function header, found %s", p.tok)
			}
			fm := formal{name: p.tok.text}
			p.advance()
			if p.is("?") {
				p.advance()
				fm.def = p.expr()
			}
			f.formals = append(f.formals, fm)
		}
		if p.is(",") {
			p.advance()
			continue
		}
		if !p.is("}") {
			p.fail(p.tok.off, "expected ',' or '}' in the function header, found %s", p.tok)
		}
	}
	p.advance()
	return f
}

// binary operators: binding power and right associativity.
var binops = map[string]struct {
	bp    int
	right bool
}{
	"|>": {1, false}, "<|": {1, true},
	"->": {2, true},
	"||": {3, false},
	"&&": {4, false},
	"==": {5, false}, "!=": {5, false},
	"<": {6, false}, "<=": {6, false}, ">": {6, false}, ">=": {6, false},
	"//": {7, true},
	"+":  {9, false}, "-": {9, false},
	"*": {10, false}, "/": {10, false},
	"++": {11, true},
	"?":  {12, false},
}

const (
	bpNot = 8
	bpNeg = 13
)

func (p *parser) binary(min int) node {
	p.enter()
	defer p.leave()
	var left node
	switch t := p.tok; {
	case p.is("!"):
		p.advance()
		left = &nUnary{off: t.off, op: "!", e: p.binary(bpNot)}
	case p.is("-"):
		p.advance()
		left = &nUnary{off: t.off, op: "-", e: p.binary(bpNeg)}
	default:
		left = p.app()
	}
	for p.tok.kind == tPunct {
		op, ok := binops[p.tok.text]
		if !ok || op.bp < min {
			break
		}
		t := p.tok
		p.advance()
		if t.text == "?" {
			left = &nHasAttr{off: left.offset(), e: left, path: p.attrPath()}
			continue
		}
		next := op.bp + 1
		if op.right {
			next = op.bp
		}
		left = &nBinop{off: t.off, op: t.text, l: left, r: p.binary(next)}
	}
	return left
}

// startsPrimary reports whether the current token can begin an argument of
// a function application.
func (p *parser) startsPrimary() bool {
	switch p.tok.kind {
	case tID:
		return p.tok.text != "or"
	case tInt, tFloat, tPath, tSPath, tHPath, tURI, tDQuote, tIndQuote:
		return true
	case tPunct:
		return p.tok.text == "{" || p.tok.text == "[" || p.tok.text == "("
	case tKeyword:
		return p.tok.text == "rec" || p.tok.text == "let" && tokIs(p.peek(1), 0, "{")
	}
	return false
}

func (p *parser) app() node {
	fn := p.selectExpr()
	for p.startsPrimary() {
		arg := p.selectExpr()
		fn = &nApp{off: fn.offset(), fn: fn, arg: arg}
	}
	return fn
}

// listItem parses one item of l. A plain string literal (not selected
// from) is kept as its offset alone; any other item is a node, parsed by
// selectExpr.
func (p *parser) listItem(l *nList) {
	t := p.tok
	if t.kind == tDQuote && p.depth < maxDepth {
		if end := plainString(p.lx.data, p.lx.off); end >= 0 {
			p.lx.off = end + 1
			p.advance()
			if !p.is(".") {
				l.items = appendDoubling(l.items, int32(t.off))
				return
			}
			p.enter()
			defer p.leave()
			e := p.selectRest(&nStr{off: t.off, parts: litParts(p.lx.src.text[t.off+1 : end])})
			l.items = appendDoubling(l.items, int32(-1-len(l.nodes)))
			l.nodes = append(l.nodes, e)
			return
		}
	}
	l.items = appendDoubling(l.items, int32(-1-len(l.nodes)))
	l.nodes = append(l.nodes, p.selectExpr())
}

// plainString returns the offset of the closing '"' of the string whose
// body starts at i when the body has no escape and no interpolation (its
// value is its text, read as dqString reads it), else -1.
func plainString(d []byte, i int) int {
	for ; i < len(d); i++ {
		switch d[i] {
		case '"':
			return i
		case '\\':
			return -1
		case '$':
			if i+1 < len(d) && d[i+1] == '{' {
				return -1
			}
			if i+1 < len(d) && d[i+1] == '$' {
				i++
			}
		}
	}
	return -1 // unterminated: dqString reports it
}

// litParts are the parts of a string literal whose value is lit.
func litParts(lit string) []strPart {
	if lit == "" {
		return nil
	}
	return []strPart{{lit: lit}}
}

func (p *parser) selectExpr() node {
	p.enter()
	defer p.leave()
	return p.selectRest(p.primary())
}

// selectRest parses what follows e in a select expression: .a.b and `or`.
func (p *parser) selectRest(e node) node {
	if p.is(".") {
		p.advance()
		s := &nSelect{off: e.offset(), e: e, path: p.attrPath()}
		if p.tok.kind == tID && p.tok.text == "or" {
			p.advance()
			s.def = p.selectExpr()
		}
		return s
	}
	return e
}

// attrPath parses a.b."c".${d}.
func (p *parser) attrPath() []attrKey {
	var path []attrKey
	for {
		if len(path) == maxDepth {
			p.fail(p.tok.off, "attribute path longer than %d components", maxDepth)
		}
		path = append(path, p.attrName())
		if !p.is(".") {
			return path
		}
		p.advance()
	}
}

func (p *parser) attrName() attrKey {
	t := p.tok
	switch t.kind {
	case tID, tKeyword:
		p.advance()
		return attrKey{off: t.off, name: t.text}
	case tDQuote:
		s := p.dqString()
		if lit, ok := literalString(s); ok {
			return attrKey{off: t.off, name: lit}
		}
		return attrKey{off: t.off, dyn: s}
	case tDollarBrace:
		p.advance()
		e := p.expr()
		if !p.is("}") {
			p.fail(p.tok.off, "expected '}' to close '${' in an attribute name, found %s", p.tok)
		}
		p.advance()
		return attrKey{off: t.off, dyn: e}
	}
	p.fail(t.off, "expected an attribute name, found %s", t)
	return attrKey{}
}

func literalString(s *nStr) (string, bool) {
	var b strings.Builder
	for _, pt := range s.parts {
		if pt.expr != nil {
			return "", false
		}
		b.WriteString(pt.lit)
	}
	return b.String(), true
}

func (p *parser) primary() node {
	t := p.tok
	switch t.kind {
	case tID:
		p.advance()
		return &nIdent{off: t.off, name: t.text}
	case tInt, tFloat:
		p.advance()
		return &nNum{off: t.off, text: t.text}
	case tURI:
		p.advance()
		return &nStr{off: t.off, parts: []strPart{{lit: t.text}}}
	case tPath, tSPath, tHPath:
		p.advance()
		s := &nStr{off: t.off, isPath: true, parts: []strPart{{lit: t.text}}}
		if t.pathInterp {
			s.parts = append(s.parts, strPart{expr: &nIdent{off: t.off, name: "${…}"}})
		}
		return s
	case tDQuote:
		return p.dqString()
	case tIndQuote:
		return p.indString()
	case tPunct:
		switch t.text {
		case "(":
			p.advance()
			e := p.expr()
			p.expect(")", "to close '('")
			return e
		case "[":
			p.advance()
			l := &nList{off: t.off}
			for !p.is("]") {
				if p.tok.kind == tEOF {
					p.fail(t.off, "unterminated list: '[' without ']'")
				}
				if !p.startsPrimary() {
					p.fail(p.tok.off, "expected a list element or ']', found %s", p.tok)
				}
				p.listItem(l)
			}
			p.advance()
			return l
		case "{":
			p.advance()
			return p.attrsBody(t.off, false)
		}
	case tKeyword:
		switch t.text {
		case "rec":
			p.advance()
			if !p.is("{") {
				p.fail(p.tok.off, "expected '{' after 'rec', found %s", p.tok)
			}
			p.advance()
			return p.attrsBody(t.off, true)
		case "let":
			p.advance()
			p.expect("{", "after legacy 'let'")
			return p.attrsBody(t.off, true)
		}
	}
	p.fail(t.off, "expected an expression, found %s", t)
	return nil
}

// attrsBody parses bindings up to and including the closing '}'.
func (p *parser) attrsBody(off int, rec bool) *nAttrs {
	a := &nAttrs{off: off, rec: rec}
	a.binds, a.inherits = p.binds("}")
	if !p.is("}") {
		if p.tok.kind == tEOF {
			p.fail(off, "unterminated attribute set: '{' without '}'")
		}
		p.fail(p.tok.off, "expected '}' or an attribute, found %s", p.tok)
	}
	p.advance()
	return a
}

// binds parses `path = expr;` and `inherit …;` until the token end (not
// consumed) or anything that cannot start a binding.
func (p *parser) binds(end string) ([]binding, []inherit) {
	var bs []binding
	var ins []inherit
	for !p.is(end) && p.tok.kind != tEOF {
		t := p.tok
		if p.is("inherit") {
			p.advance()
			in := inherit{off: t.off}
			if p.is("(") {
				p.advance()
				in.from = p.expr()
				p.expect(")", "after the inherit source")
			}
			for !p.is(";") {
				if p.tok.kind != tID && p.tok.kind != tDQuote && p.tok.kind != tKeyword {
					p.fail(p.tok.off, "expected an attribute name or ';' in inherit, found %s", p.tok)
				}
				in.names = append(in.names, p.attrName())
			}
			p.advance()
			ins = append(ins, in)
			continue
		}
		if t.kind != tID && t.kind != tDQuote && t.kind != tDollarBrace && t.kind != tKeyword {
			if end == "in" {
				p.fail(t.off, "expected a binding or 'in' in let, found %s", t)
			}
			return bs, ins
		}
		path := p.attrPath()
		p.expect("=", "after the attribute name")
		v := p.expr()
		if !p.is(";") {
			// `a = f\n b = 1;` parses as `a = f b` and fails at '=': point
			// at the likely place of the missing ';'.
			if app, ok := v.(*nApp); ok && p.is("=") {
				if l := p.lx.src.pos(app.arg.offset()).Line; l > p.lx.src.pos(app.fn.offset()).Line {
					p.fail(p.tok.off, "expected ';' after attribute value, found %s (is a ';' missing before line %d?)", p.tok, l)
				}
			}
			p.fail(p.tok.off, "expected ';' after attribute value, found %s", p.tok)
		}
		p.advance()
		bs = append(bs, binding{off: t.off, path: path, val: v})
	}
	return bs, ins
}
