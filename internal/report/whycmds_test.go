package report

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/persist"
)

// TestTableCommandsAfterTable: a row's command (the drift adopt that
// keeps it, the two --prefer ones where the persistent copy differs) is
// not in its WHY cell but after the table, numbered, the cell saying "run
// [N]"; each runs as RowAdopt and RowAdoptPrefer give it, with --root and
// the declarations. JSON's why still carries each command whole. A fresh
// user found the demo's /srv rows' WHY cells eight wrapped lines of a
// drift adopt with absolute paths, the reason lost among them.
func TestTableCommandsAfterTable(t *testing.T) {
	a := audit()
	a.Root = "/mnt/rescue/a/root/with/a/rather/long/name"
	a.Args = []string{"--persist", "/home/alice/src/nixos-config/hosts/workstation/impermanence.nix"}
	a.Decls.Entries = append(a.Decls.Entries, persist.Entry{Kind: persist.Dir, StoragePath: "/p", Path: "/var/lib/app"})
	a.Lost = append(a.Lost, &diff.Item{Path: "/var/lib/app/db", Category: diff.DeclaredUnbacked, Mode: fileMode, Size: 4, Decl: 1, Copy: diff.CopyDiffers})
	want := map[string][]string{"/srv/d": {RowAdopt(a, a.Lost[6])}}
	live, _ := RowAdoptPrefer(a, a.Lost[7]) // only --prefer live: diff.KeepCopyBack
	want["/var/lib/app/db"] = []string{live}
	for p, cmds := range want {
		for _, c := range cmds {
			if !strings.HasPrefix(c, "drift adopt ") || !strings.Contains(c, " --root "+a.Root+" ") {
				t.Fatalf("%s: command %q, want a drift adopt with --root", p, c)
			}
		}
	}

	var buf bytes.Buffer
	if err := Write(&buf, a, Options{Format: "table"}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	table, after, _ := strings.Cut(out, "┘\n")
	if strings.Contains(table, "drift adopt") || strings.Contains(table, a.Root) {
		t.Errorf("a WHY cell holds a command:\n%s", out)
	}
	refs := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\[(\d+)\] (.+)$`).FindAllStringSubmatch(after, -1) {
		refs[m[2]] = true
		if !strings.Contains(table, "["+m[1]+"]") {
			t.Errorf("[%s] after the table, referred to by no row:\n%s", m[1], out)
		}
	}
	n := 0
	for _, cmds := range want {
		for _, c := range cmds {
			n++
			if !refs[c] {
				t.Errorf("not after the table: %s\n%s", c, out)
			}
		}
	}
	if len(refs) != n {
		t.Errorf("%d commands after the table, want %d:\n%s", len(refs), n, out)
	}

	buf.Reset()
	if err := Write(&buf, a, Options{Format: "json"}); err != nil {
		t.Fatal(err)
	}
	var j struct{ Items []struct{ Path, Why string } }
	if err := json.Unmarshal(buf.Bytes(), &j); err != nil {
		t.Fatal(err)
	}
	for _, it := range j.Items {
		for _, c := range want[it.Path] {
			if !strings.Contains(it.Why, c) {
				t.Errorf("JSON why of %s %q lacks %q", it.Path, it.Why, c)
			}
		}
	}
}
