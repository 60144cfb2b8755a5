package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"
)

// hostile are name parts that must never reach a terminal or JSON raw: a
// newline that forges a line of drift's own, an ESC sequence, the bidi
// controls U+202E (right-to-left override) and U+2066 (left-to-right
// isolate), and invalid UTF-8.
var hostile = []string{
	"new\ndrift: error: FORGED",
	"esc\x1b[31mred\x1b]0;title\x07",
	"rlo\u202eexe.txt",
	"lri\u2066x\u2069",
	"bad\xff\xfeutf8",
}

// rawHazard returns a description of the first raw control character,
// bidi control or invalid UTF-8 byte in out ("" when clean); newlines
// separate lines, and a line forged by a name is reported too.
func rawHazard(out string) string {
	for i, r := range out {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(out[i:], "\uFFFD"):
			return "invalid UTF-8 at byte " + itoa(i)
		case r == '\n':
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
			return "control character " + itoa(int(r)) + " at byte " + itoa(i)
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
			return "bidi control at byte " + itoa(i)
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "drift: error: FORGED") {
			return "a forged line: " + l
		}
	}
	return ""
}

// jsonStrings appends every string value (not key) in v.
func jsonStrings(v any, out []string) []string {
	switch v := v.(type) {
	case string:
		out = append(out, v)
	case []any:
		for _, e := range v {
			out = jsonStrings(e, out)
		}
	case map[string]any:
		for _, e := range v {
			out = jsonStrings(e, out)
		}
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestHostileNames runs drift's commands with hostile names wherever a
// name comes from: files in the audited root (lost, in every check and
// suggest format but paths0, raw by design), files named on the
// command line that do not exist or are not regular files (every input
// flag, and lint's arguments), declarations naming them, and restore's
// paths. Nothing on stdout or stderr holds a raw control character, bidi
// control or invalid UTF-8, and no line is forged.
func TestHostileNames(t *testing.T) {
	dir, args := workstation(t)
	root := filepath.Join(dir, "root")
	var decl strings.Builder
	decl.WriteString("{ environment.persistence.\"/nix/persist\".directories = [\n")
	for i, h := range hostile {
		p := filepath.Join(root, "var/lib/hostile", h)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, h), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		// Declared but not mounted: declared-unbacked rows name it.
		if i%2 == 0 {
			decl.WriteString("  \"/var/lib/hostile/" + strings.ReplaceAll(strings.ReplaceAll(h, "\n", `\n`), "\x1b", `\u001b`) + "\"\n")
		}
	}
	decl.WriteString("]; }\n")
	declFile := filepath.Join(dir, "hostile.nix")
	if err := os.WriteFile(declFile, []byte(decl.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	checkArgs := forCommand("check", args)
	suggestArgs := forCommand("suggest", args)
	var runs [][]string
	for _, f := range []string{"table", "json", "paths", "prom"} {
		runs = append(runs, append(append([]string{}, checkArgs...), "--persist", declFile, "--format", f))
	}
	for _, f := range []string{"table", "nix", "json"} {
		runs = append(runs, append(append([]string{}, suggestArgs...), "--format", f))
	}
	for _, h := range hostile {
		missing := filepath.Join(dir, h)
		fifo := filepath.Join(dir, "fifo "+h)
		if err := syscall.Mkfifo(fifo, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, flag := range []string{"--persist", "--mountinfo", "--ignore-file", "--root"} {
			runs = append(runs, append(append([]string{}, checkArgs...), flag, missing), append(append([]string{}, checkArgs...), flag, fifo))
		}
		runs = append(runs, []string{"lint", fifo})
		runs = append(runs,
			[]string{"lint", missing},
			[]string{"lint", "--format", "json", missing},
			[]string{"lint", declFile},
			[]string{"lint", "--format", "json", declFile},
			[]string{"lint", "--format", "github", declFile},
			[]string{"restore", "/var/lib/" + h, "--from", filepath.Join(dir, "old_roots", "2026-11-29_08:00:00"), "--root", root, "--persist", declFile, "--dry-run"},
			[]string{"restore", "/var/lib/hostile/" + h, "--from", root, "--root", root, "--persist", declFile, "--to", "live", "--dry-run"},
			[]string{"diff", missing, root},
			[]string{"diff", "--format", "json", filepath.Join(root, "var/lib/hostile"), filepath.Join(dir, "old_roots", "2026-11-29_08:00:00", "var/lib")},
			[]string{"diff", "--format", "paths", filepath.Join(root, "var/lib/hostile"), filepath.Join(dir, "old_roots", "2026-11-29_08:00:00", "var/lib")},
			[]string{"diff", filepath.Join(root, "var/lib/hostile"), filepath.Join(dir, "old_roots", "2026-11-29_08:00:00", "var/lib")},
		)
	}
	for _, a := range runs {
		code, stdout, stderr := runDrift(t, a...)
		if testing.Verbose() {
			t.Logf("drift %q: exit %d\n%s\n%s", a, code, stdout, stderr)
		}
		for _, out := range []struct{ name, text string }{{"stdout", stdout}, {"stderr", stderr}} {
			if why := rawHazard(out.text); why != "" {
				t.Errorf("drift %q (exit %d): %s: %s\n%s", a, code, out.name, why, out.text)
			}
		}
		// JSON: the decoded strings are escaped as the terminal's are, so
		// a program printing a field prints no raw hazard either.
		var v any
		if json.Unmarshal([]byte(stdout), &v) == nil {
			for _, s := range jsonStrings(v, nil) {
				if why := rawHazard(strings.ReplaceAll(s, "\n", " ")); why != "" || strings.Contains(s, "\n") {
					t.Errorf("drift %q: JSON string %q: %s", a, s, why)
				}
			}
		}
	}
}
