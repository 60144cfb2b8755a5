package btrfs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/testutil"
	"golang.org/x/sys/unix"
)

// TestOpenTopDetached: OpenTop's top level is never in the mount table
// and makes no directory, whichever way it is mounted (the new mount API,
// or mount(2) detached at once where that API is missing), yet reads
// through /proc/self/fd/N until Close, and is gone after (a killed drift
// left the whole filesystem mounted at /tmp/drift-top-N: a fresh-user
// tester's finding; test/e2e's TestKilledTopLevelLeavesNoMount kills one);
// CheckSubvolume tells subvolumes from directories and symlinks.
func TestOpenTopDetached(t *testing.T) {
	if !inNamespace(t) {
		return
	}
	im := newImage(t)
	im.subvol("root", time.Time{})
	testutil.Must(t, os.WriteFile(im.P("root/f"), []byte("x"), 0o644))
	testutil.Must(t, os.Mkdir(im.P("plain"), 0o755))
	testutil.Must(t, os.Symlink("root", im.P("link")))
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	mountinfo, err := os.ReadFile("/proc/self/mountinfo")
	testutil.Must(t, err)
	noTrace := func(how string) {
		t.Helper()
		if b, _ := os.ReadFile("/proc/self/mountinfo"); string(b) != string(mountinfo) {
			t.Errorf("%s: the mount table changed:\n%s", how, b)
		}
		if ents, _ := os.ReadDir(tmp); len(ents) > 0 {
			t.Errorf("%s: %s holds %s", how, tmp, ents[0].Name())
		}
	}
	fd, err := legacyDetached(im.Dev)
	testutil.Must(t, err)
	noTrace("legacyDetached")
	if b, err := os.ReadFile(fmt.Sprintf("/proc/self/fd/%d/root/f", fd)); err != nil || string(b) != "x" {
		t.Errorf("read through legacyDetached's mount: %q, %v", b, err)
	}
	testutil.Must(t, unix.Close(fd))

	top, err := OpenTop(context.Background(), im.Dev, nil)
	testutil.Must(t, err)
	defer top.Close()
	noTrace("OpenTop")
	if !strings.HasPrefix(top.Dir, "/proc/self/fd/") {
		t.Errorf("Dir: %q", top.Dir)
	}
	if b, err := os.ReadFile(filepath.Join(top.Dir, "root/f")); err != nil || string(b) != "x" {
		t.Errorf("read through the detached top level: %q, %v", b, err)
	}
	if subs, err := top.Subvolumes(); err != nil || len(subs) != 1 {
		t.Errorf("Subvolumes: %v, %v", subs, err)
	}

	rel, id, err := top.CheckSubvolume("/root")
	if err != nil || rel != "root" || id < 256 {
		t.Errorf("CheckSubvolume(/root) = %q, %d, %v", rel, id, err)
	}
	for in, want := range map[string]string{"plain": "not a btrfs subvolume", "link": "is a symlink", "missing": "no such file", "../x": "not a subvolume path", "/": "not a subvolume path"} {
		if _, _, err := top.CheckSubvolume(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckSubvolume(%q): %v, want %q", in, err, want)
		}
	}

	fdPath := top.Dir
	testutil.Must(t, top.Close())
	if _, err := os.Stat(filepath.Join(fdPath, "root")); err == nil {
		t.Errorf("%s still readable after Close", fdPath)
	}
}
