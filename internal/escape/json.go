package escape

import (
	"bytes"
	"fmt"
	"io"
	"unicode"
	"unicode/utf8"
)

// JSON rewrites encoded JSON (encoding/json's output: every byte outside a
// string is ASCII, control characters inside strings are escaped already)
// so that no character that is not printable reaches the output raw: each
// such rune above U+007F (bidi controls such as U+202E and U+2066, zero
// width and other format characters, private use) becomes its \uXXXX
// escape (a surrogate pair above U+FFFF). The JSON decodes to the same
// values.
func JSON(b []byte) []byte {
	clean := true
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if !unicode.IsPrint(r) {
			clean = false
			break
		}
		i += n
	}
	if clean {
		return b
	}
	var out bytes.Buffer
	out.Grow(len(b) + 64)
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			out.WriteByte(b[i])
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		switch {
		case unicode.IsPrint(r):
			out.Write(b[i : i+n])
		case r > 0xffff:
			r -= 0x10000
			fmt.Fprintf(&out, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			fmt.Fprintf(&out, `\u%04x`, r)
		}
		i += n
	}
	return out.Bytes()
}

// JSONWriter is w behind JSON: each Write is one complete JSON value (what
// json.Encoder.Encode writes at once).
func JSONWriter(w io.Writer) io.Writer { return jsonWriter{w} }

type jsonWriter struct{ w io.Writer }

func (j jsonWriter) Write(p []byte) (int, error) {
	if _, err := j.w.Write(JSON(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}
