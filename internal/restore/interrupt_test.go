package restore

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// bigFile writes an old root holding /var/lib/big/blob (n bytes of data,
// no holes) and a live root whose persistent copy of it holds "before".
func bigFile(t *testing.T, n int) (old, live string) {
	t.Helper()
	old, live = filepath.Join(t.TempDir(), "old"), filepath.Join(t.TempDir(), "live")
	testutil.Must(t, os.MkdirAll(filepath.Join(old, "var/lib/big"), 0o755))
	testutil.Must(t, os.WriteFile(filepath.Join(old, "var/lib/big/blob"), bytes.Repeat([]byte{0xa5}, n), 0o644))
	testutil.Must(t, os.MkdirAll(filepath.Join(live, "nix/persist/var/lib/big"), 0o755))
	testutil.Must(t, os.WriteFile(filepath.Join(live, "nix/persist/var/lib/big/blob"), []byte("before"), 0o644))
	return old, live
}

// A SIGINT while a large file is copied (the fresh-user case: 300 MiB,
// interrupted at 0.3 s, then "replaced", exit 0) stops the copy within a
// chunk, and the destination is the one before: nothing renamed, no
// temporary copy left. Both ways of copying bytes are interrupted: plain
// (drift restore) and hashed for the read-back (drift adopt, Verify).
func TestRestoreInterruptedMidFileKeepsDestination(t *testing.T) {
	for _, verify := range []bool{false, true} {
		old, live := bigFile(t, 4*chunk)
		ctx, cancel := context.WithCancel(context.Background())
		chunks := 0
		afterChunk = func() {
			if chunks++; chunks == 1 {
				cancel()
			}
		}
		_, err := Run(ctx, Request{From: old, Path: "/var/lib/big/blob", Root: live, Dest: "/nix/persist/var/lib/big/blob", Force: true, Verify: verify})
		afterChunk = nil
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("verify %v: err = %v, want context.Canceled", verify, err)
		}
		if chunks > 1 {
			t.Errorf("verify %v: %d chunks copied after the interruption, want none", verify, chunks-1)
		}
		if b, err := os.ReadFile(filepath.Join(live, "nix/persist/var/lib/big/blob")); err != nil || string(b) != "before" {
			t.Errorf("verify %v: destination %q, %v after an interrupted restore; want it untouched", verify, b[:min(len(b), 16)], err)
		}
		noTemp(t, filepath.Join(live, "nix/persist/var/lib/big"))
	}
}

// A SIGINT that comes once every object is copied, before the one rename
// that changes the destination, still stops the restore: the destination
// is untouched, the copy removed.
func TestRestoreInterruptedBeforeRenameKeepsDestination(t *testing.T) {
	old, live := bigFile(t, 1<<10)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Run(ctx, Request{From: old, Path: "/var/lib/big/blob", Root: live, Dest: "/nix/persist/var/lib/big/blob", Force: true,
		Copied: func(Item) { cancel() }})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if b, err := os.ReadFile(filepath.Join(live, "nix/persist/var/lib/big/blob")); err != nil || string(b) != "before" {
		t.Errorf("destination %q, %v after an interrupted restore; want it untouched", b, err)
	}
	noTemp(t, filepath.Join(live, "nix/persist/var/lib/big"))
}

// An interrupted restore removes the parent directories it created on the
// way to its destination (the fresh-user case: a 6000-file tree stopped
// with 130 left them), and only those: the persistent storage path that
// was there stays.
func TestRestoreInterruptedRemovesCreatedParents(t *testing.T) {
	old, live := system(t, sshTree(false))
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	_, err := Run(ctx, Request{From: old, Path: "/etc/ssh", Root: live, Dest: "/nix/persist/etc/ssh", Copied: func(Item) {
		if n++; n == 3 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, err := os.Lstat(filepath.Join(live, "nix/persist/etc")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("/nix/persist/etc, created by the interrupted restore, is still there: %v", err)
	}
	if fi, err := os.Lstat(filepath.Join(live, "nix/persist")); err != nil || !fi.IsDir() {
		t.Errorf("/nix/persist, there before the restore, is gone: %v", err)
	}
}

// A created parent that something else wrote into meanwhile is left, with
// what is in it.
func TestRestoreFailedKeepsParentsWrittenMeanwhile(t *testing.T) {
	old, live := system(t, sshTree(false))
	ctx, cancel := context.WithCancel(context.Background())
	other := filepath.Join(live, "nix/persist/etc/other")
	_, err := Run(ctx, Request{From: old, Path: "/etc/ssh", Root: live, Dest: "/nix/persist/etc/ssh", Copied: func(Item) {
		if _, err := os.Lstat(other); err != nil {
			testutil.Must(t, os.WriteFile(other, []byte("x"), 0o644))
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if b, err := os.ReadFile(other); err != nil || string(b) != "x" {
		t.Errorf("a file written meanwhile into a created parent: %q, %v", b, err)
	}
}
