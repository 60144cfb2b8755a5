package suggest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/testutil"
)

// TestStray: what lies under the storage path that no declaration covers,
// a directory of it as one row with its subtree's size; declared copies,
// what is below a declared directory and the directories on the way to
// them are not stray; a symlink is listed, never followed; nothing is
// removed.
func TestStray(t *testing.T) {
	root := t.TempDir()
	ps := filepath.Join(root, "persist")
	outside := t.TempDir()
	testutil.WriteFile(t, filepath.Join(outside, "big"), strings.Repeat("x", 1000))
	testutil.WriteFile(t, filepath.Join(ps, "var/lib/kept/db"), "kept")
	testutil.WriteFile(t, filepath.Join(ps, "var/lib/old/db"), "12345")
	testutil.WriteFile(t, filepath.Join(ps, "var/lib/old/sub/more"), "678")
	testutil.WriteFile(t, filepath.Join(ps, "etc/machine-id"), "id")
	testutil.WriteFile(t, filepath.Join(ps, "etc/adjtime"), "0.0")
	testutil.WriteFile(t, filepath.Join(ps, "home/alice/.ssh/id"), "k")
	testutil.WriteFile(t, filepath.Join(ps, "home/alice/notes.txt"), "n")
	if err := os.Symlink(outside, filepath.Join(ps, "var/lib/link")); err != nil {
		t.Fatal(err)
	}
	set := &persist.Set{Entries: []persist.Entry{
		{Kind: persist.Dir, StoragePath: "/persist", Path: "/var/lib/kept"},
		{Kind: persist.File, StoragePath: "/persist", Path: "/etc/machine-id"},
		{Kind: persist.Dir, StoragePath: "/persist", Path: "/home/alice/.ssh", Origin: &persist.Origin{Owner: "alice"}},
		{Kind: persist.Dir, StoragePath: "/elsewhere", Path: "/var/lib/x"}, // absent: nothing, no warning
	}}
	got, warnings := Stray(context.Background(), root, set, nil, nil, 2)
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
	got, warnings = Stray(context.Background(), root2, set, nil, nil, 2)
	if len(got) != 0 || len(warnings) != 1 || !strings.Contains(warnings[0].Message, "cannot read the persistent storage path /persist") {
		t.Errorf("through a symlink: %d rows, warnings %q", len(got), warnings)
	}
}

// TestStrayLinkedAndContainers: what a live symlink points at under the
// storage path is in use, and so are the directories on the way to it
// (/etc/machine-id -> /persist/etc/machine-id, a tmpfiles L rule); a
// directory holding many applications' state that nothing declares is
// never summarised whole: what it holds is listed, a symlink as one.
func TestStrayLinkedAndContainers(t *testing.T) {
	root := t.TempDir()
	ps := filepath.Join(root, "persist")
	testutil.WriteFile(t, filepath.Join(ps, "etc/machine-id"), "0123456789abcdef0123456789abcdef\n")
	testutil.WriteFile(t, filepath.Join(ps, "var/log/x"), "log")
	testutil.WriteFile(t, filepath.Join(ps, "var/lib/oldapp/db"), "12345")
	testutil.WriteFile(t, filepath.Join(ps, "var/lib/oldapp/sub/more"), "678")
	testutil.WriteFile(t, filepath.Join(ps, "home/bob/.config/oldtool/rc"), "rc")
	if err := os.Symlink("/nowhere", filepath.Join(ps, "var/lib/current")); err != nil {
		t.Fatal(err)
	}
	set := &persist.Set{Entries: []persist.Entry{{Kind: persist.Dir, StoragePath: "/persist", Path: "/var/log"}}}
	got, warnings := Stray(context.Background(), root, set, nil, []audit.Use{{Path: "/persist/etc/machine-id", Kind: audit.UseLinked, By: "linked from /etc/machine-id"}}, 2)
	if len(warnings) != 0 {
		t.Errorf("warnings: %q", warnings)
	}
	var rows []string
	for _, s := range got {
		rows = append(rows, fmt.Sprintf("%s %s %v %d %d", s.Path, s.Kind, s.Symlink, s.Entries, s.Bytes))
	}
	want := []string{
		"/persist/home/bob/.config/oldtool directory false 2 2",
		"/persist/var/lib/current file true 1 0",
		"/persist/var/lib/oldapp directory false 4 8",
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
	for _, s := range got {
		if n := s.Note(func(x string) string { return x }); strings.Contains(n, "again") {
			t.Errorf("%s: %q", s.Path, n)
		}
	}

	// Without the link, the machine ID's copy is stray (a file, not /etc).
	got, _ = Stray(context.Background(), root, set, nil, nil, 2)
	if len(got) == 0 || got[0].Path != "/persist/etc/machine-id" {
		t.Errorf("unlinked: first row %+v", got)
	}
}

// TestStraySymlinkedStoragePath: a storage path reached through a symlink
// is not walked, and the warning says so in those words.
func TestStraySymlinkedStoragePath(t *testing.T) {
	real := t.TempDir()
	testutil.WriteFile(t, filepath.Join(real, "var/lib/old/db"), "x")
	for _, tc := range []struct{ link, sp, want string }{
		{"persist", "/persist", "/persist is a symlink (not followed)"},
		{"nix", "/nix/persist", "/nix is a symlink (not followed)"},
	} {
		root := t.TempDir()
		if err := os.Symlink(real, filepath.Join(root, tc.link)); err != nil {
			t.Fatal(err)
		}
		set := &persist.Set{Entries: []persist.Entry{{Kind: persist.Dir, StoragePath: tc.sp, Path: "/var/lib/kept"}}}
		got, warnings := Stray(context.Background(), root, set, nil, nil, 2)
		if len(got) != 0 || len(warnings) != 1 || !strings.Contains(warnings[0].Message, tc.want) {
			t.Errorf("%s: %d rows, warnings %q, want %q", tc.sp, len(got), warnings, tc.want)
		}
	}
	root := t.TempDir()
	testutil.WriteFile(t, filepath.Join(root, "persist"), "a file")
	_, warnings := Stray(context.Background(), root, &persist.Set{Entries: []persist.Entry{{Kind: persist.Dir, StoragePath: "/persist", Path: "/x"}}}, nil, nil, 2)
	if len(warnings) != 1 || !strings.Contains(warnings[0].Message, "/persist is not a directory") {
		t.Errorf("a file: warnings %q", warnings)
	}
}

// TestStrayNeverDriftsOwn: drift prune's quarantine and the shutdown
// reports the NixOS module keeps (<storage>/var/lib/drift) are never
// stray, nor is /var on the way to them, so drift prune never moves them;
// what lies beside them is.
func TestStrayNeverDriftsOwn(t *testing.T) {
	root := t.TempDir()
	ps := filepath.Join(root, "persist")
	testutil.WriteFile(t, filepath.Join(ps, ".drift-quarantine/20261207T000000Z/manifest.json"), "{}")
	testutil.WriteFile(t, filepath.Join(ps, "var/lib/drift/shutdown/latest.json"), "{}")
	testutil.WriteFile(t, filepath.Join(ps, "var/old"), "stray")
	set := &persist.Set{Entries: []persist.Entry{{Kind: persist.File, StoragePath: "/persist", Path: "/etc/machine-id"}}}
	got, _ := Stray(context.Background(), root, set, nil, nil, 1)
	var rows []string
	for _, s := range got {
		rows = append(rows, string(s.Action)+" "+s.Path)
	}
	if strings.Join(rows, "|") != "declare-or-remove /persist/var/old" {
		t.Errorf("stray rows %q, want only /persist/var/old", rows)
	}
}

// An in-use row counts what it holds as a stray row does (the tester's
// /persist/srv/www, holding index.html of 4 B, shown as 1 entry, 0 B;
// /persist/var/lib/grafana, 2 entries and 11 B when stray): the same
// directory gives the same Entries and Bytes in use or not.
func TestInUseRowCountsItsContent(t *testing.T) {
	root := t.TempDir()
	ps := filepath.Join(root, "persist")
	testutil.WriteFile(t, filepath.Join(ps, "srv/www/index.html"), "page")
	testutil.WriteFile(t, filepath.Join(ps, "var/lib/grafana/grafana.db"), "12345678901")
	set := &persist.Set{Entries: []persist.Entry{{Kind: persist.File, StoragePath: "/persist", Path: "/etc/machine-id"}}}
	rows := func(uses []audit.Use) map[string]string {
		got, _ := Stray(context.Background(), root, set, nil, uses, 2)
		m := map[string]string{}
		for _, s := range got {
			m[s.Path] = fmt.Sprintf("%s %d %d", s.Action, s.Entries, s.Bytes)
		}
		return m
	}
	stray := rows(nil)
	used := rows([]audit.Use{
		{Path: "/persist/srv/www", Kind: audit.UseMounted, By: "mounted at /srv/www"},
		{Path: "/persist/var/lib/grafana", Kind: audit.UseMounted, By: "mounted at /var/lib/grafana"},
	})
	for p, want := range map[string]string{"/persist/srv/www": "2 4", "/persist/var/lib/grafana": "2 11"} {
		if stray[p] != "declare-or-remove "+want || used[p] != "in-use "+want {
			t.Errorf("%s: stray %q, in use %q, want entries and bytes %s in both", p, stray[p], used[p], want)
		}
	}
}

// TestStrayKnowsTheModelsHomes: a home the model knows (--home
// alice=/srv/alice) is never a stray row whole, as /home/alice is not:
// what it holds is listed, its containers (.config) looked into. Before,
// Stray knew only /root and /home/NAME as homes, so drift prune --dry-run
// planned to move /srv/alice whole as one stray directory.
func TestStrayKnowsTheModelsHomes(t *testing.T) {
	root := t.TempDir()
	ps := filepath.Join(root, "persist")
	testutil.WriteFile(t, filepath.Join(ps, "srv/alice/notes.txt"), "n")
	testutil.WriteFile(t, filepath.Join(ps, "srv/alice/.config/app/x"), "x")
	set := &persist.Set{Entries: []persist.Entry{{Kind: persist.File, StoragePath: "/persist", Path: "/etc/machine-id"}}}
	got, _ := Stray(context.Background(), root, set, map[string]string{"alice": "/srv/alice"}, nil, 1)
	var rows []string
	for _, s := range got {
		rows = append(rows, string(s.Action)+" "+s.LivePath)
	}
	want := "declare-or-remove /srv/alice/.config/app|declare-or-remove /srv/alice/notes.txt"
	if strings.Join(rows, "|") != want {
		t.Errorf("stray rows %q, want %q", rows, want)
	}
}
