package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestWipeRefusesStorageSubvol: on an unmounted image laid out as a real
// impermanent system (root, nix, persist), `drift wipe --subvol nix` or
// `--subvol persist` exits 2 naming what it found — nothing changed, dry
// run or not — where it planned "retire nix -> old_roots/…" without a
// warning (a fresh-user test: a typo in the initrd setup retires the Nix
// store, and the expiry deletes it 31 days later). --subvol-is-root
// accepts a storage name, never a Nix store.
func TestWipeRefusesStorageSubvol(t *testing.T) {
	if !driftChild(t) {
		return // the test ran in a private mount namespace
	}
	w := newWipeImage(t, "notroot")
	for _, s := range []string{"root", "nix", "persist"} {
		w.subvol(s, time.Time{})
	}
	for _, f := range []string{"root/etc/passwd", "nix/store/0a1b2c3d4f5g6h7i8j9k0l1m2n3p4q5r-hello/bin/hello", "nix/var/nix/db/db.sqlite", "persist/etc/machine-id", "persist/var/lib/nixos/uid-map"} {
		testutil.Must(t, os.MkdirAll(filepath.Dir(filepath.Join(w.top, f)), 0o755))
		testutil.Must(t, os.WriteFile(filepath.Join(w.top, f), []byte("x"), 0o644))
	}
	testutil.Must(t, os.Mkdir(filepath.Join(w.top, "old_roots"), 0o755))
	before := w.tree()
	for _, tc := range []struct{ subvol, want string }{
		{"nix", "holds a Nix store (var/nix/db)"},
		{"persist", `is named "persist", what persistent storage or the Nix store is called`},
	} {
		for _, dry := range []bool{true, false} {
			args := []string{"wipe", "--device", w.dev, "--resume-device", "none", "--subvol", tc.subvol}
			if dry {
				args = append(args, "--dry-run")
			}
			out, err := command(os.Getenv(envDrift), args...).CombinedOutput()
			if code := exitStatus(err); code != 2 || !strings.Contains(string(out), "--subvol "+tc.subvol+" (subvolume ") || !strings.Contains(string(out), tc.want) || strings.Contains(string(out), "retire") {
				t.Errorf("drift %s: exit %d\n%s\nwant exit 2 saying %q", strings.Join(args, " "), code, out, tc.want)
			}
		}
	}
	if got := w.tree(); !slices.Equal(got, before) {
		t.Errorf("subvolumes after the refusals: %q, want %q", got, before)
	}
	out := w.drift("--subvol", "persist", "--subvol-is-root", "--dry-run")
	if !strings.Contains(out, "retire  persist -> old_roots/") {
		t.Errorf("--subvol persist --subvol-is-root does not plan the retirement:\n%s", out)
	}
	if out, err := command(os.Getenv(envDrift), "wipe", "--device", w.dev, "--resume-device", "none", "--subvol", "nix", "--subvol-is-root", "--dry-run").CombinedOutput(); exitStatus(err) != 2 {
		t.Errorf("--subvol nix --subvol-is-root: exit %d, want 2 (a Nix store is never a root):\n%s", exitStatus(err), out)
	}
}

// exitStatus is err's exit status: 0 for nil, -1 when it is no exit.
func exitStatus(err error) int {
	var ee *exec.ExitError
	if err == nil {
		return 0
	}
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}
