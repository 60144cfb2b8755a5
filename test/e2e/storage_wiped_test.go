package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWritersRefuseStorageOnWipedRoot: a rescue system with only the root
// subvolume mounted (the fresh-user case: drift restore --dry-run planned
// mkdir …/mnt/persist/var… onto the root subvolume, exit 0; drift adopt
// into a mistyped /state reported success and check listed both as lost).
// The persistent storage path /nix/persist then lies on the wiped root:
// drift restore (a dry run too), drift adopt and drift prune refuse with
// exit 2, naming the storage path and the ephemeral root, and write
// nothing; drift check warns of it. Once the persistent storage is mounted, the same restore plan
// goes through.
func TestWritersRefuseStorageOnWipedRoot(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	s.unmountBelow(s.root)
	run(t, "mount", "-o", "subvol=root", s.dev, s.root)
	s.configuration() // the whole configuration, for drift prune (on the root now)
	old := filepath.Join(s.dir, "old")
	writeFile(t, filepath.Join(old, "srv/declared-unmounted/data"), "from the old root\n", 0o600)
	writeFile(t, s.M("/srv/declared-unmounted/data"), "on the root\n", 0o644)
	writeFile(t, s.M("/nix/persist/stray/x"), "on the root too\n", 0o644)
	before := snapshot(t, s.root)

	wantRefusal := func(what string, args ...string) {
		t.Helper()
		code, out, errOut := s.driftAll(args...)
		if code != 2 {
			t.Errorf("%s: exit %d, want 2\nstdout:\n%s\nstderr:\n%s", what, code, out, errOut)
		}
		// prune printed "no stray data to move" beside the refusal.
		if strings.Contains(out, "no stray data") {
			t.Errorf("%s: a refusal, and on stdout:\n%s", what, out)
		}
		for _, want := range []string{
			"the persistent storage path /nix/persist lies on the ephemeral root (/), wiped at every boot",
			"drift: hint: mount the persistent filesystem at " + s.M("/nix/persist") + " (or above it) first",
		} {
			if !strings.Contains(errOut, want) {
				t.Errorf("%s: stderr lacks %q:\n%s", what, want, errOut)
			}
		}
	}
	decl := []string{"--root", s.root, "--persist", s.declPath()}
	wantRefusal("drift restore --dry-run", append([]string{"restore", "/srv/declared-unmounted", "--from", old, "--dry-run"}, decl...)...)
	wantRefusal("drift restore", append([]string{"restore", "/srv/declared-unmounted", "--from", old}, decl...)...)
	wantRefusal("drift adopt", append([]string{"adopt", "/srv/declared-unmounted"}, decl...)...)
	wantRefusal("drift adopt --mount", append([]string{"adopt", "--mount", "/srv/declared-unmounted"}, decl...)...)
	wantRefusal("drift prune --dry-run", append([]string{"prune", "--dry-run"}, decl...)...)
	wantRefusal("drift prune", append([]string{"prune"}, decl...)...)
	assertUnchanged(t, "the root subvolume", before, snapshot(t, s.root))
	// drift check, from the same fact, warns.
	if _, _, errOut := s.driftAll(append([]string{"check", "--old-roots", "none"}, decl...)...); !strings.Contains(errOut, "drift: warning: the persistent storage path /nix/persist lies on the ephemeral root (/), wiped at every boot") {
		t.Errorf("drift check: no warning about /nix/persist on the wiped root:\n%s", errOut)
	}

	// The persistent storage mounted where the system mounts it: restored.
	run(t, "mount", "-o", "subvol=nix", s.dev, s.M("/nix"))
	run(t, "mount", "-o", "subvol=persist", s.dev, s.M("/nix/persist"))
	s.drift(0, append([]string{"restore", "/srv/declared-unmounted", "--from", old}, decl...)...)
	if b, err := os.ReadFile(s.M("/nix/persist/srv/declared-unmounted/data")); err != nil || string(b) != "from the old root\n" {
		t.Errorf("restored into the mounted persistent storage: %q, %v", b, err)
	}
}
