package escape

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Name makes a file name safe to print on a terminal and unambiguous on
// one line: printable UTF-8 is kept as is (so "المستندات" and "VirtualBox
// VMs" read naturally); a backslash becomes `\\`; \n, \t, \r become `\n`,
// `\t`, `\r`; every other control or non-printable character becomes `\xHH`
// (one per byte of its UTF-8 encoding, so ESC is `\x1b`) and every byte of
// invalid UTF-8 becomes `\xHH`. The result never holds a raw control
// character, and distinct names give distinct results.
func Name(s string) string {
	if i, _ := Unprintable(s); i < 0 && !strings.ContainsRune(s, '\\') {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == ' ' || unicode.IsPrint(r):
			b.WriteString(s[i : i+n])
		default:
			for j := i; j < i+n; j++ {
				fmt.Fprintf(&b, `\x%02x`, s[j])
			}
		}
		i += n
	}
	return b.String()
}

// Line is Name(s) for a record of its own on a line (the paths formats):
// a space that begins or ends it is written \x20 too, so that a reader
// that trims the line (read, most line-oriented tools) gets the name back
// whole. Name never writes a bare backslash, so \x20 is unambiguous.
func Line(s string) string {
	n := Name(s)
	if n == "" || n[0] != ' ' && n[len(n)-1] != ' ' {
		return n
	}
	body := strings.TrimLeft(n, " ")
	lead := len(n) - len(body)
	trimmed := strings.TrimRight(body, " ")
	trail := len(body) - len(trimmed)
	return strings.Repeat(`\x20`, lead) + trimmed + strings.Repeat(`\x20`, trail)
}

// Unprintable returns the byte offset in s of the first character Name
// writes as an escape, other than a backslash — a control character, a
// format character such as the bidi override U+202E, another rune that is
// not printable, or a byte of invalid UTF-8 (r is then utf8.RuneError) —
// and that rune; -1 and 0 when s has none. A name that has one looks
// other than it is when printed raw.
func Unprintable(s string) (i int, r rune) {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || r != ' ' && !unicode.IsPrint(r) {
			return i, r
		}
		i += n
	}
	return -1, 0
}

// Text makes a message safe to print on a terminal, on one line: like
// Name, but a backslash is kept (messages quote names with %q already), so
// a newline in a name inside the message is `\n` and can never start a
// line of its own ("drift: error: …" forged by a file name).
func Text(s string) string {
	return strings.ReplaceAll(Name(s), `\\`, `\`)
}

// Lines is Text line by line: newlines stay, for the output of another
// program shown as written (nix's errors), which the caller indents.
func Lines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = Text(l)
	}
	return strings.Join(lines, "\n")
}
