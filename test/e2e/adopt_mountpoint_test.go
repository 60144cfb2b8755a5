package e2e

import (
	"os/exec"
	"strings"
	"testing"
)

// TestAdoptRefusesADeclaredPathThatIsItselfAMountPoint: on real btrfs, a
// declared directory with a tmpfs, or a foreign bind mount, mounted at it
// (the second fresh-user tester's cases: adopt said the tmpfs was "a
// symlink to /", and of the bind mount `"/": restore a path below the
// root`) is refused with its real reason and what to do, --dry-run and
// --pending too.
func TestAdoptRefusesADeclaredPathThatIsItselfAMountPoint(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	bt := s.M("/var/lib/bluetooth")
	run("umount", bt)
	run("mkdir", "-p", s.M("/srv/foreign"))
	for _, c := range []struct {
		mount []string
		want  string
	}{
		{[]string{"mount", "-t", "tmpfs", "none", bt}, "of a tmpfs filesystem"},
		{[]string{"mount", "--bind", s.M("/srv/foreign"), bt}, "of a bind mount (btrfs, of /"},
	} {
		run(c.mount...)
		writeFile(t, s.M("/var/lib/bluetooth/data"), "x\n", 0o600)
		for _, extra := range [][]string{{"/var/lib/bluetooth"}, {"/var/lib/bluetooth", "--dry-run"}} {
			code, out, errOut := s.driftAll(append(append([]string{"adopt"}, extra...), "--root", s.root, "--persist", s.declPath())...)
			if code != 2 || !strings.Contains(errOut, "drift: error: /var/lib/bluetooth is itself a mount point, "+c.want) ||
				!strings.Contains(errOut, "drift: hint: keep one of the two: remove the mount at /var/lib/bluetooth") ||
				strings.Contains(errOut, "symlink") || strings.Contains(errOut, `"/"`) {
				t.Errorf("%v, adopt %v: exit %d\nstdout:\n%s\nstderr:\n%s", c.mount, extra, code, out, errOut)
			}
		}
		run("umount", bt)
	}
}
