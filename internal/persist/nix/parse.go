package nix

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
	stack []Node // checkDuplicates' walk
}

// bailout carries a syntax error up the parser's stack; parseNixSource
// recovers it. Nothing else panics.
type bailout struct{ err error }

// Parse parses src as one Nix expression: a *SyntaxError when it is
// malformed or nested deeper than MaxDepth.
func Parse(src *Source) (root Node, err error) {
	p := &parser{lx: lexer{Src: src, Data: src.Data}}
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
	if p.tok.Kind != tEOF {
		p.fail(p.tok.Off, "expected end of file after the expression, found %s", p.tok)
	}
	p.checkDuplicates(root)
	return root, nil
}

func (p *parser) fail(off int, format string, a ...any) {
	panic(bailout{&SyntaxError{p.lx.Src, off, fmt.Sprintf(format, a...)}})
}

func (p *parser) advance() {
	p.lx.Src.Tick()
	t, err := p.lx.next()
	if err != nil {
		panic(bailout{err})
	}
	p.tok = t
}

func (p *parser) is(text string) bool {
	return (p.tok.Kind == tPunct || p.tok.Kind == tKeyword) && p.tok.Text == text
}

func (p *parser) expect(text, context string) token {
	if !p.is(text) {
		p.fail(p.tok.Off, "expected '%s' %s, found %s", text, context, p.tok)
	}
	t := p.tok
	p.advance()
	return t
}

// peek returns the tokens after the current one without consuming them.
func (p *parser) peek(n int) []token {
	save := p.lx.Off
	defer func() { p.lx.Off = save }()
	var out []token
	for range n {
		t, err := p.lx.next()
		if err != nil {
			break
		}
		out = append(out, t)
		if t.Kind == tEOF || t.Kind == tDQuote || t.Kind == tIndQuote {
			break
		}
	}
	return out
}

func tokIs(ts []token, i int, text string) bool {
	return i < len(ts) && (ts[i].Kind == tPunct || ts[i].Kind == tKeyword) && ts[i].Text == text
}

func (p *parser) enter() {
	p.depth++
	if p.depth > MaxDepth {
		p.fail(p.tok.Off, "expression nested deeper than %d levels", MaxDepth)
	}
}

func (p *parser) leave() { p.depth-- }

// expr parses a full expression: function, assert, with, let, if, or an
// operator expression.
func (p *parser) expr() Node {
	p.enter()
	defer p.leave()
	t := p.tok
	switch {
	case t.Kind == tID:
		next := p.peek(1)
		if tokIs(next, 0, ":") {
			p.advance()
			p.advance()
			return &nFunc{Off: t.Off, param: t.Text, body: p.expr()}
		}
		if tokIs(next, 0, "@") {
			p.advance()
			p.advance()
			if !p.is("{") {
				p.fail(p.tok.Off, "expected '{' after '@' in a function header, found %s", p.tok)
			}
			f := p.formals(t.Off)
			f.param = t.Text
			p.expect(":", "after the function header")
			p.checkFormals(f)
			f.body = p.expr()
			return f
		}
	case p.is("{") && p.isFormals():
		f := p.formals(t.Off)
		if p.is("@") {
			p.advance()
			if p.tok.Kind != tID {
				p.fail(p.tok.Off, "expected an identifier after '@', found %s", p.tok)
			}
			f.param = p.tok.Text
			p.advance()
		}
		p.expect(":", "after the function header")
		p.checkFormals(f)
		f.body = p.expr()
		return f
	case p.is("assert"):
		p.advance()
		c := p.expr()
		p.expect(";", "after the assert condition")
		return &nAssert{Off: t.Off, cond: c, body: p.expr()}
	case p.is("with"):
		p.advance()
		e := p.expr()
		p.expect(";", "after the with expression")
		return &nWith{Off: t.Off, Env: e, body: p.expr()}
	case p.is("let"):
		if next := p.peek(1); tokIs(next, 0, "{") {
			// legacy `let { … body = …; }`
			p.advance()
			p.advance()
			a := p.attrsBody(t.Off, true)
			a.legacyLet = true
			return a
		}
		p.advance()
		l := &nLet{Off: t.Off}
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
		return &nIf{Off: t.Off, cond: c, then: th, elseOf: p.expr()}
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
	case len(ts) > 0 && ts[0].Kind == tID:
		return tokIs(ts, 1, ",") || tokIs(ts, 1, "?") ||
			tokIs(ts, 1, "}") && (tokIs(ts, 2, ":") || tokIs(ts, 2, "@"))
	}
	return false
}

func (p *parser) formals(off int) *nFunc {
	f := &nFunc{Off: off, hasSet: true}
	p.expect("{", "to open the function header")
	for !p.is("}") {
		if p.is("...") {
			p.advance()
		} else {
			if p.tok.Kind != tID {
				p.fail(p.tok.Off, "expected a parameter name, '...' or '}' in the function header, found %s", p.tok)
			}
			fm := formal{Off: p.tok.Off, Name: p.tok.Text}
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
			p.fail(p.tok.Off, "expected ',' or '}' in the function header, found %s", p.tok)
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

func (p *parser) binary(min int) Node {
	p.enter()
	defer p.leave()
	var left Node
	switch t := p.tok; {
	case p.is("!"):
		p.advance()
		left = &nUnary{Off: t.Off, Op: "!", e: p.binary(bpNot)}
	case p.is("-"):
		p.advance()
		left = &nUnary{Off: t.Off, Op: "-", e: p.binary(bpNeg)}
	default:
		left = p.app()
	}
	for p.tok.Kind == tPunct {
		op, ok := binops[p.tok.Text]
		if !ok || op.bp < min {
			break
		}
		t := p.tok
		p.advance()
		if t.Text == "?" {
			left = &nHasAttr{Off: left.offset(), e: left, path: p.attrPath()}
			continue
		}
		next := op.bp + 1
		if op.right {
			next = op.bp
		}
		left = &Binop{Off: t.Off, Op: t.Text, L: left, R: p.binary(next)}
	}
	return left
}

// startsPrimary reports whether the current token can begin an argument of
// a function application.
func (p *parser) startsPrimary() bool {
	switch p.tok.Kind {
	case tID:
		return p.tok.Text != "or"
	case tInt, tFloat, tPath, tSPath, tHPath, tURI, tDQuote, tIndQuote:
		return true
	case tPunct:
		return p.tok.Text == "{" || p.tok.Text == "[" || p.tok.Text == "("
	case tKeyword:
		return p.tok.Text == "rec" || p.tok.Text == "let" && tokIs(p.peek(1), 0, "{")
	}
	return false
}

func (p *parser) app() Node {
	fn := p.selectExpr()
	for p.startsPrimary() {
		arg := p.selectExpr()
		fn = &nApp{Off: fn.offset(), Fn: fn, arg: arg}
	}
	return fn
}

// listItem parses one item of l. A plain string literal (not selected
// from) is kept as its offset alone; any other item is a node, parsed by
// selectExpr.
func (p *parser) listItem(l *nList) {
	t := p.tok
	if t.Kind == tDQuote && p.depth < MaxDepth {
		if end := plainString(p.lx.Data, p.lx.Off); end >= 0 {
			p.lx.Off = end + 1
			p.advance()
			if !p.is(".") {
				l.Items = AppendDoubling(l.Items, int32(t.Off))
				return
			}
			p.enter()
			defer p.leave()
			e := p.selectRest(&nStr{Off: t.Off, parts: litParts(p.lx.Src.Text[t.Off+1 : end])})
			l.Items = AppendDoubling(l.Items, int32(-1-len(l.nodes)))
			l.nodes = append(l.nodes, e)
			return
		}
	}
	l.Items = AppendDoubling(l.Items, int32(-1-len(l.nodes)))
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

func (p *parser) selectExpr() Node {
	p.enter()
	defer p.leave()
	return p.selectRest(p.primary())
}

// selectRest parses what follows e in a select expression: .a.b and `or`.
func (p *parser) selectRest(e Node) Node {
	if p.is(".") {
		p.advance()
		s := &nSelect{Off: e.offset(), e: e, path: p.attrPath()}
		if p.tok.Kind == tID && p.tok.Text == "or" {
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
		if len(path) == MaxDepth {
			p.fail(p.tok.Off, "attribute path longer than %d components", MaxDepth)
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
	switch t.Kind {
	case tID, tKeyword:
		p.advance()
		return attrKey{Off: t.Off, Name: t.Text}
	case tDQuote:
		s := p.dqString()
		if lit, ok := literalString(s); ok {
			return attrKey{Off: t.Off, Name: lit}
		}
		return attrKey{Off: t.Off, dyn: s}
	case tDollarBrace:
		p.advance()
		e := p.expr()
		if !p.is("}") {
			p.fail(p.tok.Off, "expected '}' to close '${' in an attribute name, found %s", p.tok)
		}
		p.advance()
		if s, ok := e.(*nStr); ok && !s.isPath {
			// ${"name"} is the static name, as in Nix's parser
			if lit, ok := literalString(s); ok {
				return attrKey{Off: t.Off, Name: lit}
			}
		}
		return attrKey{Off: t.Off, dyn: e}
	}
	p.fail(t.Off, "expected an attribute name, found %s", t)
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

func (p *parser) primary() Node {
	t := p.tok
	switch t.Kind {
	case tID:
		p.advance()
		return &Ident{Off: t.Off, Name: t.Text}
	case tInt, tFloat:
		p.advance()
		return &nNum{Off: t.Off, Text: t.Text}
	case tURI:
		p.advance()
		return &nStr{Off: t.Off, parts: []strPart{{lit: t.Text}}}
	case tPath, tSPath, tHPath:
		p.advance()
		s := &nStr{Off: t.Off, isPath: true, parts: []strPart{{lit: t.Text}}}
		if t.pathInterp {
			s.parts = append(s.parts, strPart{expr: &Ident{Off: t.Off, Name: "${…}"}})
		}
		return s
	case tDQuote:
		return p.dqString()
	case tIndQuote:
		return p.indString()
	case tPunct:
		switch t.Text {
		case "(":
			p.advance()
			e := p.expr()
			p.expect(")", "to close '('")
			return e
		case "[":
			p.advance()
			l := &nList{Off: t.Off}
			for !p.is("]") {
				if p.tok.Kind == tEOF {
					p.fail(t.Off, "unterminated list: '[' without ']'")
				}
				if !p.startsPrimary() {
					p.fail(p.tok.Off, "expected a list element or ']', found %s", p.tok)
				}
				p.listItem(l)
			}
			p.advance()
			return l
		case "{":
			p.advance()
			return p.attrsBody(t.Off, false)
		}
	case tKeyword:
		switch t.Text {
		case "rec":
			p.advance()
			if !p.is("{") {
				p.fail(p.tok.Off, "expected '{' after 'rec', found %s", p.tok)
			}
			p.advance()
			return p.attrsBody(t.Off, true)
		case "let":
			p.advance()
			p.expect("{", "after legacy 'let'")
			a := p.attrsBody(t.Off, true)
			a.legacyLet = true
			return a
		}
	}
	p.fail(t.Off, "expected an expression, found %s", t)
	return nil
}

// attrsBody parses bindings up to and including the closing '}'.
func (p *parser) attrsBody(off int, rec bool) *nAttrs {
	a := &nAttrs{Off: off, rec: rec}
	a.binds, a.inherits = p.binds("}")
	if !p.is("}") {
		if p.tok.Kind == tEOF {
			p.fail(off, "unterminated attribute set: '{' without '}'")
		}
		p.fail(p.tok.Off, "expected '}' or an attribute, found %s", p.tok)
	}
	p.advance()
	return a
}

// binds parses `path = expr;` and `inherit …;` until the token end (not
// consumed) or anything that cannot start a binding.
func (p *parser) binds(end string) ([]binding, []inherit) {
	var bs []binding
	var ins []inherit
	for !p.is(end) && p.tok.Kind != tEOF {
		t := p.tok
		if p.is("inherit") {
			p.advance()
			in := inherit{Off: t.Off}
			if p.is("(") {
				p.advance()
				in.from = p.expr()
				p.expect(")", "after the inherit source")
			}
			for !p.is(";") {
				if p.tok.Kind != tID && p.tok.Kind != tDQuote && p.tok.Kind != tKeyword && p.tok.Kind != tDollarBrace {
					p.fail(p.tok.Off, "expected an attribute name or ';' in inherit, found %s", p.tok)
				}
				in.names = append(in.names, p.attrName())
			}
			p.advance()
			ins = append(ins, in)
			continue
		}
		if t.Kind != tID && t.Kind != tDQuote && t.Kind != tDollarBrace && t.Kind != tKeyword {
			if end == "in" {
				p.fail(t.Off, "expected a binding or 'in' in let, found %s", t)
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
				if l := p.lx.Src.Pos(app.arg.offset()).Line; l > p.lx.Src.Pos(app.Fn.offset()).Line {
					p.fail(p.tok.Off, "expected ';' after attribute value, found %s (is a ';' missing before line %d?)", p.tok, l)
				}
			}
			p.fail(p.tok.Off, "expected ';' after attribute value, found %s", p.tok)
		}
		p.advance()
		bs = append(bs, binding{Off: t.Off, path: path, val: v})
	}
	return bs, ins
}
