package btrfs

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestDetachReal: a detached top level is out of the mount table and its
// directory is gone, yet reads on through /proc/self/fd/N until Close;
// CheckSubvolume tells subvolumes from directories and symlinks.
func TestDetachReal(t *testing.T) {
	if !inNamespace(t) {
		return
	}
	im := newImage(t)
	im.subvol("root", time.Time{})
	testutil.Must(t, os.WriteFile(im.P("root/f"), []byte("x"), 0o644))
	testutil.Must(t, os.Mkdir(im.P("plain"), 0o755))
	testutil.Must(t, os.Symlink("root", im.P("link")))
	top, err := OpenTop(context.Background(), im.Dev, nil)
	testutil.Must(t, err)
	defer top.Close()

	rel, id, err := top.CheckSubvolume("/root")
	if err != nil || rel != "root" || id < 256 {
		t.Errorf("CheckSubvolume(/root) = %q, %d, %v", rel, id, err)
	}
	for in, want := range map[string]string{"plain": "not a btrfs subvolume", "link": "is a symlink", "missing": "no such file", "../x": "not a subvolume path", "/": "not a subvolume path"} {
		if _, _, err := top.CheckSubvolume(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckSubvolume(%q): %v, want %q", in, err, want)
		}
	}

	dir := top.Dir
	testutil.Must(t, top.Detach())
	if !strings.HasPrefix(top.Dir, "/proc/self/fd/") {
		t.Errorf("Dir after Detach: %q", top.Dir)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the mount directory %s after Detach: %v", dir, err)
	}
	if b, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(b), dir) {
		t.Errorf("%s still in the mount table", dir)
	}
	if b, err := os.ReadFile(filepath.Join(top.Dir, "root/f")); err != nil || string(b) != "x" {
		t.Errorf("read through the detached top level: %q, %v", b, err)
	}
	testutil.Must(t, top.Detach()) // twice: nothing
	fdPath := top.Dir
	testutil.Must(t, top.Close())
	if _, err := os.Stat(filepath.Join(fdPath, "root")); err == nil {
		t.Errorf("%s still readable after Close", fdPath)
	}
}
