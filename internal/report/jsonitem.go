package report

import (
	"strconv"
	"unicode/utf8"
)

// appendJSONItem appends ji as json.Encoder encodes it with the indent
// writeJSONItems uses (prefix "    ", indent "  "; no trailing newline),
// byte for byte: the fields in order, the omitempty ones left out when
// empty, strings escaped as encoding/json escapes them (HTML escaping on).
// A check with a previous root can write a million items: through
// reflection and the indenting pass that took 1.8 s of its CPU time.
// TestAppendJSONItemIsEncodingJSON holds it to encoding/json.
func appendJSONItem(b []byte, ji *jsonItem) []byte {
	const field = "\n      "
	b = append(b, '{')
	first := true
	str := func(key, v string, omitEmpty bool) {
		if omitEmpty && v == "" {
			return
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, field...)
		b = append(b, '"')
		b = append(b, key...)
		b = append(b, `": `...)
		b = appendJSONString(b, v)
	}
	num := func(key string, v int64) {
		b = append(b, ',')
		b = append(b, field...)
		b = append(b, '"')
		b = append(b, key...)
		b = append(b, `": `...)
		b = strconv.AppendInt(b, v, 10)
	}
	str("path", ji.Path, false)
	str("pathBase64", ji.PathBase64, true)
	str("category", ji.Category, false)
	str("type", ji.Type, false)
	num("entries", ji.Entries)
	num("bytes", ji.Bytes)
	str("mode", ji.Mode, false)
	str("mtime", ji.Mtime, false)
	str("target", ji.Target, true)
	str("declared", ji.Declared, true)
	str("declaredAt", ji.DeclaredAt, true)
	if ji.Mount != 0 {
		num("mount", int64(ji.Mount))
	}
	str("history", ji.History, true)
	str("why", ji.Why, false)
	if h := ji.Hidden; h != nil {
		b = append(b, ',')
		b = append(b, field...)
		b = append(b, `"ignoredInside": {`...)
		b = append(b, field+`  "entries": `...)
		b = strconv.AppendInt(b, h.Entries, 10)
		b = append(b, ","+field+`  "bytes": `...)
		b = strconv.AppendInt(b, h.Bytes, 10)
		b = append(b, field+"}"...)
	}
	str("adopt", ji.Adopt, true)
	str("adoptPreferLive", ji.AdoptPreferLive, true)
	str("adoptPreferPersistent", ji.AdoptPreferPersistent, true)
	str("copyMtime", ji.CopyMtime, true)
	str("copyDiffers", ji.CopyDiffers, true)
	str("copyType", ji.CopyType, true)
	return append(b, "\n    }"...)
}

// appendJSONString appends s quoted as encoding/json quotes a string with
// HTML escaping on: \" \\ \b \f \n \r \t, other control characters and
// <, >, & as \u00XX, invalid UTF-8 as \ufffd, U+2028 and U+2029 as
// \u2028 and \u2029, every other character as it is.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += n
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += n
			start = i
			continue
		}
		i += n
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
