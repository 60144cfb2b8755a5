package testutil

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Namespace runs a test in a private mount namespace: the test binary
// re-executes itself under `unshare --mount --propagation private`, with the
// test's name in the environment variable Child, so every mount the test
// makes lives in a namespace that dies with the child, even when the test
// fails, panics or is killed. Loop devices attached with `mount -o loop`
// (autoclear) detach when the namespace's last mount of their image goes;
// the parent checks that no loop device is left on an image (*.img) in the
// scratch directory it hands the child in the environment variable Dir.
type Namespace struct {
	// Child and Dir name the environment variables that mark the child
	// (the test's name) and hold the scratch directory (owned and removed
	// by the parent).
	Child, Dir string
	// Require names the DRIFT_REQUIRE_* variable that turns the child's
	// skip into a failure.
	Require string
	// Env is more of the child's environment ("NAME=value").
	Env []string
	// Timeout bounds the child, less when the test's deadline is nearer;
	// when zero, the test's deadline (go test -timeout) bounds it alone, or
	// 10 minutes without one. The child's own -test.timeout is 5 s less,
	// so that a hung child prints its goroutines before it is killed.
	Timeout time.Duration
	// OnInterrupt, when set, runs after a SIGINT, SIGTERM or SIGHUP killed
	// the child and removed the scratch directory, before the test binary
	// exits (status 1).
	OnInterrupt func()
}

// Prepare skips t (SkipOrFatal, with ns.Require) unless namespaced tests
// that mount loop images can run on this host: as root, with each of
// tools in PATH, loop devices (/dev/loop-control and a free one, losetup
// -f) and a private mount namespace (unshare --mount). what names the
// tests in the reason ("real-btrfs tests").
func (ns Namespace) Prepare(t testing.TB, what string, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		SkipOrFatal(t, ns.Require, what+" need root (loop devices, mount)")
	}
	for _, tool := range append([]string{"unshare", "losetup"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			SkipOrFatal(t, ns.Require, fmt.Sprintf("%s: %s not found in PATH (apt-get install -y btrfs-progs util-linux coreutils findutils)", what, tool))
		}
	}
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		SkipOrFatal(t, ns.Require, what+": no loop device support: "+err.Error())
	}
	if out, err := exec.Command("losetup", "-f").CombinedOutput(); err != nil {
		SkipOrFatal(t, ns.Require, fmt.Sprintf("%s: no free loop device: losetup -f: %v: %s", what, err, strings.TrimSpace(string(out))))
	}
	if out, err := exec.Command("unshare", "--mount", "--propagation", "private", "true").CombinedOutput(); err != nil {
		SkipOrFatal(t, ns.Require, fmt.Sprintf("%s: cannot create a private mount namespace: unshare --mount: %v: %s", what, err, strings.TrimSpace(string(out))))
	}
}

// IsChild reports whether this process is the namespaced child for t.
func (ns Namespace) IsChild(t *testing.T) bool {
	return os.Getenv(ns.Child) == t.Name()
}

// Run re-executes the test binary for t in a private mount namespace and
// waits for it, logging its output line by line ("ns| …"). t fails when
// the child fails, does not report PASS, or leaves a loop device attached;
// it is skipped (SkipOrFatal) when the child skipped.
func (ns Namespace) Run(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	timeout := ns.Timeout
	if timeout == 0 {
		timeout = 10 * time.Minute
	}
	if dl, ok := t.Deadline(); ok {
		if left := time.Until(dl) - 10*time.Second; left < timeout {
			timeout = left
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := []string{"--mount", "--propagation", "private", self,
		"-test.run=^" + t.Name() + "$", "-test.v=true", "-test.count=1",
		"-test.timeout=" + (timeout - 5*time.Second).String()}
	cmd := exec.CommandContext(ctx, "unshare", args...)
	cmd.Env = append(append(os.Environ(), ns.Child+"="+t.Name(), ns.Dir+"="+dir), ns.Env...)
	// unshare execs the test binary in place, so the death signal reaches it
	// if this process dies: the namespace and its mounts die with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		io.Copy(io.Discard, pr)
	}()
	// On SIGINT/SIGTERM/SIGHUP: kill the child (its namespace, mounts and
	// loop device go with it), remove the scratch files, and exit.
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigc)
	runtime.LockOSThread() // Pdeathsig fires when the forking thread exits
	if err := cmd.Start(); err != nil {
		runtime.UnlockOSThread()
		pw.Close()
		for range lines {
		}
		t.Fatalf("start unshare: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); pw.Close() }()
	var caught os.Signal
	go func() {
		if sig, ok := <-sigc; ok {
			caught = sig
			cmd.Process.Kill()
		}
	}()
	skipped, passed := false, false
	for l := range lines {
		t.Log("ns| " + l)
		trim := strings.TrimSpace(l)
		if strings.HasPrefix(trim, "--- SKIP: "+t.Name()+" ") {
			skipped = true
		}
		if strings.HasPrefix(trim, "--- PASS: "+t.Name()+" ") {
			passed = true
		}
	}
	waitErr := <-done
	runtime.UnlockOSThread()
	checkNoLoopLeft(t, dir)
	if caught != nil {
		os.RemoveAll(dir)
		os.Remove(filepath.Dir(dir)) // t.TempDir's parent, now empty
		if ns.OnInterrupt != nil {
			ns.OnInterrupt()
		}
		fmt.Fprintf(os.Stderr, "%s: interrupted by %v; namespace gone, scratch files removed\n", t.Name(), caught)
		os.Exit(1)
	}
	switch {
	case waitErr != nil:
		t.Fatalf("namespaced child failed: %v", waitErr)
	case skipped:
		SkipOrFatal(t, ns.Require, "namespaced child skipped (see log)")
	case !passed:
		t.Fatalf("namespaced child exited 0 but did not report PASS for %s", t.Name())
	}
}

// checkNoLoopLeft fails (and detaches) if a loop device still backs any
// image in dir once the child's namespace is gone. Autoclear runs when the
// last mount is released, which can lag the child's exit slightly.
func checkNoLoopLeft(t testing.TB, dir string) {
	t.Helper()
	imgs, _ := filepath.Glob(filepath.Join(dir, "*.img"))
	for _, img := range imgs {
		var out []byte
		for i := 0; i < 50; i++ {
			out, _ = exec.Command("losetup", "-j", img).Output()
			if len(strings.TrimSpace(string(out))) == 0 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if s := strings.TrimSpace(string(out)); s != "" {
			t.Errorf("loop device still attached to %s after the namespace exited:\n%s", img, s)
			for _, l := range strings.Split(s, "\n") {
				if dev, _, ok := strings.Cut(l, ":"); ok {
					exec.Command("losetup", "-d", dev).Run()
				}
			}
		} else {
			t.Logf("no loop device left attached to %s", filepath.Base(img))
		}
	}
}
