package persist

import (
	"context"
	"path/filepath"
	"slices"
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
