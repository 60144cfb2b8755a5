package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestPruneNeverMovesTheNixStore: declarations whose persistentStoragePath
// is /nix (the store's filesystem) make drift prune refuse, exit 2, dry
// run too, naming the Nix store it found; the store paths stay (fresh-user
// finding: prune --storage-path /nix --dry-run planned to move
// /nix/store/bbbb-etc and the system's other store paths).
func TestPruneNeverMovesTheNixStore(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	s.configuration()
	etc := "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-etc"
	testutil.Must(t, os.MkdirAll(s.M(etc), 0o755))
	writeFile(t, s.M(etc+"/hosts"), "127.0.0.1 localhost\n", 0o444)
	nix := s.dir + "/nix.json"
	testutil.Must(t, os.WriteFile(nix, []byte(`{"persistentStoragePath": "/nix", "directories": [ "/var/lib/nixos" ]}`), 0o644))
	for _, dry := range []bool{true, false} {
		args := []string{"prune", "--root", s.root, "--persist", s.declPath(), "--persist", nix, "--storage-path", "/nix"}
		if dry {
			args = append(args, "--dry-run")
		}
		code, out, errOut := s.driftAll(args...)
		if code != 2 || !strings.Contains(errOut, "holds a Nix store") || !strings.Contains(errOut, "/nix/store") || strings.Contains(out, etc) {
			t.Errorf("dry run %v: exit %d, want 2 naming the Nix store\n%s\n%s", dry, code, out, errOut)
		}
	}
	if _, err := os.Stat(s.M(etc + "/hosts")); err != nil {
		t.Errorf("the store path: %v", err)
	}
}

// TestPruneLeavesAStrayHeldOpen: a stray directory below which a running
// process holds a file open is left in place, refused naming the file,
// the pid and the program, --dry-run the same, and the stray beside it is
// moved (fresh-user finding: it was planned as used by nothing, no word);
// a run that refuses its only stray says only the refusal (it also said
// "no stray data to move").
func TestPruneLeavesAStrayHeldOpen(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	s.configuration()
	writeFile(t, s.M(storage+"/busy/sub/state.db"), "being written", 0o644)
	writeFile(t, s.M(storage+"/old"), "stray", 0o644)
	holder := command("sh", "-c", "exec 3<\"$1\"; exec sleep 60", "sh", s.M(storage+"/busy/sub/state.db"))
	testutil.Must(t, holder.Start())
	defer func() { holder.Process.Kill(); holder.Wait() }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/3", holder.Process.Pid)); err == nil && strings.HasSuffix(l, "/busy/sub/state.db") {
			if c, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", holder.Process.Pid)); strings.TrimSpace(string(c)) == "sleep" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the holder process did not open state.db")
		}
		time.Sleep(20 * time.Millisecond)
	}
	want := fmt.Sprintf("%s/busy/sub/state.db by pid %d (sleep)", storage, holder.Process.Pid)
	for _, dry := range []bool{true, false} {
		args := []string{"prune", "--root", s.root, "--persist", s.declPath(), "--format", "json"}
		if dry {
			args = append(args, "--dry-run")
		}
		code, out, errOut := s.driftAll(args...)
		var res struct {
			Batches []pruneBatch
			Refused []struct{ Path, Reason string }
		}
		if code != 1 || json.Unmarshal([]byte(out), &res) != nil {
			t.Fatalf("dry run %v: exit %d, want 1\n%s\n%s", dry, code, out, errOut)
		}
		if len(res.Refused) != 1 || res.Refused[0].Path != storage+"/busy" || !strings.Contains(res.Refused[0].Reason, want) || !strings.Contains(errOut, want) {
			t.Errorf("dry run %v: refused %+v, want %s/busy naming %q\n%s", dry, res.Refused, storage, want, errOut)
		}
		var moved []string
		for _, b := range res.Batches {
			for _, o := range b.Objects {
				moved = append(moved, o.Path)
			}
		}
		if !slices.Equal(moved, []string{storage + "/old"}) {
			t.Errorf("dry run %v: moved %q", dry, moved)
		}
	}
	// Only the busy stray left (old was moved above): the table says only
	// the refusal, never "no stray data to move" beside it.
	code, out, errOut := s.driftAll("prune", "--root", s.root, "--persist", s.declPath())
	if code != 1 || strings.Contains(out+errOut, "no stray data") || !strings.Contains(errOut, want) {
		t.Errorf("prune with only a refused stray: exit %d, want 1 and only the refusal:\n%s\n%s", code, out, errOut)
	}
	if b, err := os.ReadFile(s.M(storage + "/busy/sub/state.db")); err != nil || string(b) != "being written" {
		t.Errorf("the file held open: %v", err)
	}
}
