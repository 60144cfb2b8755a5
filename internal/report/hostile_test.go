package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/escape"
)

// hazard reports whether s holds a raw control character (newline
// included), a character that is not printable (bidi controls: U+202E,
// U+2066) or invalid UTF-8.
func hazard(s string) bool {
	for i, r := range s {
		if r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD") || r != ' ' && !unicode.IsPrint(r) {
			return true
		}
	}
	return false
}

// TestWipeJSONHostileNames: drift wipe --format json writes no raw bidi or
// control character, neither in the bytes written nor in the decoded
// strings: an old root's name reaches the warnings, why and the names
// escaped as on the terminal (Escape).
func TestWipeJSONHostileNames(t *testing.T) {
	name := "2026-11-5_09:03:07\u202eexe\u2066\n\x1b[31m\xff"
	p := &btrfs.Plan{
		Steps:    []btrfs.Step{},
		OldRoots: []btrfs.Decision{{OldRoot: btrfs.OldRoot{Name: name, Path: "old_roots/" + name, Mounted: []string{"/mnt/" + name}}, Why: "kept: " + name}},
		Warnings: []string{"old root old_roots/" + name + " is mounted: kept"},
		Notes:    []string{name + " is missing: a wipe was stopped after retiring it"},
	}
	var buf bytes.Buffer
	if err := WritePlan(&buf, p, "json", true); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, r := range out {
		if r != '\n' && hazard(string(r)) {
			t.Fatalf("raw %U in the JSON:\n%s", r, out)
		}
	}
	var v struct {
		Warnings []string
		Notes    []string
		OldRoots []struct {
			Name, Path, Why string
			Mounted         []string
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	want := escape.Name(p.Warnings[0])
	if len(v.Warnings) != 1 || v.Warnings[0] != want {
		t.Errorf("warnings %q, want %q (as on stderr)", v.Warnings, want)
	}
	if len(v.Notes) != 1 || v.Notes[0] != escape.Name(p.Notes[0]) {
		t.Errorf("notes %q, want %q (as in the table)", v.Notes, escape.Name(p.Notes[0]))
	}
	o := v.OldRoots[0]
	for _, s := range append([]string{o.Name, o.Path, o.Why}, append(o.Mounted, v.Warnings...)...) {
		if hazard(s) {
			t.Errorf("decoded string %q holds a raw hazard", s)
		}
	}
}

// TestJSONEscapesNonPrintable: any character that is not printable and
// that encoding/json leaves raw is written as its \u escape, the JSON
// decoding to the same value.
func TestJSONEscapesNonPrintable(t *testing.T) {
	in := "a\u202eb\u2066c\u200bd\U000E0001e\u00ade й"
	var buf bytes.Buffer
	if err := writeIndentedJSON(&buf, in); err != nil {
		t.Fatal(err)
	}
	for _, r := range buf.String() {
		if r != '\n' && hazard(string(r)) {
			t.Fatalf("raw %U in %s", r, buf.String())
		}
	}
	var back string
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back != in {
		t.Errorf("decoded %q, %v; want %q", back, err, in)
	}
}
