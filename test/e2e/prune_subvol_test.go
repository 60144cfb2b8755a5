package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestPruneNeverMovesNorDeletesASubvolume: on real btrfs, a stray of the
// persistent storage that is a btrfs subvolume, or holds one (a container
// manager's), was moved into the quarantine, and drift prune empty later
// deleted it with everything in it, as drift restore --force did over a
// nested subvolume (a fresh-user tester's finding). Both are refused and
// stay (exit 1, as for any refusal), the other strays move; and prune empty never enters a subvolume
// it finds in a batch (one an older drift moved there): the batch is
// reported, the subvolume and what it holds stay.
func TestPruneNeverMovesNorDeletesASubvolume(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	s.configuration()
	st := func(p string) string { return s.M(storage + p) }
	writeFile(t, st("/srv/old.conf"), "stale", 0o644)
	writeFile(t, st("/srv/images/readme"), "images", 0o644)
	run(t, "btrfs", "subvolume", "create", st("/srv/images/vm"))
	writeFile(t, st("/srv/images/vm/disk.img"), "container disk", 0o644)
	run(t, "btrfs", "subvolume", "create", st("/srv/box"))
	writeFile(t, st("/srv/box/disk.img"), "box disk", 0o644)
	writeFile(t, st("/srv/olddir/f"), "old dir", 0o644)

	var res struct {
		Batches []pruneBatch
		Refused []struct{ Path, Reason string }
	}
	testutil.Must(t, json.Unmarshal(s.drift(1, "prune", "--root", s.root, "--persist", s.declPath(), "--format", "json"), &res))
	refused := map[string]string{}
	for _, r := range res.Refused {
		refused[r.Path] = r.Reason
	}
	for p, at := range map[string]string{"/srv/images": "/srv/images/vm", "/srv/box": "/srv/box"} {
		if !strings.Contains(refused[storage+p], storage+at+" is a btrfs subvolume or a mount point (another device): drift never moves one") {
			t.Errorf("%s: refusal %q; want one naming %s", p, refused[storage+p], at)
		}
	}
	for _, p := range []string{"/srv/images/vm/disk.img", "/srv/box/disk.img", "/srv/images/readme"} {
		if _, err := os.Stat(st(p)); err != nil {
			t.Errorf("%s after prune: %v", p, err)
		}
	}
	if len(res.Batches) != 1 || len(res.Batches[0].Objects) != 2 {
		t.Fatalf("batches %+v; want one of /srv/old.conf and /srv/olddir", res.Batches)
	}

	// A subvolume inside a batch (as an older drift moved one there).
	b := res.Batches[0]
	held := filepath.Join(s.M(b.Dir), "held")
	run(t, "btrfs", "subvolume", "create", held)
	writeFile(t, filepath.Join(held, "disk.img"), "held disk", 0o644)
	later := time.Now().Add(31 * 24 * time.Hour).UTC().Format(time.RFC3339)
	code, out, errOut := s.driftAll("prune", "empty", "--root", s.root, "--persist", s.declPath(), "--older-than", "30d", "--now", later)
	if code == 0 || !strings.Contains(errOut, "held: a btrfs subvolume or a mount point (another device): drift never deletes one") {
		t.Errorf("prune empty over a subvolume: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if b, err := os.ReadFile(filepath.Join(held, "disk.img")); err != nil || string(b) != "held disk" {
		t.Errorf("the subvolume in the batch after prune empty: %q, %v", b, err)
	}
}
