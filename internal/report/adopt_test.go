package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/persist"
)

// TestRowAdopt: a declared-unbacked row and a shadowed row below a declared
// path carry the drift adopt command that keeps them (in WHY and in the
// JSON adopt field, one command for them all after the table); a shadowed
// row nothing declares, or an unpersisted one, carries none; a system
// audited at another root gets --root.
func TestRowAdopt(t *testing.T) {
	a := audit()
	a.Decls.Entries = append(a.Decls.Entries, persist.Entry{Kind: persist.Dir, StoragePath: "/p", Path: "/etc/nixos"})
	a.Lost = append(a.Lost,
		&diff.Item{Path: "/etc/nixos/hidden file", Category: diff.Shadowed, Mode: fileMode, Decl: -1},
		&diff.Item{Path: "/var/log/under", Category: diff.Shadowed, Mode: fileMode, Decl: -1})
	want := map[string]string{
		"/srv/d":                 "drift adopt /srv/d",
		"/etc/nixos/hidden file": "drift adopt '/etc/nixos/hidden file'",
		"/var/log/under":         "",
		"/a":                     "",
	}
	for _, it := range a.Lost {
		if w, ok := want[it.Path]; ok {
			if got := RowAdopt(a, it); got != w {
				t.Errorf("RowAdopt(%q) = %q, want %q", it.Path, got, w)
			}
		}
	}
	var buf bytes.Buffer
	if err := Write(&buf, a, Options{Format: "table"}); err != nil {
		t.Fatal(err)
	}
	if all := "Keep the declared rows before the next boot: drift adopt /srv /etc/nixos"; !strings.Contains(buf.String(), all) {
		t.Errorf("the table does not end with %q:\n%s", all, buf.String())
	}
	buf.Reset()
	a.Root = "/mnt"
	if err := Write(&buf, a, Options{Format: "json"}); err != nil {
		t.Fatal(err)
	}
	var r struct {
		Items []struct{ Path, Why, Adopt string }
	}
	if err := json.Unmarshal(buf.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, it := range r.Items {
		w := want[it.Path]
		if w != "" {
			w = strings.Replace(w, "drift adopt", "drift adopt --root /mnt", 1)
			seen++
		}
		if it.Adopt != w || w != "" && !strings.HasSuffix(it.Why, "; keep it: "+w) {
			t.Errorf("JSON row %q: adopt %q, why %q; want %q", it.Path, it.Adopt, it.Why, w)
		}
	}
	if seen != 2 {
		t.Errorf("%d JSON rows with an adopt command, want 2: %s", seen, buf.String())
	}
}
