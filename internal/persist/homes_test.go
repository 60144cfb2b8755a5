package persist

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestSettleHomesDeclaredAndDuplicates: the home settled from
// users.users.<name>.home in another file moves the user's entries the
// machine's configuration declares for what is in use (Config.Declared)
// too, and an entry moved onto the path of another is a duplicate, as if
// written there.
func TestSettleHomesDeclaredAndDuplicates(t *testing.T) {
	root := t.TempDir()
	testutil.WriteFile(t, filepath.Join(root, "etc/nixos/configuration.nix"),
		`{ imports = [ ./persist.nix ]; users.users.carol.home = "/srv/carol"; environment.persistence."/nix/persist".directories = [ "/srv/carol/data" ]; }`)
	testutil.WriteFile(t, filepath.Join(root, "etc/nixos/persist.nix"),
		`{ environment.persistence."/nix/persist".users.carol.directories = [ "data" "music" ]; }`)
	other := filepath.Join(root, "other.nix")
	testutil.WriteFile(t, other, `{ environment.persistence."/nix/persist".directories = [ "/var/log" ]; }`)

	set, _, err := Load(context.Background(), root, []string{other}, "", nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, e := range set.Config.Declared {
		declared = append(declared, e.Path)
	}
	slices.Sort(declared)
	if !slices.Contains(declared, "/srv/carol/music") || slices.Contains(declared, "/home/carol/music") {
		t.Errorf("in use: %q, want carol's music under /srv/carol", declared)
	}

	set, _, err = Load(context.Background(), root, nil, "", nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, e := range set.Entries {
		paths = append(paths, e.Path)
	}
	slices.Sort(paths)
	if !slices.Equal(paths, []string{"/srv/carol/data", "/srv/carol/music"}) {
		t.Errorf("discovered: entries %q", paths)
	}
	if rs, _ := set.Repeats(10); len(rs) != 1 || rs[0].First.Path != "/srv/carol/data" {
		t.Errorf("repeats %+v, want /srv/carol/data declared twice", rs)
	}
}

// TestSettleHomesDiagnosticNamesTheSettledHome: a user entry written
// absolute ("/data") in persist.nix, carol's home set to /srv/carol in the
// configuration.nix importing it. The entry moved to /srv/carol/data, but
// the warning drift check prints (persist's user-path-absolute) still said
// "relative to the home /home/carol", the file's guess.
func TestSettleHomesDiagnosticNamesTheSettledHome(t *testing.T) {
	root := t.TempDir()
	testutil.WriteFile(t, filepath.Join(root, "etc/nixos/configuration.nix"),
		`{ imports = [ ./persist.nix ]; users.users.carol.home = "/srv/carol"; }`)
	testutil.WriteFile(t, filepath.Join(root, "etc/nixos/persist.nix"),
		`{ environment.persistence."/nix/persist".users.carol.directories = [ "/data" ]; }`)
	set, _, err := Load(context.Background(), root, nil, "", nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Entries) != 1 || set.Entries[0].Path != "/srv/carol/data" {
		t.Fatalf("entries %+v, want /srv/carol/data", set.Entries)
	}
	n := 0
	for _, d := range set.Diagnostics {
		if d.Code != "user-path-absolute" {
			continue
		}
		n++
		if !strings.HasSuffix(d.Message, "relative to the home /srv/carol") || strings.Contains(d.Message, "/home/carol") {
			t.Errorf("diagnostic %q, want it to name the home /srv/carol", d.Message)
		}
	}
	if n != 1 {
		t.Errorf("%d user-path-absolute diagnostics, want 1: %+v", n, set.Diagnostics)
	}
}
