package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestRestoreRefusesWhatLayBeneathTheMount: on real btrfs, after a real
// wipe, the old root holds at a bind-mounted path only what lay beneath
// the mount: the empty file the boot made for /etc/machine-id, and for
// /var/lib/bluetooth a stale file hidden under the mount. That boot's
// data is in persistent storage, which the wipe never touched. The
// fresh-user case: drift restore /etc/machine-id --force replaced the
// 33-byte persistent machine-id with 0 B, exit 0, and a dry run planned to
// replace a whole data directory with one stale file. drift restore
// refuses both (exit 2, --dry-run too), saying what the old root holds and
// naming --beneath-mount, and the persistent copies are untouched; with
// --beneath-mount --force the user gets what they asked for (once the copy
// is unmounted: never under a live mount's feet). The stale
// file beneath the mount at /var/lib/bluetooth is data the old root holds
// there, more than a mount point leaves, so the refusal does not claim a
// mount: it says the copy holds the path too, changed later.
func TestRestoreRefusesWhatLayBeneathTheMount(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	// Stale data beneath the bind mount, on the root subvolume (the top
	// level shows it without the mounts); the boot's data through the
	// mount, in persistent storage.
	writeFile(t, filepath.Join(s.top, "root/var/lib/bluetooth/PG_VERSION.before"), "15\n", 0o600)
	writeFile(t, s.M("/var/lib/bluetooth/adapter"), "paired with 3 devices\n", 0o600)
	s.shutdownAndWipe()
	s.boot(unbackedAtFirstBoot)
	machineID := s.M(storage + "/etc/machine-id")
	before, err := os.ReadFile(machineID)
	testutil.Must(t, err)

	restore := func(want int, args ...string) string {
		t.Helper()
		code, out, errOut := s.driftAll(append(append([]string{"restore"}, args...), "--from", "latest", "--root", s.root, "--persist", s.declPath())...)
		if code != want {
			t.Fatalf("drift restore %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errOut)
		}
		return errOut
	}
	for _, dry := range []string{"--force", "--dry-run"} {
		errOut := restore(2, "/etc/machine-id", "--force", dry)
		for _, want := range []string{
			"drift: error: /etc/machine-id is a declared file: its persistent copy /nix/persist/etc/machine-id existed then",
			"the persistent copy already holds that boot's data, and the old root holds only what lay beneath the mount: here an empty file (the mount point)\n",
			"drift: hint: drift restore brings back what the wipe took; the wipe never touched /nix/persist/etc/machine-id. To put what lay beneath the mount there anyway: --beneath-mount --force (replacing " + machineID + ", 33 B)\n",
		} {
			if !strings.Contains(errOut, want) {
				t.Errorf("/etc/machine-id %s: stderr lacks %q:\n%s", dry, want, errOut)
			}
		}
	}
	errOut := restore(2, "/var/lib/bluetooth", "--force", "--dry-run")
	if !strings.Contains(errOut, "drift: error: /var/lib/bluetooth is a declared directory: its persistent copy /nix/persist/var/lib/bluetooth holds /nix/persist/var/lib/bluetooth too, changed ") ||
		!strings.Contains(errOut, "restoring would replace newer data with older: here 1 file (3 B), 1 directory\n") {
		t.Errorf("/var/lib/bluetooth: stderr:\n%s", errOut)
	}
	restore(2, "/var/lib/bluetooth/adapter", "--force")
	if b, err := os.ReadFile(machineID); err != nil || string(b) != string(before) {
		t.Errorf("the persistent machine-id after the refusals: %q, %v; want %q", b, err, before)
	}
	if b, err := os.ReadFile(s.M(storage + "/var/lib/bluetooth/adapter")); err != nil || string(b) != "paired with 3 devices\n" {
		t.Errorf("the persistent bluetooth state after the refusals: %q, %v", b, err)
	}

	// Asked for by name, what lay beneath the mount is restored — once the
	// copy is no longer bind-mounted: while it is, replacing it would
	// leave the mount showing the replaced copy, deleted
	// (TestRestoreNeverLeavesAMountShowingADeletedFile).
	if errOut := restore(2, "/etc/machine-id", "--force", "--beneath-mount"); !strings.Contains(errOut, "it is bind-mounted at "+s.M("/etc/machine-id")) {
		t.Errorf("--beneath-mount --force while mounted: stderr:\n%s", errOut)
	}
	run(t, "umount", s.M("/etc/machine-id"))
	restore(0, "/etc/machine-id", "--force", "--beneath-mount")
	if b, err := os.ReadFile(machineID); err != nil || len(b) != 0 {
		t.Errorf("--beneath-mount --force: %q, %v; want the old root's empty file", b, err)
	}
}

// TestRestoreRefusesBeneathTheMountWhateverTheTargetOrBirthTime: on real
// btrfs, after a real wipe, two ways around the refusal above (the second
// fresh-user tester's cases). --to live of a declared, bind-mounted path
// wrote the old root's stale bytes through the mount into the persistent
// copy (restore /etc/ssh/ssh_host_ed25519_key --to live --force); and a
// persistent copy replaced by a rename (cp + mv, as editors and sops
// write) is born after the old root's boot while it is still mounted, so
// its birth time let an empty placeholder replace it. Both are refused,
// and the persistent copies keep their bytes.
func TestRestoreRefusesBeneathTheMountWhateverTheTargetOrBirthTime(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	writeFile(t, filepath.Join(s.top, "root/var/lib/bluetooth/key"), "stale\n", 0o600)
	writeFile(t, s.M("/var/lib/bluetooth/key"), "current key\n", 0o600)
	s.shutdownAndWipe()
	s.boot(unbackedAtFirstBoot)

	restore := func(want int, args ...string) string {
		t.Helper()
		code, out, errOut := s.driftAll(append(append([]string{"restore"}, args...), "--from", "latest", "--root", s.root, "--persist", s.declPath())...)
		if code != want {
			t.Fatalf("drift restore %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errOut)
		}
		return errOut
	}
	errOut := restore(2, "/var/lib/bluetooth/key", "--to", "live", "--force")
	if !strings.Contains(errOut, "drift: error: /var/lib/bluetooth/key is inside the declared directory /var/lib/bluetooth: its persistent copy /nix/persist/var/lib/bluetooth holds /nix/persist/var/lib/bluetooth/key too, changed ") ||
		!strings.Contains(errOut, "restoring would replace newer data with older: here a 6-byte file\n") {
		t.Errorf("--to live: stderr:\n%s", errOut)
	}
	if b, err := os.ReadFile(s.M(storage + "/var/lib/bluetooth/key")); err != nil || string(b) != "current key\n" {
		t.Errorf("the persistent key after --to live: %q, %v", b, err)
	}

	// The persistent machine-id replaced by a rename: born now, while
	// /etc/machine-id is still bind-mounted (from the replaced inode).
	// The old root's name gives its time to the second and its boot is
	// taken to end within the second after: the rename comes later.
	time.Sleep(2 * time.Second)
	machineID := s.M(storage + "/etc/machine-id")
	id := "fedcba9876543210fedcba9876543210\n"
	writeFile(t, machineID+".tmp", id, 0o444)
	testutil.Must(t, os.Rename(machineID+".tmp", machineID))
	for _, args := range [][]string{{"--force", "--dry-run"}, {"--force"}} {
		errOut := restore(2, append([]string{"/etc/machine-id"}, args...)...)
		if !strings.Contains(errOut, "drift: error: /etc/machine-id is a declared file: its persistent copy /nix/persist/etc/machine-id is not empty, is mounted at /etc/machine-id now and was made anew") ||
			!strings.Contains(errOut, "the old root holds there only an empty file, the placeholder a mount point leaves") {
			t.Errorf("%v after a rename: stderr:\n%s", args, errOut)
		}
	}
	if b, err := os.ReadFile(machineID); err != nil || string(b) != id {
		t.Errorf("the persistent machine-id after the refusals: %q, %v; want %q", b, err, id)
	}

	// Beneath the mount in the old root, stale bytes, not an empty
	// placeholder: the mount at /etc/machine-id still shows the copy the
	// rename replaced, born before the old root's boot ended, so the copy
	// existed then and those bytes are stale. restore --force replaced
	// the renamed copy with them (exit 0); it is refused as any stale data
	// beneath a mount, and --beneath-mount --force still does it.
	olds, err := filepath.Glob(filepath.Join(s.top, "old_roots", "*", "etc", "machine-id"))
	if err != nil || len(olds) != 1 {
		t.Fatalf("the old root's machine-id: %q, %v", olds, err)
	}
	writeFile(t, olds[0], "stale beneath the mount\n", 0o444)
	for _, args := range [][]string{{"--force", "--dry-run"}, {"--force"}} {
		errOut := restore(2, append([]string{"/etc/machine-id"}, args...)...)
		if !strings.Contains(errOut, "drift: error: /etc/machine-id is a declared file: its persistent copy /nix/persist/etc/machine-id existed then") ||
			!strings.Contains(errOut, "replaced by a rename since: the mount at /etc/machine-id still shows the copy it replaced") ||
			!strings.Contains(errOut, "To put what lay beneath the mount there anyway: --beneath-mount --force") {
			t.Errorf("%v, stale bytes beneath the mount: stderr:\n%s", args, errOut)
		}
	}
	if b, err := os.ReadFile(machineID); err != nil || string(b) != id {
		t.Errorf("the persistent machine-id after the refusals of stale bytes: %q, %v; want %q", b, err, id)
	}
	restore(0, "/etc/machine-id", "--force", "--beneath-mount")
	if b, err := os.ReadFile(machineID); err != nil || string(b) != "stale beneath the mount\n" {
		t.Errorf("--beneath-mount --force: %q, %v", b, err)
	}
}
