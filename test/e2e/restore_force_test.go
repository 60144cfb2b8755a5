package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestRestoreForceNeverDeletesASubvolumeAndSaysWhatItDeletes: on real
// btrfs, after a real wipe, drift restore DIR --force replaces the live
// directory with the old root's copy. A fresh-user tester's run deleted
// what only the destination held, a nested btrfs subvolume (a container's
// disk) included, and the dry run gave no inventory of it. A destination
// holding a subvolume, or being one, is refused (dry run and real run),
// nothing changed; otherwise the dry run lists what only the destination
// holds and both runs count what replacing deletes.
func TestRestoreForceNeverDeletesASubvolumeAndSaysWhatItDeletes(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	writeFile(t, s.M("/srv/app/config"), "old config\n", 0o644)
	writeFile(t, s.M("/srv/box/config"), "old box\n", 0o644)
	s.shutdownAndWipe()
	s.boot(unbackedAtFirstBoot)

	restore := func(want int, args ...string) (string, string) {
		t.Helper()
		code, out, errOut := s.driftAll(append(append([]string{"restore"}, args...), "--from", "latest", "--to", "live", "--root", s.root, "--persist", s.declPath())...)
		if code != want {
			t.Fatalf("drift restore %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out, errOut
	}
	writeFile(t, s.M("/srv/app/config"), "new config\n", 0o644)
	writeFile(t, s.M("/srv/app/only-here"), "12345\n", 0o644)
	run(t, "btrfs", "subvolume", "create", s.M("/srv/app/vm"))
	writeFile(t, s.M("/srv/app/vm/disk.img"), "container disk\n", 0o644)
	for _, args := range [][]string{{"--force", "--dry-run"}, {"--force"}} {
		_, errOut := restore(2, append([]string{"/srv/app"}, args...)...)
		if !strings.Contains(errOut, "drift: error: destination "+s.M("/srv/app/vm")+" is a btrfs subvolume") {
			t.Errorf("%v over a nested subvolume: stderr:\n%s", args, errOut)
		}
	}
	for p, want := range map[string]string{"/srv/app/vm/disk.img": "container disk\n", "/srv/app/only-here": "12345\n", "/srv/app/config": "new config\n"} {
		if b, err := os.ReadFile(s.M(p)); err != nil || string(b) != want {
			t.Errorf("%s after the refusals: %q, %v; want %q", p, b, err, want)
		}
	}

	// The destination a subvolume itself.
	run(t, "btrfs", "subvolume", "create", s.M("/srv/box"))
	writeFile(t, s.M("/srv/box/disk.img"), "box disk\n", 0o644)
	if _, errOut := restore(2, "/srv/box", "--force"); !strings.Contains(errOut, "drift: error: destination "+s.M("/srv/box")+" is a btrfs subvolume") {
		t.Errorf("over a subvolume: stderr:\n%s", errOut)
	}
	if _, err := os.Stat(s.M("/srv/box/disk.img")); err != nil {
		t.Errorf("the subvolume's file after the refusal: %v", err)
	}

	// No subvolume: the dry run lists what only the destination holds and
	// both runs count what replacing deletes (the directory, config,
	// only-here: 3 objects, 17 bytes; only-here 6 bytes).
	run(t, "btrfs", "subvolume", "delete", s.M("/srv/app/vm"))
	out, _ := restore(0, "/srv/app", "--force", "--dry-run")
	for _, want := range []string{
		"delete   " + s.M("/srv/app/only-here") + " (only the destination holds it)\n",
		// config there is newer than the old root's: the line goes on
		// with "; 1 file newer than the old root's (replace NEWER)".
		"would delete what is there: 3 objects (17 B), 1 of them (6 B) only there, not in the old root",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run: stdout lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "delete   ") != 1 {
		t.Errorf("dry run: want one delete line:\n%s", out)
	}
	out, _ = restore(0, "/srv/app", "--force")
	if !strings.Contains(out, "deleted what is there: 3 objects (17 B), 1 of them (6 B) only there, not in the old root") {
		t.Errorf("real run: stdout:\n%s", out)
	}
	if _, err := os.Stat(s.M("/srv/app/only-here")); !os.IsNotExist(err) {
		t.Errorf("only-here after the replacement: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(s.M("/srv/app/config"))); err != nil || string(b) != "old config\n" {
		t.Errorf("config after the replacement: %q, %v", b, err)
	}
}

// TestAdoptPreferLiveNeverDeletesASubvolume: drift adopt --prefer live
// replaces what differs in the persistent copy with the live object, as
// restore --force does: a live file where the persistent copy has a
// directory holding a btrfs subvolume would have deleted it with the
// subvolume. Refused, dry run and real run, the subvolume kept.
func TestAdoptPreferLiveNeverDeletesASubvolume(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	writeFile(t, s.M("/srv/declared-unmounted/x"), "live file\n", 0o644)
	testutil.Must(t, os.MkdirAll(s.M(storage+"/srv/declared-unmounted/x"), 0o755))
	run(t, "btrfs", "subvolume", "create", s.M(storage+"/srv/declared-unmounted/x/vm"))
	writeFile(t, s.M(storage+"/srv/declared-unmounted/x/vm/disk.img"), "container disk\n", 0o644)
	for _, extra := range [][]string{{"--dry-run"}, nil} {
		code, out, errOut := s.driftAll(append([]string{"adopt", "--prefer", "live", "--root", s.root, "--persist", s.declPath(), "/srv/declared-unmounted"}, extra...)...)
		if code != 2 || !strings.Contains(errOut, s.M(storage+"/srv/declared-unmounted/x/vm")+" is a btrfs subvolume") {
			t.Errorf("adopt --prefer live %v: exit %d\nstdout:\n%s\nstderr:\n%s", extra, code, out, errOut)
		}
	}
	if b, err := os.ReadFile(s.M(storage + "/srv/declared-unmounted/x/vm/disk.img")); err != nil || string(b) != "container disk\n" {
		t.Errorf("the subvolume's file after adopt: %q, %v", b, err)
	}
}
