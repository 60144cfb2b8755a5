package nix

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// tokKind is a token of the Nix lexer.
type tokKind uint8

const (
	tEOF tokKind = iota
	tID
	tInt
	tFloat
	tPath  // ./a, /a, a/b, with ${…} parts skipped (pathInterp)
	tSPath // <nixpkgs>
	tHPath // ~/a
	tURI
	tDQuote   // " (the string body is read by the parser)
	tIndQuote // '' (the string body is read by the parser)
	tDollarBrace
	tPunct // { } [ ] ( ) ; : , . = ? @ ... and operators
	tKeyword
)

type token struct {
	Kind tokKind
	Off  int
	Text string
	// pathInterp marks a path literal with ${…} inside.
	pathInterp bool
}

func (t token) String() string {
	switch t.Kind {
	case tEOF:
		return "end of file"
	case tDQuote:
		return "a string"
	case tIndQuote:
		return "an indented string"
	case tDollarBrace:
		return "'${'"
	case tPunct:
		return "'" + t.Text + "'"
	}
	return fmt.Sprintf("%q", t.Text)
}

var nixKeywords = map[string]bool{
	"if": true, "then": true, "else": true, "assert": true, "with": true,
	"let": true, "in": true, "rec": true, "inherit": true,
}

// lexer scans Nix tokens on demand. The parser reads string bodies itself
// (strings nest expressions through ${…}), so the lexer never looks past the
// token it returns, and its state is just an offset.
type lexer struct {
	Src  *Source
	Data []byte
	Off  int
	// The last run of path characters measured, [runFrom, runEnd), and of
	// URI scheme characters, [uriFrom, uriEnd): every token that starts
	// inside a long run (a.a.a.a…) would otherwise measure it again, which
	// is quadratic in the run's length.
	runFrom, runEnd int
	uriFrom, uriEnd int
}

// runEnd returns the end of the run of bytes satisfying in that contains i,
// which must satisfy it (or be the run's end), caching it in *from, *end.
func runEnd(d []byte, i int, in func(byte) bool, from, end *int) int {
	if i >= *from && i < *end {
		return *end
	}
	j := i
	for j < len(d) && in(d[j]) {
		j++
	}
	*from, *end = i, j
	return j
}

func isSchemeChar(c byte) bool { return isPathChar(c) && c != '_' }

func isIDStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIDChar(c byte) bool {
	return isIDStart(c) || c >= '0' && c <= '9' || c == '\'' || c == '-'
}
func isPathChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '+'
}
func isURIChar(c byte) bool {
	return isPathChar(c) || strings.IndexByte("%/?:@&=$,!~*'", c) >= 0
}

// skip skips white space and comments.
func (lx *lexer) skip() error {
	d := lx.Data
	for lx.Off < len(d) {
		c := d[lx.Off]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			lx.Off++
		case c == '#':
			for lx.Off < len(d) && d[lx.Off] != '\n' {
				lx.Off++
			}
		case c == '/' && lx.Off+1 < len(d) && d[lx.Off+1] == '*':
			start := lx.Off
			end := strings.Index(string(d[lx.Off+2:]), "*/")
			if end < 0 {
				return &SyntaxError{lx.Src, start, "unterminated comment: '/*' without '*/'"}
			}
			lx.Off += 2 + end + 2
		default:
			return nil
		}
	}
	return nil
}

// matchPath returns the length of a path literal at i (0 if none):
// {PATH_CHAR}*(/{PATH_CHAR}+)+/? as in Nix's lexer, with ${…} allowed in
// place of path characters after the first slash.
func (lx *lexer) matchPath(i int) (n int, interp bool) {
	d := lx.Data
	j := runEnd(d, i, isPathChar, &lx.runFrom, &lx.runEnd)
	segs := 0
	for j < len(d) && d[j] == '/' {
		k := j + 1
		for k < len(d) {
			if isPathChar(d[k]) {
				k++
				continue
			}
			if d[k] == '$' && k+1 < len(d) && d[k+1] == '{' {
				e := matchBraces(d, k+1)
				if e < 0 {
					break
				}
				interp = true
				k = e
				continue
			}
			break
		}
		if k == j+1 {
			break
		}
		segs++
		j = k
	}
	if segs == 0 {
		return 0, false
	}
	return j - i, interp
}

// matchBraces returns the offset after the '}' matching the '{' at i, or -1.
func matchBraces(d []byte, i int) int {
	depth := 0
	for k := i; k < len(d); k++ {
		switch d[k] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return k + 1
			}
		}
	}
	return -1
}

var puncts = []string{
	"...", "${", "++", "//", "==", "!=", "<=", ">=", "&&", "||", "->", "|>", "<|",
	"{", "}", "[", "]", "(", ")", ";", ":", ",", ".", "=", "?", "@", "+", "-", "*", "/", "<", ">", "!",
}

// next scans the token at the current offset.
func (lx *lexer) next() (token, error) {
	if err := lx.skip(); err != nil {
		return token{}, err
	}
	d := lx.Data
	i := lx.Off
	if i >= len(d) {
		return token{Kind: tEOF, Off: i}, nil
	}
	c := d[i]
	emit := func(k tokKind, n int) (token, error) {
		lx.Off = i + n
		t := token{Kind: k, Off: i, Text: string(d[i : i+n])}
		if k == tID && nixKeywords[t.Text] {
			t.Kind = tKeyword
		}
		return t, nil
	}
	switch {
	case c == '"':
		return emit(tDQuote, 1)
	case c == '\'' && i+1 < len(d) && d[i+1] == '\'':
		return emit(tIndQuote, 2)
	case c == '~' && i+1 < len(d) && d[i+1] == '/':
		if n, interp := lx.matchPath(i + 1); n > 0 {
			t, err := emit(tHPath, n+1)
			t.pathInterp = interp
			return t, err
		}
	case c == '<':
		j := i + 1
		for j < len(d) && (isPathChar(d[j]) || d[j] == '/') {
			j++
		}
		if j > i+1 && j < len(d) && d[j] == '>' && d[i+1] != '/' {
			return emit(tSPath, j+1-i)
		}
	}
	// Longest match among identifier, number, path and URI, as flex does.
	idLen := 0
	if isIDStart(c) {
		idLen = 1
		for i+idLen < len(d) && isIDChar(d[i+idLen]) {
			idLen++
		}
	}
	numLen, isFloat := 0, false
	if c >= '0' && c <= '9' || c == '.' && i+1 < len(d) && d[i+1] >= '0' && d[i+1] <= '9' {
		j := i
		for j < len(d) && d[j] >= '0' && d[j] <= '9' {
			j++
		}
		if j < len(d) && d[j] == '.' && j+1 < len(d) && d[j+1] >= '0' && d[j+1] <= '9' {
			isFloat = true
			j++
			for j < len(d) && d[j] >= '0' && d[j] <= '9' {
				j++
			}
		}
		if isFloat && j < len(d) && (d[j] == 'e' || d[j] == 'E') {
			k := j + 1
			if k < len(d) && (d[k] == '+' || d[k] == '-') {
				k++
			}
			if k < len(d) && d[k] >= '0' && d[k] <= '9' {
				for k < len(d) && d[k] >= '0' && d[k] <= '9' {
					k++
				}
				j = k
			}
		}
		numLen = j - i
	}
	pathLen, interp := 0, false
	if isPathChar(c) || c == '/' {
		pathLen, interp = lx.matchPath(i)
	}
	uriLen := 0
	if idLen > 0 || isIDStart(c) {
		j := runEnd(d, i+1, isSchemeChar, &lx.uriFrom, &lx.uriEnd)
		if j < len(d) && d[j] == ':' {
			k := j + 1
			for k < len(d) && isURIChar(d[k]) {
				k++
			}
			if k > j+1 {
				uriLen = k - i
			}
		}
	}
	best := max(idLen, numLen, pathLen, uriLen)
	if best > 0 {
		switch best {
		case uriLen:
			return emit(tURI, uriLen)
		case pathLen:
			t, err := emit(tPath, pathLen)
			t.pathInterp = interp
			return t, err
		case idLen:
			return emit(tID, idLen)
		default:
			if isFloat {
				return emit(tFloat, numLen)
			}
			return emit(tInt, numLen)
		}
	}
	for _, p := range puncts {
		if strings.HasPrefix(string(d[i:min(len(d), i+3)]), p) {
			if p == "${" {
				return emit(tDollarBrace, 2)
			}
			return emit(tPunct, len(p))
		}
	}
	return token{}, &SyntaxError{lx.Src, i, fmt.Sprintf("unexpected character %s", quoteByteAt(d, i))}
}

func quoteByteAt(d []byte, i int) string {
	r, n := utf8.DecodeRune(d[i:])
	if r == utf8.RuneError && n <= 1 {
		return fmt.Sprintf("'\\x%02x'", d[i]) // invalid UTF-8: the byte, not U+FFFD
	}
	return fmt.Sprintf("%q", r)
}
