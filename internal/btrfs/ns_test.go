package btrfs

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/testutil"
)

// The real-btrfs tests run as test/e2e's do, through testutil.Namespace: the
// test binary re-executes itself under `unshare --mount --propagation
// private`, so every
// mount lives in a private namespace that dies with the child; images are
// sparse files in the parent's t.TempDir, attached with `mount -o loop`
// (autoclear). DRIFT_REQUIRE_BTRFS=1 turns a missing prerequisite into a
// failure.

const (
	envChild   = "DRIFT_BTRFS_CHILD"
	envDir     = "DRIFT_BTRFS_DIR"
	envRequire = "DRIFT_REQUIRE_BTRFS"
)

// namespace is the private mount namespace each real-btrfs test runs in.
var namespace = testutil.Namespace{Child: envChild, Dir: envDir, Require: envRequire, Timeout: 2 * time.Minute}

// inNamespace runs the calling test in a namespaced child and reports
// whether this process is that child (then the test body runs).
func inNamespace(t *testing.T) bool {
	t.Helper()
	if namespace.IsChild(t) {
		return true
	}
	namespace.Prepare(t, "real-btrfs tests", "mount", "mkfs.btrfs", "btrfs", "findmnt")
	namespace.Run(t)
	return false
}

// image is a fresh btrfs filesystem on a loop image, its top level mounted
// at Top by the test (the code under test mounts its own).
type image struct {
	t        *testing.T
	Dev, Top string
}

var imageSeq int

func newImage(t *testing.T) *image {
	t.Helper()
	dir := os.Getenv(envDir)
	if dir == "" {
		t.Fatal(envDir + " not set in the namespaced child")
	}
	imageSeq++
	img := filepath.Join(dir, fmt.Sprintf("fs%d.img", imageSeq))
	top := filepath.Join(dir, fmt.Sprintf("top%d", imageSeq))
	testutil.Must(t, os.MkdirAll(top, 0o755))
	f, err := os.Create(img)
	testutil.Must(t, err)
	testutil.Must(t, f.Truncate(256<<20))
	testutil.Must(t, f.Close())
	sh(t, "mkfs.btrfs", "-q", "-f", img)
	sh(t, "mount", "-o", "loop,subvolid=5", img, top)
	im := &image{t: t, Top: top}
	t.Cleanup(func() {
		// everything below top first (tests mount old roots), then top
		out, _ := exec.Command("findmnt", "-rn", "-o", "TARGET").Output()
		var under []string
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, dir+"/") {
				under = append(under, l)
			}
		}
		for i := len(under) - 1; i >= 0; i-- {
			exec.Command("umount", under[i]).Run()
		}
	})
	src := strings.TrimSpace(sh(t, "findmnt", "-n", "-o", "SOURCE", "--mountpoint", top))
	im.Dev = strings.SplitN(src, "[", 2)[0]
	return im
}

func sh(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// P is the host path of p, relative to the top level.
func (im *image) P(p string) string { return filepath.Join(im.Top, p) }

// subvol creates subvolume p (relative to the top level) and sets its mtime.
func (im *image) subvol(p string, mtime time.Time) {
	im.t.Helper()
	sh(im.t, "btrfs", "subvolume", "create", im.P(p))
	if !mtime.IsZero() {
		testutil.Must(im.t, os.Chtimes(im.P(p), mtime, mtime))
	}
}

// subvols lists the subvolume paths, sorted.
func (im *image) subvols() []string {
	im.t.Helper()
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(sh(im.t, "btrfs", "subvolume", "list", im.Top)), "\n") {
		if i := strings.Index(l, " path "); i >= 0 {
			out = append(out, l[i+len(" path "):])
		}
	}
	return out
}
