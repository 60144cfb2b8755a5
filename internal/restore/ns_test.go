package restore

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/testutil"
)

// The tests that mount (a tmpfs, a bind mount, a btrfs image) run as
// internal/btrfs's and test/e2e's do, through testutil.Namespace: the test
// binary re-executes itself under `unshare --mount --propagation private`,
// so every mount lives in a private namespace that dies with the child,
// even when the test fails or is killed; nothing is mounted in the host's.
// Images are sparse files in the parent's t.TempDir, attached with
// `mount -o loop` (autoclear).

const (
	envChild = "DRIFT_RESTORE_CHILD"
	envDir   = "DRIFT_RESTORE_DIR"
)

// mountNS is the namespace of the tests that mount a tmpfs or bind-mount
// (root: DRIFT_REQUIRE_HOST); btrfsNS that of the real-btrfs tests
// (DRIFT_REQUIRE_BTRFS).
var (
	mountNS = testutil.Namespace{Child: envChild, Dir: envDir, Require: testutil.RequireHost, Timeout: 2 * time.Minute}
	btrfsNS = testutil.Namespace{Child: envChild, Dir: envDir, Require: "DRIFT_REQUIRE_BTRFS", Timeout: 2 * time.Minute}
)

// inMountNamespace runs the calling test in a namespaced child and reports
// whether this process is that child (then the test body runs). It needs
// root and unshare(1), not loop devices.
func inMountNamespace(t *testing.T) bool {
	t.Helper()
	if mountNS.IsChild(t) {
		return true
	}
	needRoot(t)
	if out, err := exec.Command("unshare", "--mount", "--propagation", "private", "true").CombinedOutput(); err != nil {
		testutil.SkipOrFatal(t, mountNS.Require, fmt.Sprintf("cannot create a private mount namespace: unshare --mount: %v: %s", err, strings.TrimSpace(string(out))))
	}
	mountNS.Run(t)
	return false
}

// inBtrfsNamespace is inMountNamespace for a test that mounts btrfs images.
func inBtrfsNamespace(t *testing.T) bool {
	t.Helper()
	if btrfsNS.IsChild(t) {
		return true
	}
	btrfsNS.Prepare(t, "real-btrfs tests", "mount", "umount", "mkfs.btrfs", "btrfs")
	btrfsNS.Run(t)
	return false
}

var imageSeq int

// newBtrfs makes a fresh btrfs filesystem on a loop image in the parent's
// scratch directory and returns the directory its top level is mounted
// at (in the namespaced child), unmounted when the test ends.
func newBtrfs(t *testing.T) string {
	t.Helper()
	imageSeq++
	return btrfsNS.NewBtrfs(t, fmt.Sprintf("fs%d", imageSeq))
}

// sh runs a command, failing the test with its output when it fails.
func sh(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
