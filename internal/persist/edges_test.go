package persist

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestNixReaderEdges: the string forms the static reader must get right
// (” strings with ”$, ”' and ”\ escapes, ${} interpolation of let
// bindings), and inputs that must fail fast with a position instead of
// exhausting the stack or the clock.
func TestNixReaderEdges(t *testing.T) {
	src := "let\n  base = \"/srv\";\n  extra = [ \"${base}/b\" ];\nin {\n" +
		"  environment.persistence.\"/p\".directories = [\n" +
		"    ''/srv/''${literal}''\n" + // ''$ escapes the interpolation
		"    ''/srv/it'''s''\n" + // ''' is two quotes
		"    \"${base}/a\"\n" +
		"    \"/srv/$${x}\"\n" + // $$ is a dollar
		"  ] ++ extra;\n}\n"
	s, err := ParseNix([]byte(src), "f.nix", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range s.Entries {
		got = append(got, e.Path+" @"+e.Pos.String())
	}
	wantLines(t, "entries", got, []string{
		"/srv/${literal} @f.nix:6:5",
		"/srv/it''s @f.nix:7:5",
		"/srv/a @f.nix:8:5",
		"/srv/$${x} @f.nix:9:5",
		"/srv/b @f.nix:3:13",
	})
	if len(s.Diagnostics) != 0 {
		t.Errorf("diagnostics: %q", diags(s))
	}
	for _, tt := range []struct{ name, nix, want string }{
		{"unterminated '' after ''$", "{ a = ''x ''$", `f.nix:1:7: unterminated indented string`},
		{"unterminated '' ending in '''", "{ a = ''x '''", `f.nix:1:7: unterminated indented string`},
		{"unterminated ${ in ''", "{ a = ''${b ''; }", `f.nix:1:`},
		// 4 MB of a.a.a…: each token once measured the whole run (quadratic).
		{"long attribute path", "{ " + strings.Repeat("a.", 2000000) + "a = 1; }", "f.nix:1:2003: attribute path longer than 1000 components"},
		{"deep let", strings.Repeat("let a = ", 100000), "f.nix:1:"},
		{"deep strings", strings.Repeat(`"${`, 100000), "f.nix:1:"},
	} {
		start := time.Now()
		_, err := ParseNix([]byte(tt.nix), "f.nix", Options{})
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want prefix %q", tt.name, err, tt.want)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: took %v", tt.name, d)
		}
	}
}

// TestNixHugeInput: a 6 MB module with 100,000 entries is read whole, in
// bounded time.
func TestNixHugeInput(t *testing.T) {
	var b strings.Builder
	b.WriteString("{ environment.persistence.\"/p\".directories = [\n")
	for i := range 100000 {
		b.WriteString("  \"/srv/data/a-rather-long-directory-name-to-make-it-big/")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString("\"\n")
	}
	b.WriteString("]; }\n")
	start := time.Now()
	s, err := ParseNix([]byte(b.String()), "f.nix", Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range s.Duplicates {
		n += int(d.N)
	}
	if len(s.Entries) != 7 || len(s.Duplicates) != 7 || n != 100000-7 {
		t.Errorf("%d entries, %d duplicates of %d of them; want 7, %d of 7", len(s.Entries), n, len(s.Duplicates), 100000-7)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %v", d)
	}
}

// TestNixStringBlowup: a short file whose strings double at every binding
// (by + and by interpolation) is a diagnostic, not gigabytes of memory.
func TestNixStringBlowup(t *testing.T) {
	for _, tc := range []struct{ name, step string }{
		{"plus", "a%d = a%d + a%d;"},
		{"interpolation", `a%d = "${a%d}${a%d}";`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			b.WriteString("let a0 = \"/x\";\n")
			for i := 1; i <= 70; i++ {
				fmt.Fprintf(&b, tc.step+"\n", i, i-1, i-1)
			}
			b.WriteString("in { environment.persistence.\"/p\".directories = [ a70 \"/var/log\" ]; }\n")
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			s, err := ParseNix([]byte(b.String()), "f.nix", Options{})
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Entries) != 1 || s.Entries[0].Path != "/var/log" {
				t.Errorf("entries %+v, want only /var/log", s.Entries)
			}
			if !hasDiag(s, "a string longer than 1 MiB") {
				t.Errorf("no diagnostic about the string: %+v", s.Diagnostics)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
				t.Errorf("allocated %d MiB", grew>>20)
			}
		})
	}
}

// TestNixPathTooLong: an entry longer than PATH_MAX is an error and left
// out, so that a list of thousands of 1 MiB paths built by doubling is read
// in bounded time and memory (path handling is then never fed megabytes).
func TestNixPathTooLong(t *testing.T) {
	var b strings.Builder
	b.WriteString("let s0 = \"/x\";\n")
	for i := 1; i <= 19; i++ {
		fmt.Fprintf(&b, "s%d = s%d + s%d;\n", i, i-1, i-1)
	}
	b.WriteString("l0 = [ s19 ];\n")
	for i := 1; i <= 12; i++ {
		fmt.Fprintf(&b, "l%d = l%d ++ l%d;\n", i, i-1, i-1)
	}
	b.WriteString("in { environment.persistence.\"/p\".directories = l12 ++ [ \"/var/log\" ]; }\n")
	start := time.Now()
	s, err := ParseNix([]byte(b.String()), "f.nix", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Entries) != 1 || s.Entries[0].Path != "/var/log" {
		t.Errorf("%d entries, want only /var/log", len(s.Entries))
	}
	if !hasDiag(s, "longer than any path Linux can open") {
		t.Errorf("no diagnostic about the path's length")
	}
	for _, d := range s.Diagnostics {
		if len(d.Message) > 500 {
			t.Fatalf("a diagnostic of %d bytes", len(d.Message))
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
}
