package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// NewBtrfs makes a fresh btrfs filesystem on a sparse 256 MiB loop image
// named name+".img" in the namespaced child's scratch directory (the
// environment variable ns.Dir), mounts it (`mount -o loop`, autoclear) at
// the directory name beside it and returns that directory; everything
// mounted there is unmounted (umount -R) when the test ends. It fails t
// outside the child, when ns.Dir is unset, or when mkfs.btrfs or mount
// fails, with the command's output.
func (ns Namespace) NewBtrfs(t testing.TB, name string) string {
	t.Helper()
	dir := os.Getenv(ns.Dir)
	if dir == "" {
		t.Fatalf("%s not set in the namespaced child", ns.Dir)
	}
	img, top := filepath.Join(dir, name+".img"), filepath.Join(dir, name)
	Must(t, os.MkdirAll(top, 0o755))
	f, err := os.Create(img)
	Must(t, err)
	Must(t, f.Truncate(256<<20))
	Must(t, f.Close())
	for _, c := range [][]string{{"mkfs.btrfs", "-q", "-f", img}, {"mount", "-o", "loop", img, top}} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(c, " "), err, out)
		}
	}
	t.Cleanup(func() { exec.Command("umount", "-R", top).Run() })
	return top
}
