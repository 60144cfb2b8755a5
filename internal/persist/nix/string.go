package nix

import (
	"strings"
)

// dqString reads a "…" string; p.tok is the opening quote.
func (p *parser) dqString() *nStr {
	start := p.tok.Off
	s := &nStr{Off: start}
	d := p.lx.Data
	if end := plainString(d, p.lx.Off); end >= 0 {
		s.parts = litParts(p.lx.Src.Text[p.lx.Off:end])
		p.lx.Off = end + 1
		p.advance()
		return s
	}
	var lit []byte
	i := p.lx.Off
	for {
		if i >= len(d) {
			p.fail(start, "unterminated string: '\"' without closing '\"'")
		}
		c := d[i]
		switch {
		case c == '"':
			s.parts = appendLit(s.parts, lit)
			p.lx.Off = i + 1
			p.advance()
			return s
		case c == '\\' && i+1 < len(d):
			lit = append(lit, unescape(d[i+1]))
			i += 2
		case c == '$' && i+1 < len(d) && d[i+1] == '$':
			lit = append(lit, '$', '$')
			i += 2
		case c == '$' && i+1 < len(d) && d[i+1] == '{':
			s.parts = appendLit(s.parts, lit)
			lit = nil
			s.parts = append(s.parts, strPart{expr: p.interpolation(i)})
			i = p.lx.Off
		default:
			lit = append(lit, c)
			i++
		}
	}
}

// interpolation parses ${ expr } whose '$' is at i, leaving the lexer just
// past the '}'.
func (p *parser) interpolation(i int) Node {
	p.lx.Off = i + 2
	p.advance()
	e := p.expr()
	if !p.is("}") {
		if p.tok.Kind == tEOF {
			p.fail(i, "unterminated '${' in string")
		}
		p.fail(p.tok.Off, "expected '}' to close '${', found %s", p.tok)
	}
	return e // p.lx.Off is just past '}'
}

func unescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 't':
		return '\t'
	case 'r':
		return '\r'
	}
	return c
}

func appendLit(parts []strPart, lit []byte) []strPart {
	if len(lit) == 0 {
		return parts
	}
	if n := len(parts); n > 0 && parts[n-1].expr == nil {
		parts[n-1].lit += string(lit)
		return parts
	}
	return append(parts, strPart{lit: string(lit)})
}

// indString reads a ”…” string; p.tok is the opening ”. Indentation is
// stripped as Nix does (approximately: escapes count as text).
func (p *parser) indString() *nStr {
	start := p.tok.Off
	s := &nStr{Off: start}
	d := p.lx.Data
	var lit []byte
	i := p.lx.Off
	for {
		if i >= len(d) {
			p.fail(start, "unterminated indented string: \"''\" without closing \"''\"")
		}
		c := d[i]
		switch {
		case c == '\'' && i+1 < len(d) && d[i+1] == '\'':
			switch {
			case i+2 < len(d) && d[i+2] == '\'':
				lit = append(lit, '\'', '\'')
				i += 3
			case i+2 < len(d) && d[i+2] == '$':
				lit = append(lit, '$')
				i += 3
			case i+3 < len(d) && d[i+2] == '\\':
				lit = append(lit, unescape(d[i+3]))
				i += 4
			default:
				s.parts = appendLit(s.parts, lit)
				s.parts = stripIndent(s.parts)
				p.lx.Off = i + 2
				p.advance()
				return s
			}
		case c == '$' && i+1 < len(d) && d[i+1] == '$':
			lit = append(lit, '$', '$')
			i += 2
		case c == '$' && i+1 < len(d) && d[i+1] == '{':
			s.parts = appendLit(s.parts, lit)
			lit = nil
			s.parts = append(s.parts, strPart{expr: p.interpolation(i)})
			i = p.lx.Off
		default:
			lit = append(lit, c)
			i++
		}
	}
}

// stripIndent removes the common leading indentation of the lines of an
// indented string, and its first line when that is blank.
func stripIndent(parts []strPart) []strPart {
	// Measure: the minimum indentation over lines with content.
	minIndent := -1
	atStart, indent := true, 0
	for _, pt := range parts {
		if pt.expr != nil {
			if atStart && (minIndent < 0 || indent < minIndent) {
				minIndent = indent
			}
			atStart = false
			continue
		}
		for i := 0; i < len(pt.lit); i++ {
			c := pt.lit[i]
			switch {
			case c == '\n':
				atStart, indent = true, 0
			case atStart && c == ' ':
				indent++
			case atStart:
				if minIndent < 0 || indent < minIndent {
					minIndent = indent
				}
				atStart = false
			}
		}
	}
	if minIndent < 0 {
		minIndent = 0
	}
	// Rewrite.
	out := make([]strPart, 0, len(parts))
	atStart, skipped := true, 0
	first := true
	for _, pt := range parts {
		if pt.expr != nil {
			out = append(out, pt)
			atStart, first = false, false
			continue
		}
		var b strings.Builder
		for i := 0; i < len(pt.lit); i++ {
			c := pt.lit[i]
			if atStart && c == ' ' && skipped < minIndent {
				skipped++
				continue
			}
			if c == '\n' {
				if first && len(out) == 0 && strings.Trim(pt.lit[:i], " \t") == "" {
					// a blank first line is dropped
					b.Reset()
					first, atStart, skipped = false, true, 0
					continue
				}
				first = false
				b.WriteByte(c)
				atStart, skipped = true, 0
				continue
			}
			atStart = false
			b.WriteByte(c)
		}
		if b.Len() > 0 {
			out = append(out, strPart{lit: b.String()})
		}
	}
	// A last line of only spaces is dropped.
	if n := len(out); n > 0 && out[n-1].expr == nil {
		l := out[n-1].lit
		if j := strings.LastIndexByte(l, '\n'); j >= 0 && strings.Trim(l[j+1:], " \t") == "" {
			out[n-1].lit = l[:j+1]
		}
	}
	return out
}
