package report

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/suggest"
)

func TestNixString(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"/var/lib/app", `"/var/lib/app"`, true},
		{`/srv/a"b`, `"/srv/a\"b"`, true},
		{`/srv/a\b`, `"/srv/a\\b"`, true},
		{"/srv/${x}", `"/srv/\${x}"`, true},
		{"/srv/a\nb", `"/srv/a\nb"`, true},
		{"/srv/المستندات", `"/srv/المستندات"`, true},
		{"/srv/a\x1bb", "", false},
		{"/srv/\xff", "", false},
		{"/srv/\u202eevil", "", false},
	} {
		got, ok := NixString(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("NixString(%q) = %q %v, want %q %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestWriteNixParses: names that need escaping, a user with an odd name,
// an unprintable path (a comment, not a declaration): the module parses
// back through persist.ParseNix into exactly the printable paths.
func TestWriteNixParses(t *testing.T) {
	r := &SuggestReport{Root: "/", StoragePath: "/persist", Suggestions: []suggest.Suggestion{
		{Rank: 1, Action: suggest.Persist, Path: `/srv/a "quoted" ${dir}`, Kind: persist.Dir, StoragePath: "/persist", Confidence: "low"},
		{Rank: 2, Action: suggest.Persist, Path: "/etc/x.conf", Kind: persist.File, StoragePath: "/persist", Confidence: "low",
			Attrs: &suggest.Attrs{User: "root", Group: "wheel", Mode: "0750"}},
		{Rank: 3, Action: suggest.Persist, Path: "/home/j.doe/.config/app", Kind: persist.Dir, StoragePath: "/persist", Confidence: "low",
			User: "j.doe", Home: "/home/j.doe", Rel: ".config/app"},
		{Rank: 4, Action: suggest.Persist, Path: "/srv/bad\x1b[31m", Kind: persist.Dir, StoragePath: "/persist", Confidence: "low"},
		{Rank: 5, Action: suggest.Ignore, Path: "/var/cache", Kind: persist.Dir},
		{Rank: 6, Action: suggest.DeclareOrRemove, Path: "/persist/old", Kind: persist.Dir, Entries: 2, Bytes: 2048},
	}}
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	if err := WriteNix(w, r); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	out := b.String()
	if strings.ContainsRune(out, 0x1b) {
		t.Errorf("raw escape in the output:\n%s", out)
	}
	for _, want := range []string{`users."j.doe" = {`, "#   --ignore /var/cache", "#   /persist/old (2 entries, 2.0 KiB)", `#   /srv/bad\x1b[31m`,
		`{ file = "/etc/x.conf"; parentDirectory = { user = "root"; group = "wheel"; mode = "0750"; }; } # 2, low`} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	set, err := persist.ParseNix(b.Bytes(), "s.nix", persist.Options{})
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var got []string
	for _, e := range set.Entries {
		got = append(got, e.Kind.String()+" "+e.Path)
	}
	want := "directory /srv/a \"quoted\" ${dir}|file /etc/x.conf|directory /home/j.doe/.config/app"
	if strings.Join(got, "|") != want {
		t.Errorf("parsed %q\nwant %q\n%s", strings.Join(got, "|"), want, out)
	}
}

// TestIgnoreRule: the suggested rule, given to drift check's --ignore,
// matches the path and what is below it, and not its siblings that a
// metacharacter would have matched.
func TestIgnoreRule(t *testing.T) {
	for _, tc := range []struct{ p, below, sibling string }{
		{"/var/cache", "/var/cache/x", "/var/cachex"},
		{"/srv/a*b", "/srv/a*b/c", "/srv/aXb"},
		{"/srv/[x]", "/srv/[x]/y", "/srv/x"},
		{"/srv/what?", "/srv/what?/y", "/srv/whatX"},
		{`/srv/back\slash`, `/srv/back\slash/y`, "/srv/backslash"},
	} {
		ig := &diff.Ignore{}
		if err := ig.Add(IgnoreRule(tc.p), "test"); err != nil {
			t.Fatalf("%s: %v", tc.p, err)
		}
		for p, want := range map[string]bool{tc.p: true, tc.below: true, tc.sibling: false} {
			if got := ig.Match(p); got != want {
				t.Errorf("rule %q on %q: %v, want %v", IgnoreRule(tc.p), p, got, want)
			}
		}
	}
}

// Stray data in persistent storage gets one instruction in every output:
// the Nix comment says what the table's note says (drift prune, which
// --undo reverses), never "remove by hand (drift never deletes)".
func TestStrayAdviceSameInNixAndTable(t *testing.T) {
	s := suggest.Suggestion{Rank: 1, Action: suggest.DeclareOrRemove, Path: "/persist/old", LivePath: "/old", StoragePath: "/persist", Kind: persist.Dir, Entries: 2, Bytes: 2048}
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	if err := WriteNix(w, &SuggestReport{Root: "/", StoragePath: "/persist", Suggestions: []suggest.Suggestion{s}}); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	note := s.Note(func(x string) string { return x })
	for name, out := range map[string]string{"nix": b.String(), "table note": note} {
		if !strings.Contains(out, "move it aside: drift prune (drift prune --undo ID puts it back; drift prune --list shows the IDs)") || strings.Contains(out, "by hand") || strings.Contains(out, "never deletes") {
			t.Errorf("%s:\n%s", name, out)
		}
	}
}

// TestWriteNixPreservation: for a configuration that declares with
// preservation, the module is preservation.preserveAt, a file's parent
// owner and mode are preservation's parent (with configureParent), and it
// reads back as preservation's entries: the same paths, users' relative to
// the home. The note on a configuration using both modules is printed.
func TestWriteNixPreservation(t *testing.T) {
	r := &SuggestReport{Root: "/", StoragePath: "/persistent", Module: persist.Preservation,
		ModuleNote: "the configuration declares with both impermanence (1 entry) and preservation (2 entries): written for preservation",
		Suggestions: []suggest.Suggestion{
			{Rank: 1, Action: suggest.Persist, Path: "/var/lib/app", Kind: persist.Dir, StoragePath: "/persistent", Confidence: "low",
				Attrs: &suggest.Attrs{User: "app", Group: "app", Mode: "0700"}},
			{Rank: 2, Action: suggest.Persist, Path: "/etc/app/key", Kind: persist.File, StoragePath: "/persistent", Confidence: "low",
				Attrs: &suggest.Attrs{User: "root", Group: "wheel", Mode: "0750"}},
			{Rank: 3, Action: suggest.Persist, Path: "/home/alice/.config/app", Kind: persist.Dir, StoragePath: "/persistent", Confidence: "low",
				User: "alice", Home: "/home/alice", Rel: ".config/app"},
		}}
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	if err := WriteNix(w, r); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	out := b.String()
	for _, want := range []string{`preservation.preserveAt."/persistent" = {`, "# " + r.ModuleNote + ".",
		`{ directory = "/var/lib/app"; user = "app"; group = "app"; mode = "0700"; } # 1, low`,
		`{ file = "/etc/app/key"; configureParent = true; parent = { user = "root"; group = "wheel"; mode = "0750"; }; } # 2, low`,
		`users.alice = {`} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "environment.persistence") || strings.Contains(out, "parentDirectory") {
		t.Errorf("impermanence's options in:\n%s", out)
	}
	set, err := persist.ParseNix(b.Bytes(), "s.nix", persist.Options{})
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var got []string
	for _, e := range set.Entries {
		got = append(got, e.Module+" "+e.Kind.String()+" "+e.Path)
	}
	want := "preservation directory /var/lib/app|preservation file /etc/app/key|preservation directory /home/alice/.config/app"
	if strings.Join(got, "|") != want {
		t.Errorf("parsed %q\nwant %q\n%s", strings.Join(got, "|"), want, out)
	}
}
