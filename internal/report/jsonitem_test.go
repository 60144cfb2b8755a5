package report

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// appendJSONItem writes what json.Encoder (prefix "    ", indent "  ")
// writes for the same item, byte for byte: empty and full items, an
// ignoredInside, and strings holding every kind of character encoding/json
// escapes (quotes, backslashes, control characters, <>&, invalid UTF-8,
// U+2028/U+2029) or leaves as it is (multi-byte runes, bidi controls),
// fixed ones and random ones.
func TestAppendJSONItemIsEncodingJSON(t *testing.T) {
	odd := []string{"", "/a", `q"uote\back`, "\b\f\n\r\t\x00\x01\x1f\x7f", "<a>&b", "\xff\xfe/x\xc3", "line\u2028sep\u2029",
		"é/日本/🎉", "\u202e\u2066", "a\x00b", "\xed\xa0\x80", `\u2028`}
	rnd := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "/", "\"", "\\", "\n", "\x01", "<", ">", "&", "\xff", "\u2028", "\u2029", "é", "🎉", "\u202e", " ", "\x7f", "\xc3"}
	for range 300 {
		var s string
		for range rnd.IntN(12) {
			s += alphabet[rnd.IntN(len(alphabet))]
		}
		odd = append(odd, s)
	}
	pick := func(i int) string { return odd[i%len(odd)] }
	items := []jsonItem{{}, {Path: "/", Category: "unpersisted", Type: "dir", Mode: "0755", Mtime: "2026-01-01T00:00:00Z", Why: "w"}}
	for i := range odd {
		ji := jsonItem{Path: pick(i), PathBase64: pick(i + 1), Category: pick(i + 2), Type: pick(i + 3), Entries: int64(i) - 5, Bytes: int64(i) << 40,
			Mode: pick(i + 4), Mtime: pick(i + 5), Target: pick(i + 6), Declared: pick(i + 7), DeclaredAt: pick(i + 8), Mount: int32(i % 3),
			History: pick(i + 9), Why: pick(i + 10), Adopt: pick(i + 11), AdoptPreferLive: pick(i + 12), AdoptPreferPersistent: pick(i + 13),
			CopyMtime: pick(i + 14), CopyDiffers: pick(i + 15)}
		if i%2 == 0 {
			ji.Hidden = &jsonTotal{int64(i), -int64(i)}
		}
		items = append(items, ji)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("    ", "  ")
	for _, ji := range items {
		buf.Reset()
		if err := enc.Encode(ji); err != nil {
			t.Fatal(err)
		}
		want := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		if got := appendJSONItem([]byte("prefix"), &ji); string(got[len("prefix"):]) != string(want) {
			t.Fatalf("item %+v:\n got %q\nwant %q", ji, got[len("prefix"):], want)
		}
	}
}
