// Package e2e holds end-to-end tests that run the drift binary against a real
// btrfs filesystem put through the real initrd wipe.
//
// Every test that touches mounts re-executes this test binary under
// `unshare --mount --propagation private`, so all its mounts live in a private
// mount namespace and vanish with it: nothing leaks to the host even when the
// test fails, panics or is killed. Loop devices are attached with
// `mount -o loop` (autoclear), so they detach when the namespace's last mount
// of the image goes away; the parent checks that with `losetup -j`.
package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

const (
	// envChild names the test a re-executed child runs inside the namespace.
	envChild = "DRIFT_E2E_CHILD"
	// envDir is a directory owned (and removed) by the parent test.
	envDir = "DRIFT_E2E_DIR"
	// envDrift is the drift binary the parent built.
	envDrift = "DRIFT_E2E_DRIFT"
	// envRequire turns a missing prerequisite into a failure (CI sets it).
	envRequire = "DRIFT_REQUIRE_BTRFS"
	// envHarnessOnly runs the btrfs harness without drift: it computes and
	// logs what the real wipe destroyed and checks the harness's own
	// expectations. For working on the harness while the CLI does not build.
	envHarnessOnly = "DRIFT_E2E_HARNESS_ONLY"
)

var buildDir string // created in TestMain, removed when the binary exits

func TestMain(m *testing.M) {
	if os.Getenv(envChild) == "" {
		d, err := os.MkdirTemp("", "drift-e2e-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		buildDir = d
	}
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// namespace is the private mount namespace each btrfs test runs in; on an
// interrupt the drift binary built for the tests is removed too.
var namespace = testutil.Namespace{Child: envChild, Dir: envDir, Require: envRequire,
	OnInterrupt: func() { os.RemoveAll(buildDir) }}

func harnessOnly() bool { return os.Getenv(envHarnessOnly) == "1" }

// requireBtrfs checks everything the btrfs tests need before any namespace or
// image exists.
func requireBtrfs(t *testing.T) {
	t.Helper()
	namespace.Prepare(t, "btrfs end-to-end tests", "mount", "umount", "findmnt", "setpriv", "mkfs.btrfs", "btrfs", "bash", "date", "stat", "find", "cut", "mv")
	if b, err := os.ReadFile("/proc/filesystems"); err == nil && !strings.Contains(string(b), "btrfs") {
		// The module may still autoload on the first mount; only warn.
		t.Logf("btrfs not in /proc/filesystems yet (may autoload)")
	}
}

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// driftBinary builds ./cmd/drift once per test binary and returns its path.
func driftBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go") // go test puts its own go first on PATH
		if err != nil {
			buildErr = fmt.Errorf("building drift: %v", err)
			return
		}
		out, err := exec.Command(goTool, "env", "GOMOD").Output()
		if err != nil {
			buildErr = fmt.Errorf("go env GOMOD: %v", err)
			return
		}
		gomod := strings.TrimSpace(string(out))
		if gomod == "" || gomod == os.DevNull {
			buildErr = errors.New("go env GOMOD: not inside the drift module")
			return
		}
		bin := filepath.Join(buildDir, "drift")
		cmd := exec.Command(goTool, "build", "-o", bin, "./cmd/drift")
		cmd.Dir = filepath.Dir(gomod)
		// Static, as `make build` ships it: tests also run it chrooted
		// into the test system, where no dynamic loader exists.
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/drift: %v\n%s", err, out)
			return
		}
		buildPath = bin
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// runInNamespace checks the prerequisites, builds drift, and re-executes
// this test binary (testutil.Namespace) as
// `unshare --mount --propagation private <self> -test.run ^Name$ -test.v`
// with the child marker set, streams its output into the test log, fails if
// the child fails, skips if it skipped, and afterwards verifies that no loop
// device is still attached to an image in the shared directory.
func runInNamespace(t *testing.T) {
	t.Helper()
	requireBtrfs(t)
	drift := ""
	if !harnessOnly() {
		drift = driftBinary(t)
	}
	ns := namespace
	ns.Env = []string{envDrift + "=" + drift}
	ns.Run(t)
}

// childDir is the parent-owned scratch directory (image, mount points).
func childDir(t *testing.T) string {
	t.Helper()
	d := os.Getenv(envDir)
	if d == "" {
		t.Fatal(envDir + " not set in the namespaced child")
	}
	return d
}

// run runs a command and fails the test with its output on error.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// command is exec.Command with a death signal, so nothing outlives the child.
func command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// driftChild is the preamble of a test that runs drift in a private mount
// namespace. In the parent it re-runs the test in that namespace and returns
// false: the caller returns. In the child it returns true, or skips when the
// harness runs without drift (DRIFT_E2E_HARNESS_ONLY).
func driftChild(t *testing.T) bool {
	t.Helper()
	if !namespace.IsChild(t) {
		runInNamespace(t)
		return false
	}
	if harnessOnly() {
		t.Skip("needs the drift binary")
	}
	return true
}

// driftSystem is driftChild for a test on a real btrfs system: nil in the
// parent (the caller returns), a new system in the child.
func driftSystem(t *testing.T) *system {
	t.Helper()
	if !driftChild(t) {
		return nil
	}
	return newSystem(t)
}
