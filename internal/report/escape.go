package report

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nix-drift/drift/internal/units"
)

// Escape makes a file name safe to print on a terminal and unambiguous on
// one line: printable UTF-8 is kept as is (so "المستندات" and "VirtualBox
// VMs" read naturally); a backslash becomes `\\`; \n, \t, \r become `\n`,
// `\t`, `\r`; every other control or non-printable character becomes `\xHH`
// (one per byte of its UTF-8 encoding, so ESC is `\x1b`) and every byte of
// invalid UTF-8 becomes `\xHH`. The result never holds a raw control
// character, and distinct names give distinct results.
func Escape(s string) string {
	clean := true
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == '\\' || (r == utf8.RuneError && n == 1) || !unicode.IsPrint(r) && r != ' ' {
			clean = false
			break
		}
		i += n
	}
	if clean {
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

// SafeText makes a message safe to print on a terminal: like Escape, but a
// backslash is kept (messages quote names with %q already) and a newline
// stays a newline, so multi-line messages (nix's errors) read as written.
func SafeText(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.ReplaceAll(Escape(l), `\\`, `\`)
	}
	return strings.Join(lines, "\n")
}

// Plural is n with the singular or the plural word: "1 path", "2 paths"
// (units.Plural).
func Plural(n int64, one, many string) string { return units.Plural(n, one, many) }

// HumanBytes formats a size in bytes with binary units: "0 B", "512 B",
// "1.5 KiB", "1.0 GiB" (units.Bytes).
func HumanBytes(n int64) string { return units.Bytes(n) }
