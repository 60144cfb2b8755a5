package restore

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/testutil"
)

// The tests that mount (a tmpfs, a bind mount) run as
// internal/btrfs's and test/e2e's do, through testutil.Namespace: the test
// binary re-executes itself under `unshare --mount --propagation private`,
// so every mount lives in a private namespace that dies with the child,
// even when the test fails or is killed; nothing is mounted in the host's.

const (
	envChild = "DRIFT_RESTORE_CHILD"
	envDir   = "DRIFT_RESTORE_DIR"
)

// mountNS is the namespace of the tests that mount a tmpfs or bind-mount
// (root: DRIFT_REQUIRE_HOST).
var mountNS = testutil.Namespace{Child: envChild, Dir: envDir, Require: testutil.RequireHost, Timeout: 2 * time.Minute}

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
