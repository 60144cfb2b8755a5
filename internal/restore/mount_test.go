package restore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/testutil"
)

// --force over a mount point fails before anything is written, leaves the
// mount alone and says why. (In a private mount namespace, as every test
// here that mounts: inMountNamespace.)
func TestRestoreForceOverMountPoint(t *testing.T) {
	if !inMountNamespace(t) {
		return
	}
	old, live := system(t, Dir{Entries: map[string]node{"key": File{Content: "k"}}})
	mp := filepath.Join(live, "etc/ssh")
	testutil.Must(t, os.MkdirAll(mp, 0o755))
	if err := unix.Mount("tmpfs", mp, "tmpfs", 0, "size=1m"); err != nil {
		testutil.SkipOrFatal(t, testutil.RequireHost, fmt.Sprintf("cannot mount a tmpfs: %v", err))
	}
	t.Cleanup(func() { unix.Unmount(mp, unix.MNT_DETACH) })
	_, err := Run(context.Background(), Request{From: old, Path: "/etc/ssh", Root: live, Dest: "/etc/ssh", Force: true})
	var h *HintError
	var m *MountError
	if !errors.As(err, &m) || m.Path != mp || !errors.As(err, &h) || !strings.Contains(h.Hint, "--to persist") {
		t.Fatalf("err = %v, want a MountError for %s with a hint", err, mp)
	}
	noTemp(t, filepath.Join(live, "etc"))
}

// bindMount bind-mounts src on dst (created as a directory or an empty
// file, like src) until the test ends; it skips when mounting is refused.
func bindMount(t *testing.T, src, dst string) {
	t.Helper()
	needRoot(t)
	fi, err := os.Stat(src)
	testutil.Must(t, err)
	if fi.IsDir() {
		testutil.Must(t, os.MkdirAll(dst, 0o755))
	} else {
		testutil.Must(t, os.WriteFile(dst, nil, 0o644))
	}
	if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
		testutil.SkipOrFatal(t, testutil.RequireHost, fmt.Sprintf("cannot bind-mount: %v", err))
	}
	t.Cleanup(func() { unix.Unmount(dst, unix.MNT_DETACH) })
}

// A bind mount anywhere restore reads or writes is refused, as a symlink
// is, before anything is written: inside the old root (restore would copy
// what it binds), inside the persistent storage path or the replaced
// destination (the copy, or the removal of the copy it replaces, would go
// outside). Above the persistent storage path (Base) mounts are crossed.
func TestRestoreRefusesMountBoundaries(t *testing.T) {
	if !inMountNamespace(t) {
		return
	}
	outside := t.TempDir()
	testutil.Must(t, os.WriteFile(filepath.Join(outside, "secret"), []byte("not in the old root\n"), 0o600))
	for _, tc := range []struct {
		name  string
		mount func(t *testing.T, old, live string) // makes the bind mount
		force bool
		want  string // the mount point refused, below old or live
	}{
		{"dir in the old root", func(t *testing.T, old, live string) {
			bindMount(t, outside, filepath.Join(old, "etc/ssh/sub"))
		}, false, "old:/etc/ssh/sub"},
		{"file in the old root", func(t *testing.T, old, live string) {
			bindMount(t, filepath.Join(outside, "secret"), filepath.Join(old, "etc/ssh/key2"))
		}, false, "old:/etc/ssh/key2"},
		{"the old root's path itself", func(t *testing.T, old, live string) {
			bindMount(t, outside, filepath.Join(old, "etc/ssh"))
		}, false, "old:/etc/ssh"},
		{"a parent in the old root", func(t *testing.T, old, live string) {
			testutil.Must(t, os.MkdirAll(filepath.Join(outside, "ssh"), 0o755))
			bindMount(t, outside, filepath.Join(old, "etc"))
		}, false, "old:/etc"},
		{"a parent below the persistent storage path", func(t *testing.T, old, live string) {
			bindMount(t, outside, filepath.Join(live, "nix/persist/etc"))
		}, false, "live:/nix/persist/etc"},
		{"inside the replaced destination", func(t *testing.T, old, live string) {
			testutil.Must(t, os.MkdirAll(filepath.Join(live, "nix/persist/etc/ssh"), 0o755))
			bindMount(t, outside, filepath.Join(live, "nix/persist/etc/ssh/deep/sub"))
		}, true, "live:/nix/persist/etc/ssh/deep/sub"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old, live := system(t, Dir{Entries: map[string]node{"key": File{Content: "k"}}})
			tc.mount(t, old, live)
			before := noATimes(snapshot(t, outside))
			liveBefore := noATimes(snapshot(t, live))
			for _, dry := range []bool{true, false} {
				_, err := Run(context.Background(), Request{From: old, Path: "/etc/ssh", Root: live, Dest: "/nix/persist/etc/ssh", Base: "/nix/persist", Force: tc.force, DryRun: dry})
				var m *MountError
				want := strings.Replace(strings.Replace(tc.want, "old:", old, 1), "live:", live, 1)
				if !errors.As(err, &m) || m.Path != want {
					t.Fatalf("dry run %v: err = %v, want a MountError for %s", dry, err, want)
				}
			}
			if got := noATimes(snapshot(t, outside)); !reflect.DeepEqual(got, before) {
				t.Errorf("the bound directory changed: %v, was %v", got, before)
			}
			if got := noATimes(snapshot(t, live)); !reflect.DeepEqual(got, liveBefore) {
				t.Errorf("the live root changed: %v, was %v", got, liveBefore)
			}
		})
	}
	// The persistent storage path itself may be a mount (it usually is).
	t.Run("the persistent storage path is a mount", func(t *testing.T) {
		old, live := system(t, Dir{Entries: map[string]node{"key": File{Content: "k"}}})
		store := t.TempDir()
		bindMount(t, store, filepath.Join(live, "nix/persist"))
		if _, err := Run(context.Background(), Request{From: old, Path: "/etc/ssh", Root: live, Dest: "/nix/persist/etc/ssh", Base: "/nix/persist"}); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(filepath.Join(store, "etc/ssh/key")); err != nil || string(b) != "k" {
			t.Errorf("key: %q, %v", b, err)
		}
	})
}
