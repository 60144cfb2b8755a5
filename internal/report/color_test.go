package report

import (
	"bytes"
	"strings"
	"testing"
)

func TestUseColor(t *testing.T) {
	for _, tt := range []struct {
		mode          string
		tty           bool
		noColor, term string
		want          bool
	}{
		{"auto", true, "", "xterm-256color", true},
		{"auto", false, "", "xterm-256color", false}, // never colour a pipe or a file in auto
		{"auto", true, "1", "xterm", false},          // NO_COLOR
		{"auto", true, "", "dumb", false},
		{"", true, "", "xterm", true},
		{"always", false, "1", "dumb", true}, // explicit beats NO_COLOR
		{"never", true, "", "xterm", false},
	} {
		got, err := UseColor(tt.mode, tt.tty, tt.noColor, tt.term)
		if err != nil || got != tt.want {
			t.Errorf("UseColor(%q, %v, %q, %q) = %v, %v; want %v", tt.mode, tt.tty, tt.noColor, tt.term, got, err, tt.want)
		}
	}
	if _, err := UseColor("yes", true, "", ""); err == nil || !strings.Contains(err.Error(), "expected auto, always or never") {
		t.Errorf("UseColor(yes): %v", err)
	}
}

// TestTableColor: with Color the CATEGORY and WHY cells are coloured (and
// the table stays aligned: the escapes take no width); without it the
// output holds no escape at all.
func TestTableColor(t *testing.T) {
	var plain, col bytes.Buffer
	if err := Write(&plain, audit(), Options{Format: "table"}); err != nil {
		t.Fatal(err)
	}
	if err := Write(&col, audit(), Options{Format: "table", Color: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b") {
		t.Errorf("uncoloured table holds an escape:\n%s", plain.String())
	}
	for _, want := range []string{"\x1b[33munpersisted\x1b[0m", "\x1b[1;31mdeclared-unbacked\x1b[0m", "\x1b[1;31mnot\x1b[0m \x1b[1;31mbacked\x1b[0m"} {
		if !strings.Contains(col.String(), want) {
			t.Errorf("coloured table lacks %q:\n%s", want, col.String())
		}
	}
	// A wrapped cell closes its colour on every line.
	for _, l := range strings.Split(col.String(), "\n") {
		if strings.Count(l, "\x1b[0m") != strings.Count(l, "\x1b[")-strings.Count(l, "\x1b[0m") {
			t.Errorf("line leaves a colour open: %q", l)
		}
	}
	// Stripped of its escapes, the coloured table is the plain one.
	stripped := col.String()
	for _, sgr := range []string{"\x1b[33m", "\x1b[1;31m", "\x1b[0m"} {
		stripped = strings.ReplaceAll(stripped, sgr, "")
	}
	if stripped != plain.String() {
		t.Errorf("coloured table, escapes removed:\n%s\nwant:\n%s", stripped, plain.String())
	}
}
