package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestRestoreNeverLeavesAMountShowingADeletedFile guards the bind mount
// of a persistent copy against drift restore --force (field case: a fresh
// user restored /etc/machine-id, bind-mounted from
// /nix/persist/etc/machine-id, with --force; the rename left the live
// mount showing restore's temporary name, deleted, the running
// machine-id only there and gone at the next boot, and drift check called
// the mount unmounted, "it stays in persistent storage"). On real btrfs:
//   - restore refuses, dry run and real run, before writing anything; the
//     copy, the live file and the mount stay as they were, and the hint's
//     steps (umount, restore, mount --bind) then restore it, shown live;
//   - a copy replaced behind the mount's back (by a rename, as the old
//     restore did) is what drift check calls lost: declared-unbacked at
//     /etc/machine-id, exit 1, a warning saying it is deleted and lost at
//     the next boot, never "stays in persistent storage"; and a real wipe
//     and boot do lose it: the next boot shows the copy.
func TestRestoreNeverLeavesAMountShowingADeletedFile(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	const p = "/etc/machine-id"
	const running = "0123456789abcdef0123456789abcdef\n"
	old := filepath.Join(s.top, "old_roots", "2026-11-05_09:03:07")
	testutil.Must(t, os.MkdirAll(filepath.Dir(old), 0o755))
	run(t, "btrfs", "subvolume", "create", old)
	writeFile(t, filepath.Join(old, p), "fedcba9876543210fedcba9876543210\n", 0o444)

	restore := func(wantExit int, extra ...string) (string, string) {
		t.Helper()
		code, out, errs := s.driftAll(append([]string{"restore", p, "--root", s.root, "--persist", s.declPath(), "--from", "2026-11-05_09:03:07"}, extra...)...)
		if code != wantExit {
			t.Fatalf("drift restore %v: exit %d, want %d\n%s\n%s", extra, code, wantExit, out, errs)
		}
		return out, errs
	}
	unchanged := func(when string) {
		t.Helper()
		for _, f := range []string{s.M(p), s.M(storage + p)} {
			if got, _ := os.ReadFile(f); string(got) != running {
				t.Errorf("%s: %s holds %q, want the running machine-id", when, f, got)
			}
		}
		if mi, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(mi), "//deleted") {
			t.Errorf("%s: a mount shows a deleted object:\n%s", when, mi)
		}
	}
	for _, extra := range [][]string{{"--force", "--dry-run"}, {"--force"}, nil} {
		_, errs := restore(2, extra...)
		if !strings.Contains(errs, storage+p+": it is bind-mounted at "+s.M(p)+" (mount ") || !strings.Contains(errs, "umount "+s.M(p)) ||
			!strings.Contains(errs, "mount --bind "+s.M(storage+p)+" "+s.M(p)) {
			t.Errorf("drift restore %v: not refused with the steps that unmount, restore and mount again:\n%s", extra, errs)
		}
		unchanged("after drift restore " + strings.Join(extra, " "))
	}
	// The hint's steps.
	run(t, "umount", s.M(p))
	restore(0, "--force")
	run(t, "mount", "--bind", s.M(storage+p), s.M(p))
	if got, _ := os.ReadFile(s.M(p)); string(got) != "fedcba9876543210fedcba9876543210\n" {
		t.Errorf("after the hint's steps, %s holds %q, want the old root's", p, got)
	}

	// The copy replaced by a rename behind the mount's back.
	writeFile(t, s.M(storage+"/etc/.machine-id.new"), "a new id\n", 0o444)
	testutil.Must(t, os.Rename(s.M(storage+"/etc/.machine-id.new"), s.M(storage+p)))
	if mi, _ := os.ReadFile("/proc/self/mountinfo"); !strings.Contains(string(mi), "/persist/etc/machine-id//deleted "+s.M(p)) {
		t.Fatalf("the kernel does not mark the mount deleted:\n%s", mi)
	}
	if c := s.categoriesWith(1)[p]; c != "declared-unbacked" {
		t.Errorf("drift check: %s %q, want declared-unbacked (what the mount shows is deleted)", p, c)
	}
	code, table, errs := s.driftAll("check", "--root", s.root, "--persist", s.declPath())
	if code != 1 || !strings.Contains(errs+table, p+" is mounted from "+storage+p+" (mount ") || !strings.Contains(errs+table, "deleted since it was mounted") ||
		strings.Contains(errs+table, "stays in persistent storage") {
		t.Errorf("drift check: exit %d, not saying what %s shows is deleted and lost:\n%s\n%s", code, p, table, errs)
	}
	s.unmountBelow(s.root)
	retired := time.Now().Add(-time.Hour).Truncate(time.Second)
	testutil.Must(t, os.Chtimes(filepath.Join(s.top, "root"), retired, retired))
	(&wipeImage{t: t, top: s.top, dev: s.dev}).drift()
	s.boot(unbackedAtFirstBoot)
	if got, _ := os.ReadFile(s.M(p)); string(got) != "a new id\n" {
		t.Errorf("after the wipe and boot, %s holds %q, want the copy's (what the deleted file held is gone)", p, got)
	}
}
