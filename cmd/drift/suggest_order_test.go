package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/testutil"
)

// TestSuggestListsPathsInDriftsOrder: a hundred directories /srv/junk1 …
// /srv/junk100, of growing sizes, all of low confidence: suggest listed
// junk100 first, then junk66 … junk99, then junk1 (field case: "junk100
// before junk1"), ordered by score points for size the table does not
// show. Within what the report shows (action, confidence) the paths are
// in the order drift lists paths everywhere (pathx.Compare), the ranks
// following it.
func TestSuggestListsPathsInDriftsOrder(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	for i := 1; i <= 100; i++ {
		p := filepath.Join(root, "srv", fmt.Sprintf("junk%d", i), "state")
		testutil.Must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		testutil.Must(t, os.WriteFile(p, make([]byte, i*1000), 0o644))
	}
	testutil.Must(t, os.MkdirAll(filepath.Join(root, "nix/persist"), 0o755))
	mi, decl := filepath.Join(dir, "mountinfo"), filepath.Join(dir, "p.nix")
	testutil.Must(t, os.WriteFile(mi, []byte("22 1 0:31 /root / rw - btrfs /dev/vda2 rw,subvol=/root\n27 22 0:31 /nix /nix rw - btrfs /dev/vda2 rw,subvol=/nix\n28 27 0:31 /persist /nix/persist rw - btrfs /dev/vda2 rw,subvol=/persist\n"), 0o644))
	testutil.Must(t, os.WriteFile(decl, []byte(`{ environment.persistence."/nix/persist".directories = [ "/var/log" ]; }`), 0o644))
	code, out, errs := runDrift(t, "suggest", "--root", root, "--mountinfo", mi, "--persist", decl, "--format", "json")
	if code != 0 {
		t.Fatalf("drift suggest: exit %d: %s", code, errs)
	}
	var rep struct {
		Suggestions []struct {
			Rank             int
			Path, Confidence string
		}
	}
	testutil.Must(t, json.Unmarshal([]byte(out), &rep))
	var paths []string
	for i, s := range rep.Suggestions {
		if s.Rank != i+1 || s.Confidence != "low" {
			t.Fatalf("suggestion %d: %+v, want rank %d, low", i, s, i+1)
		}
		paths = append(paths, s.Path)
	}
	if len(paths) != 100 || !slices.IsSortedFunc(paths, pathx.Compare) {
		t.Errorf("the %d suggestions are not in path order: %q", len(paths), paths)
	}
}
