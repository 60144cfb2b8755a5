package diff

import (
	"context"
	"testing"

	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/testutil"
)

// TestTmpfilesLinkIsRecreated: a link that a systemd-tmpfiles L rule of
// the configuration makes at boot (persist.Config.TmpfilesLinks) is
// recreated, not lost (a fresh-user test: check called /etc/nixos ->
// /nix/persist/nixos-config "unpersisted … nothing re-creates it" beside
// the rule making it). A link there to another target, and a link no rule
// makes, are still lost.
func TestTmpfilesLinkIsRecreated(t *testing.T) {
	spec := "l /etc/nixos -> /nix/persist/nixos-config\nl /etc/other -> /elsewhere\nl /etc/rel -> ../nix/persist/rel\nl /etc/norule -> /nix/persist/x\n"
	root := t.TempDir()
	testutil.Tree(t, root, spec)
	decls := &persist.Set{Entries: []persist.Entry{dir("/var/lib/svc")}, Config: &persist.Config{TmpfilesLinks: []persist.Link{
		{Path: "/etc/nixos", Target: "/nix/persist/nixos-config"},
		{Path: "/etc/other", Target: "/nix/persist/other"},
		{Path: "/etc/rel", Target: "/nix/persist/rel"},
	}}}
	a, err := Check(context.Background(), Config{Root: root, Mounts: table(t, btrfsSystem), Decls: decls})
	if err != nil {
		t.Fatal(err)
	}
	wantCats(t, a, map[string]string{
		"/etc/other":  "unpersisted",
		"/etc/norule": "unpersisted",
	})
	if a.Totals[Recreated].Count < 2 {
		t.Errorf("recreated %d, want /etc/nixos and /etc/rel among them", a.Totals[Recreated].Count)
	}
}
