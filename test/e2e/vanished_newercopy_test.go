package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestReplacedByTheCopyAtTheWipeIsNamedAndRestored: on real btrfs,
// through a real drift wipe. A directory declared since the old root's
// boot (the declarations that boot ran with, /etc/drift/declarations.json,
// lack it) was not mounted then: a file the boot wrote there lay on the
// root, and its persistent copy holds the same file with other bytes,
// written after it (a fresh-user test: check said declared-unbacked, "the
// stale copy comes back in its place", offering --prefer live or
// persistent; the user rebooted without choosing). After the wipe and the
// next boot the copy shows, the root's version is only in the old root,
// and check used to say nothing of it: no VANISHED row, "0 changed". Now
// it is listed (copyDiffers "newer"), counted in the summary, with no
// restore printed: the copy's bytes are as new, and a second tester's copy
// written through a mount drift adopt --mount made during that boot looked
// the same, its printed restore putting the stale bytes beneath the mount
// back over it. The restore the table's line names (--force
// --beneath-mount), run by the user who chose the old root's, brings that
// version back into the copy and through the mount. A file of /etc/nixos, mounted at that boot
// (declared then), whose old root holds other bytes beneath the mount,
// older than the copy's, is not listed: that boot's data is the copy's.
func TestReplacedByTheCopyAtTheWipeIsNamedAndRestored(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	const decl = "/srv/declared-unmounted" // not mounted at the first boot
	const conflict = decl + "/sub/conflict.txt"
	const hidden = "/etc/nixos/hidden.conf"
	s.recordDeclarationsWithout(t, ",\n    \""+decl+"\"")
	writeFile(t, s.M(conflict), "live\n", 0o644) // on the root: not mounted
	writeFile(t, s.M(storage+conflict), "persisted\n", 0o644)
	later := time.Now().Add(time.Second)
	testutil.Must(t, os.Chtimes(s.M(storage+conflict), later, later)) // the copy's is the newer
	writeFile(t, filepath.Join(s.top, "root", hidden), "beneath the mount\n", 0o644)
	writeFile(t, s.M(hidden), "through the mount\n", 0o644) // in the copy
	testutil.Must(t, os.Chtimes(s.M(hidden), later, later))

	var before struct {
		Items []struct{ Path, Category, Why string }
	}
	testutil.Must(t, json.Unmarshal(s.drift(1, "check", "--root", s.root, "--persist", s.declPath(), "--format", "json"), &before))
	predicted := false
	for _, it := range before.Items {
		predicted = predicted || it.Path == conflict && it.Category == "declared-unbacked" && strings.Contains(it.Why, "comes back in its place")
	}
	if !predicted {
		t.Fatalf("before the wipe, want %s declared-unbacked, its copy coming back in its place: %+v", conflict, before.Items)
	}

	oldName := s.wipeAndBoot(map[string]bool{"/etc/adjtime": true}) // the copy is mounted now
	if b, err := os.ReadFile(s.M(conflict)); err != nil || string(b) != "persisted\n" {
		t.Fatalf("harness: %s after the boot: %q, %v; want the copy's", conflict, b, err)
	}

	type row struct{ Path, Declared, Restore, CopyDiffers string }
	check := func() []row {
		t.Helper()
		return vanishedRows(s, func(v row) bool { return strings.HasPrefix(v.Path, decl) || strings.HasPrefix(v.Path, "/etc/nixos") })
	}
	got := check()
	want := row{Path: conflict, Declared: decl, CopyDiffers: "newer"}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("vanished below %s and /etc/nixos: %+v, want only %+v", decl, got, want)
	}
	code, table, errOut := s.driftAll("check", "--root", s.root, "--persist", s.declPath())
	if code > 1 || strings.Contains(table, "--beneath-mount --root") || !strings.Contains(table, "none printed: the persistent copy's bytes are as new or newer") ||
		!strings.Contains(table, "drift restore PATH --from OLDROOT --force --beneath-mount replaces the copy's") ||
		!strings.Contains(table, "(1 replaced by other bytes of their persistent copy)") {
		t.Errorf("check's table: exit %d:\n%s\n%s", code, table, errOut)
	}

	chosen := "drift restore " + conflict + " --from " + oldName + " --force --beneath-mount --root " + s.root + " --persist " + s.declPath()
	cmd := command("bash", "-c", `drift() { "$DRIFT" "$@"; }; `+chosen) // the user's choice
	cmd.Env = append(os.Environ(), "DRIFT="+os.Getenv(envDrift))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", chosen, err, out)
	}
	for _, at := range []string{s.M(storage + conflict), s.M(conflict)} { // the copy, and through its mount
		if b, err := os.ReadFile(at); err != nil || string(b) != "live\n" {
			t.Errorf("restored %s: %q, %v; want the old root's", at, b, err)
		}
	}
	if b, err := os.ReadFile(s.M(hidden)); err != nil || string(b) != "through the mount\n" {
		t.Errorf("%s: %q, %v; want the copy's, untouched", hidden, b, err)
	}
	if got := check(); len(got) != 0 {
		t.Errorf("after the restore, vanished: %+v", got)
	}
}

// TestReplacedDeclaredFileIsRestoredBetweenUnmountAndMount: on real btrfs,
// through a real drift wipe. A declared file, declared since the old
// root's boot and not mounted then, written on the root, whose persistent
// copy holds other, older bytes: after the boot the copy is bind-mounted
// over it. The lockstep walk saw the mount point beneath the mount (an
// empty file: changed, not removed) and listed nothing. Now it is listed,
// and as drift restore never replaces a file a mount shows, its printed
// command unmounts it, restores into the copy and mounts it again: run as
// printed, the old root's bytes show at the path, the mount is back, and
// check lists nothing vanished there.
func TestReplacedDeclaredFileIsRestoredBetweenUnmountAndMount(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	const f = "/etc/adjtime" // not mounted at the first boot
	s.recordDeclarationsWithout(t, ",\n    { \"file\": \""+f+"\", \"parentDirectory\": { \"mode\": \"0755\" } }")
	writeFile(t, s.M(f), "live\n", 0o644)
	writeFile(t, s.M(storage+f), "persisted\n", 0o644)
	earlier := time.Now().Add(-time.Hour)
	testutil.Must(t, os.Chtimes(s.M(storage+f), earlier, earlier)) // the stale copy

	oldName := s.wipeAndBoot(nil) // the copy is bind-mounted over it now
	if b, err := os.ReadFile(s.M(f)); err != nil || string(b) != "persisted\n" {
		t.Fatalf("harness: %s after the boot: %q, %v; want the copy's", f, b, err)
	}
	type row struct{ Path, Restore, CopyDiffers string }
	check := func() []row {
		t.Helper()
		return vanishedRows(s, func(v row) bool { return v.Path == f })
	}
	restore := "drift restore " + f + " --from " + oldName + " --force --root " + s.root + " --persist " + s.declPath()
	want := row{Path: f, CopyDiffers: "older",
		Restore: "umount " + s.M(f) + " && { " + restore + "; s=$?; mount --bind " + s.M(storage+f) + " " + s.M(f) + "; test $s -eq 0; }"}
	got := check()
	if len(got) != 1 || got[0] != want {
		t.Fatalf("vanished %s: %+v, want %+v", f, got, want)
	}
	cmd := command("bash", "-c", `drift() { "$DRIFT" "$@"; }; `+want.Restore) // exactly as printed
	cmd.Env = append(os.Environ(), "DRIFT="+os.Getenv(envDrift))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", want.Restore, err, out)
	}
	for _, at := range []string{s.M(storage + f), s.M(f)} { // the copy, and through its mount
		if b, err := os.ReadFile(at); err != nil || string(b) != "live\n" {
			t.Errorf("restored %s: %q, %v; want the old root's", at, b, err)
		}
	}
	if mp := s.mountsBelow(s.M(f)); len(mp) != 1 {
		t.Errorf("mounts at %s after the restore: %q, want the copy's mount again", f, mp)
	}
	if got := check(); len(got) != 0 {
		t.Errorf("after the restore, vanished: %+v", got)
	}
}
