package e2e

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/nix-drift/drift/internal/btrfs"
)

// topLevelMounts lists the mount points of the top level (subvolid=5) of
// the filesystem on dev in this mount namespace.
func topLevelMounts(t *testing.T, dev string) []string {
	t.Helper()
	out := run(t, "findmnt", "-rn", "-o", "TARGET,OPTIONS", "-S", dev)
	var tops []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(l); len(f) == 2 && strings.Contains(","+f[1]+",", ",subvolid=5,") {
			tops = append(tops, f[0])
		}
	}
	return tops
}

// TestKilledTopLevelLeavesNoMount: drift restore, wipe and roots killed
// (SIGKILL) while the btrfs top level is open — every old root and the
// persistent storage in it — leave no mount of it in the caller's mount
// namespace and no directory behind. A fresh-user tester's kill -9 of
// drift restore left it mounted at /tmp/drift-top-N (and empty
// /tmp/drift-top-N directories): the top level is now a detached mount
// held by a descriptor, gone with the process.
func TestKilledTopLevelLeavesNoMount(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	writeFile(t, s.M("/srv/app/config"), "old config\n", 0o644)
	s.shutdownAndWipe()
	s.boot(unbackedAtFirstBoot)
	before := topLevelMounts(t, s.dev)
	tmp := t.TempDir()
	for _, args := range [][]string{
		{"restore", "/srv/app", "--from", "latest", "--to", "live", "--force", "--root", s.root, "--persist", s.declPath()},
		{"wipe", "--device", s.dev, "--dry-run"},
		{"roots", "--device", s.dev},
	} {
		cmd := command(os.Getenv(envDrift), args...)
		cmd.Env = append(os.Environ(), btrfs.KillEnv+"=1", "TMPDIR="+tmp)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Errorf("drift %s with %s=1: %v, want killed by SIGKILL\n%s", args[0], btrfs.KillEnv, err, out)
		}
		if after := topLevelMounts(t, s.dev); strings.Join(after, " ") != strings.Join(before, " ") {
			t.Errorf("drift %s killed: top-level mounts %q, before %q", args[0], after, before)
		}
		if ents, _ := os.ReadDir(tmp); len(ents) > 0 {
			t.Errorf("drift %s killed: %s holds %s", args[0], tmp, ents[0].Name())
		}
	}
}
