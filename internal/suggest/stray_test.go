package suggest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/persist"
)

func mkfile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestStray: what lies under the storage path that no declaration covers,
// a directory of it as one row with its subtree's size; declared copies,
// what is below a declared directory and the directories on the way to
// them are not stray; a symlink is listed, never followed; nothing is
// removed.
func TestStray(t *testing.T) {
	root := t.TempDir()
	ps := filepath.Join(root, "persist")
	outside := t.TempDir()
	mkfile(t, filepath.Join(outside, "big"), strings.Repeat("x", 1000))
	mkfile(t, filepath.Join(ps, "var/lib/kept/db"), "kept")
	mkfile(t, filepath.Join(ps, "var/lib/old/db"), "12345")
	mkfile(t, filepath.Join(ps, "var/lib/old/sub/more"), "678")
	mkfile(t, filepath.Join(ps, "etc/machine-id"), "id")
	mkfile(t, filepath.Join(ps, "etc/adjtime"), "0.0")
	mkfile(t, filepath.Join(ps, "home/alice/.ssh/id"), "k")
	mkfile(t, filepath.Join(ps, "home/alice/notes.txt"), "n")
	if err := os.Symlink(outside, filepath.Join(ps, "var/lib/link")); err != nil {
		t.Fatal(err)
	}
	set := &persist.Set{Entries: []persist.Entry{
		{Kind: persist.Dir, StoragePath: "/persist", Path: "/var/lib/kept"},
		{Kind: persist.File, StoragePath: "/persist", Path: "/etc/machine-id"},
		{Kind: persist.Dir, StoragePath: "/persist", Path: "/home/alice/.ssh", Owner: "alice"},
		{Kind: persist.Dir, StoragePath: "/elsewhere", Path: "/var/lib/x"}, // absent: nothing, no warning
	}}
	got, warnings := Stray(context.Background(), root, set, 2)
	if len(warnings) != 0 {
		t.Errorf("warnings: %q", warnings)
	}
	var rows []string
	for _, s := range got {
		rows = append(rows, fmt.Sprintf("%s %s %s %d %d %s", s.Action, s.Path, s.Kind, s.Entries, s.Bytes, s.LivePath))
	}
	want := []string{
		"declare-or-remove /persist/etc/adjtime file 1 3 /etc/adjtime",
		"declare-or-remove /persist/home/alice/notes.txt file 1 1 /home/alice/notes.txt",
		"declare-or-remove /persist/var/lib/link file 1 0 /var/lib/link",
		"declare-or-remove /persist/var/lib/old directory 4 8 /var/lib/old",
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
	if _, err := os.Stat(filepath.Join(ps, "var/lib/old/db")); err != nil {
		t.Errorf("stray data touched: %v", err)
	}

	// A storage path reached through a symlink is not walked: a warning.
	root2 := t.TempDir()
	if err := os.Symlink(ps, filepath.Join(root2, "persist")); err != nil {
		t.Fatal(err)
	}
	got, warnings = Stray(context.Background(), root2, set, 2)
	if len(got) != 0 || len(warnings) != 1 || !strings.Contains(warnings[0], "cannot read the persistent storage path /persist") {
		t.Errorf("through a symlink: %d rows, warnings %q", len(got), warnings)
	}
}
