package persist

import (
	"errors"
	"fmt"
	"github.com/nix-drift/drift/internal/persist/nix"
	"strconv"
	"unicode/utf8"
)

// jsonParser decodes JSON into values that carry byte offsets, keeps object
// key order, and keeps string bytes exactly as written (invalid UTF-8 is not
// replaced: file names are bytes).
type jsonParser struct {
	src   *nix.Source
	data  []byte
	i     int
	depth int
}

// syntaxError is the error of malformed Nix or JSON, with its position.
type syntaxError = nix.SyntaxError

// SyntaxErrorAt returns the position and message (without the position) of
// a syntax error Read, ParseNix or ParseJSON returned (malformed Nix or
// JSON); ok is false for other errors (unreadable, too large, cancelled).
func SyntaxErrorAt(err error) (pos Pos, msg string, ok bool) {
	var se *syntaxError
	if !errors.As(err, &se) {
		return Pos{}, "", false
	}
	return se.Src.Pos(se.Off), se.Msg, true
}

func (p *jsonParser) errf(off int, format string, a ...any) error {
	return &syntaxError{Src: p.src, Off: off, Msg: fmt.Sprintf(format, a...)}
}

func decodeJSON(src *nix.Source) (*nix.Value, error) {
	p := &jsonParser{src: src, data: src.Data}
	p.ws()
	if p.i < len(p.data) && p.data[p.i] == 0xEF && len(p.data) >= 3 && string(p.data[:3]) == "\xEF\xBB\xBF" {
		p.i += 3
		p.ws()
	}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i < len(p.data) {
		return nil, p.errf(p.i, "expected end of input after the JSON value, found %s", p.found())
	}
	return v, nil
}

func (p *jsonParser) ws() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) found() string {
	if p.i >= len(p.data) {
		return "end of input"
	}
	r, _ := utf8.DecodeRune(p.data[p.i:])
	return strconv.QuoteRune(r)
}

func (p *jsonParser) value() (*nix.Value, error) {
	p.src.Tick()
	p.ws()
	if p.i >= len(p.data) {
		return nil, p.errf(p.i, "expected a JSON value, found end of input")
	}
	start := p.i
	switch c := p.data[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		s, err := p.string()
		if err != nil {
			return nil, err
		}
		return &nix.Value{Kind: nix.KindString, Off: start, Str: s}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		for p.i < len(p.data) && isNumByte(p.data[p.i]) {
			p.i++
		}
		text := string(p.data[start:p.i])
		if _, err := strconv.ParseFloat(text, 64); err != nil {
			return nil, p.errf(start, "malformed number %q", text)
		}
		return &nix.Value{Kind: nix.KindNumber, Off: start, Str: text}, nil
	default:
		for _, lit := range []string{"true", "false", "null"} {
			if len(p.data)-p.i >= len(lit) && string(p.data[p.i:p.i+len(lit)]) == lit {
				p.i += len(lit)
				if lit == "null" {
					return &nix.Value{Kind: nix.KindNull, Off: start}, nil
				}
				return &nix.Value{Kind: nix.KindBool, Off: start, Bool: lit == "true"}, nil
			}
		}
		return nil, p.errf(start, "expected a JSON value, found %s", p.found())
	}
}

func isNumByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

func (p *jsonParser) enter() error {
	p.depth++
	if p.depth > nix.MaxDepth {
		return p.errf(p.i, "nesting deeper than %d levels", nix.MaxDepth)
	}
	return nil
}

func (p *jsonParser) object() (*nix.Value, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	v := &nix.Value{Kind: nix.KindAttrs, Off: p.i, Attrs: nix.NewAttrs()}
	p.i++ // {
	p.ws()
	if p.i < len(p.data) && p.data[p.i] == '}' {
		p.i++
		return v, nil
	}
	for {
		p.ws()
		if p.i >= len(p.data) || p.data[p.i] != '"' {
			return nil, p.errf(p.i, "expected a string object key, found %s", p.found())
		}
		koff := p.i
		k, err := p.string()
		if err != nil {
			return nil, err
		}
		p.ws()
		if p.i >= len(p.data) || p.data[p.i] != ':' {
			return nil, p.errf(p.i, "expected ':' after object key, found %s", p.found())
		}
		p.i++
		val, err := p.value()
		if err != nil {
			return nil, err
		}
		if at := v.Attrs.Get(k); at != nil {
			at.Defs = []*nix.Lazy{nix.Known(val)} // JSON: the last duplicate key wins
		} else {
			v.Attrs.Add(k, koff, nix.Known(val))
		}
		p.ws()
		if p.i < len(p.data) && p.data[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.data) && p.data[p.i] == '}' {
			p.i++
			return v, nil
		}
		return nil, p.errf(p.i, "expected ',' or '}' after object member, found %s", p.found())
	}
}

func (p *jsonParser) array() (*nix.Value, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	v := &nix.Value{Kind: nix.KindList, Off: p.i}
	p.i++ // [
	p.ws()
	if p.i < len(p.data) && p.data[p.i] == ']' {
		p.i++
		return v, nil
	}
	lits := 0
	for {
		// A string without escapes is kept as its offset (value.at).
		p.ws()
		if end := p.plain(); end >= 0 {
			p.src.Tick()
			v.At = nix.AppendDoubling(v.At, int32(p.i))
			p.i = end + 1
			lits++
		} else {
			item, err := p.value()
			if err != nil {
				return nil, err
			}
			v.At = nix.AppendDoubling(v.At, int32(-1-len(v.Items)))
			v.Items = append(v.Items, nix.Known(item))
		}
		p.ws()
		if p.i < len(p.data) && p.data[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.data) && p.data[p.i] == ']' {
			p.i++
			if lits == 0 {
				v.At = nil
			}
			return v, nil
		}
		return nil, p.errf(p.i, "expected ',' or ']' after array element, found %s", p.found())
	}
}

// plain returns the offset of the closing '"' of the string at p.i when
// it has no escape and no control character (its value is its text), else
// -1 (not a string, or one string decodes).
func (p *jsonParser) plain() int {
	if p.i >= len(p.data) || p.data[p.i] != '"' {
		return -1
	}
	for i := p.i + 1; i < len(p.data); i++ {
		switch c := p.data[i]; {
		case c == '"':
			return i
		case c == '\\' || c < 0x20:
			return -1
		}
	}
	return -1
}

// string decodes a JSON string at p.i (which holds '"'), byte-exactly.
// One without escapes is a slice of the source's text.
func (p *jsonParser) string() (string, error) {
	start := p.i
	if end := p.plain(); end >= 0 {
		p.i = end + 1
		return p.src.Text[start+1 : end], nil
	}
	p.i++
	var out []byte
	for {
		if p.i >= len(p.data) {
			return "", p.errf(start, "unterminated string")
		}
		c := p.data[p.i]
		switch {
		case c == '"':
			p.i++
			return string(out), nil
		case c < 0x20:
			return "", p.errf(p.i, "control character %#02x in string (write it as an escape)", c)
		case c != '\\':
			out = append(out, c)
			p.i++
			continue
		}
		// escape
		if p.i+1 >= len(p.data) {
			return "", p.errf(start, "unterminated string")
		}
		e := p.data[p.i+1]
		p.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.errf(p.i-2, `malformed \u escape`)
			}
			if utf16IsHigh(r) && p.i+1 < len(p.data) && p.data[p.i] == '\\' && p.data[p.i+1] == 'u' {
				save := p.i
				p.i += 2
				if r2, ok := p.hex4(); ok && utf16IsLow(r2) {
					r = (r-0xD800)<<10 + (r2 - 0xDC00) + 0x10000
				} else {
					p.i = save
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", p.errf(p.i-2, "unknown escape \\%c in string", e)
		}
	}
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.data) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(p.data[p.i:p.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	p.i += 4
	return rune(n), true
}

func utf16IsHigh(r rune) bool { return r >= 0xD800 && r < 0xDC00 }
func utf16IsLow(r rune) bool  { return r >= 0xDC00 && r < 0xE000 }
