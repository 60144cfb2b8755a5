package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestWipeDryRunOnARunningSystemShowsThePlan: on real btrfs, with the root
// mounted as a running system has it, drift wipe --dry-run (the docs'
// first example) refused, exit 2, showing nothing (field case). A dry run
// changes nothing: it prints the plan, retiring the root, and says first
// that the real run would refuse and why; the real run still refuses, and
// neither changes a subvolume.
func TestWipeDryRunOnARunningSystemShowsThePlan(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	testutil.Must(t, os.Mkdir(filepath.Join(s.top, "old_roots"), 0o755))
	w := &wipeImage{t: t, top: s.top, dev: s.dev}
	before := w.tree()
	args := []string{"wipe", "--device", s.dev, "--resume-device", "none"}
	out, err := command(os.Getenv(envDrift), append(args, "--dry-run")...).CombinedOutput()
	if code := exitStatus(err); code != 0 || !strings.Contains(string(out), "plan (dry run, nothing changed)") || !strings.Contains(string(out), "retire  root -> old_roots/") ||
		!strings.Contains(string(out), "drift: warning: the real run would refuse: root (subvolume ") || !strings.Contains(string(out), "is mounted at ") {
		t.Errorf("drift wipe --dry-run with the root mounted: exit %d\n%s", code, out)
	}
	out, err = command(os.Getenv(envDrift), args...).CombinedOutput()
	if code := exitStatus(err); code != 2 || !strings.Contains(string(out), "retiring a mounted root") {
		t.Errorf("drift wipe with the root mounted: exit %d, want the refusal\n%s", code, out)
	}
	if got := w.tree(); !slices.Equal(got, before) {
		t.Errorf("subvolumes after the dry run and the refusal: %q, want %q", got, before)
	}
}
