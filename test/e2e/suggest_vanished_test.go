package e2e

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// suggestsVanished checks drift suggest right after the real wipe of
// TestHistoryAndVanishedAcrossDriftWipe (its old root oldName): what the
// wipe took and nothing declares (check's VANISHED rows without a
// declaration, but the symlink) is proposed to persist, each with the
// restore into its persistent copy and no --to live (before, suggest
// proposed none of them: it looked only at the live root); the declared
// rows, restored into their copies already by check's commands, are not.
// Its --format nix passes drift lint. With that snippet declared besides
// the system's declarations, each printed restore, run by a shell, puts
// the old root's data into the persistent copy. The copies are removed
// again afterwards: the caller restores the same paths --to live.
func suggestsVanished(t *testing.T, s *system, oldName string) {
	t.Helper()
	out := s.drift(0, "suggest", "--root", s.root, "--persist", s.declPath(), "--format", "json")
	var r struct {
		Suggestions []struct {
			Action, Path string
			Vanished     []struct{ Path, OldRoot, Restore string }
		}
	}
	testutil.Must(t, json.Unmarshal(out, &r))
	restores := map[string]string{}
	for _, sg := range r.Suggestions {
		for _, v := range sg.Vanished {
			if sg.Action != "persist" || v.OldRoot != oldName {
				t.Errorf("suggest: %s (%s) stands for vanished %s of %s, want persist of old root %s", sg.Path, sg.Action, v.Path, v.OldRoot, oldName)
			}
			restores[v.Path] = v.Restore
		}
	}
	want := []string{"/etc/lonely.conf", "/etc/with space's.conf", "/root/notes", "/srv/box", "/srv/other.txt"}
	if got := slices.Sorted(maps.Keys(restores)); !slices.Equal(got, want) {
		t.Fatalf("suggest proposes to persist the vanished %q, want %q\n%s", got, want, out)
	}
	for p, cmd := range restores {
		quoted := map[string]string{"/etc/with space's.conf": `'/etc/with space'"'"'s.conf'`}[p]
		if quoted == "" {
			quoted = p
		}
		if w := "drift restore " + quoted + " --from " + oldName + " --root " + s.root + " --persist " + s.declPath(); cmd != w {
			t.Errorf("suggest: restore of %s %q, want %q", p, cmd, w)
		}
	}
	nix := filepath.Join(s.dir, "suggested.nix")
	testutil.Must(t, os.WriteFile(nix, s.drift(0, "suggest", "--root", s.root, "--persist", s.declPath(), "--format", "nix"), 0o644))
	s.drift(0, "lint", "--fail-on", "info", nix)

	old := filepath.Join(s.top, "old_roots", oldName)
	for _, p := range want {
		cmd := command("bash", "-c", `drift() { "$DRIFT" "$@" --persist "$NIX"; }; `+restores[p])
		cmd.Env = append(os.Environ(), "DRIFT="+os.Getenv(envDrift), "NIX="+nix)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", restores[p], err, out)
		}
		if _, err := os.Lstat(s.M(p)); !os.IsNotExist(err) {
			t.Errorf("%s on the live root after its restore into the copy: %v", p, err)
		}
	}
	for _, p := range []string{"/etc/lonely.conf", "/etc/with space's.conf", "/root/notes/a.txt", "/root/notes/sub/b.txt", "/srv/box/state", "/srv/other.txt"} {
		wantData, err := os.ReadFile(filepath.Join(old, p))
		testutil.Must(t, err)
		if got, err := os.ReadFile(s.M(storage + p)); err != nil || string(got) != string(wantData) {
			t.Errorf("restored %s into its persistent copy: %q, %v; want %q", p, got, err, wantData)
		}
	}
	for _, p := range want {
		testutil.Must(t, os.RemoveAll(s.M(storage+p)))
	}
	testutil.Must(t, os.Remove(nix))
}
