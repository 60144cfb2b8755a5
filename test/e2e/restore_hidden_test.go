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

// TestHiddenBeneathAMountAtTheOldRootsBootIsNeverForced: on real btrfs,
// through a real drift wipe. At the old root's boot /etc/nixos was
// bind-mounted from its copy, and beneath the mount on the root lay a
// configuration.nix newer than the copy's (field case: check's VANISHED
// table offered drift restore --force for it, and restore would have put
// that stale hidden file over the live copy: restore read "data at the
// path in the old root" as "the copy was not mounted"). The old root
// records the declarations its boot ran with (/etc/drift/declarations.json,
// as the module writes it: a link through /etc/static into the store), and
// they declare /etc/nixos: after the next boot check lists nothing
// vanished there, and drift restore --force of the file is refused, the
// copy unchanged.
func TestHiddenBeneathAMountAtTheOldRootsBootIsNeverForced(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	const conf = "/etc/nixos/configuration.nix"
	s.recordDeclarations(t, declarations)
	writeFile(t, s.M(conf), "{ ... }: { live = true; }\n", 0o644) // through the mount: in the copy
	past := time.Now().Add(-time.Hour)
	testutil.Must(t, os.Chtimes(s.M(storage+conf), past, past))
	writeFile(t, filepath.Join(s.top, "root", conf), "{ ... }: { stale = true; }\n", 0o644) // beneath the mount, newer

	s.unmountBelow(s.root)
	now := time.Now()
	testutil.Must(t, os.Chtimes(filepath.Join(s.top, "root"), now, now))
	w := &wipeImage{t: t, top: s.top, dev: s.dev}
	w.drift()
	s.boot(map[string]bool{"/etc/adjtime": true})

	var r struct {
		Vanished []struct{ Path, Restore string }
	}
	code, out, errOut := s.driftAll("check", "--root", s.root, "--persist", s.declPath(), "--format", "json")
	if code > 1 {
		t.Fatalf("drift check: exit %d\n%s", code, errOut)
	}
	testutil.Must(t, json.Unmarshal([]byte(out), &r))
	for _, v := range r.Vanished {
		if strings.HasPrefix(v.Path, "/etc/nixos") {
			t.Errorf("vanished %+v: it lay beneath the mount of its copy at that boot", v)
		}
	}
	code, out, errOut = s.driftAll("restore", conf, "--from", "latest", "--force", "--root", s.root, "--persist", s.declPath())
	if code != 2 || !strings.Contains(errOut, "the declarations that boot ran with") || !strings.Contains(errOut, "etc/drift/declarations.json") {
		t.Errorf("restore --force of the hidden file: exit %d\n%s\n%s", code, out, errOut)
	}
	if b, err := os.ReadFile(s.M(storage + conf)); err != nil || string(b) != "{ ... }: { live = true; }\n" {
		t.Errorf("the live copy after the refusal: %q, %v", b, err)
	}
}

// TestShadowedBeneathAMountVanishesAndRestoresAsPrinted: on real btrfs,
// through a real drift wipe. A log written on the root beneath the
// /var/log mount (check: shadowed, lost at the next boot) is gone after
// the wipe, held only by the old root. A tester's case: it got no VANISHED
// row on the live system (the walk left out every mount point), and plain
// drift restore refused it as undeclared. Now it is listed, and its
// restore, run as printed, puts it back where the mount shows it.
func TestShadowedBeneathAMountVanishesAndRestoresAsPrinted(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	const log = "/var/log/beneath.log"
	writeFile(t, filepath.Join(s.top, "root", log), "written before the mount\n", 0o644)
	code, out, errOut := s.driftAll("check", "--root", s.root, "--persist", s.declPath(), "--format", "json")
	if code > 1 || !strings.Contains(out, `"`+log+`"`) {
		t.Fatalf("drift check before the wipe: exit %d, %s not predicted lost\n%s", code, log, errOut)
	}
	s.unmountBelow(s.root)
	w := &wipeImage{t: t, top: s.top, dev: s.dev}
	w.drift()
	s.boot(map[string]bool{"/etc/adjtime": true})

	var r struct {
		Vanished []struct{ Path, Restore string }
	}
	code, out, errOut = s.driftAll("check", "--root", s.root, "--persist", s.declPath(), "--format", "json")
	if code > 1 {
		t.Fatalf("drift check: exit %d\n%s", code, errOut)
	}
	testutil.Must(t, json.Unmarshal([]byte(out), &r))
	restore := ""
	for _, v := range r.Vanished {
		if v.Path == log {
			restore = v.Restore
		}
	}
	args := strings.Fields(restore)
	if len(args) < 2 || args[0] != "drift" {
		t.Fatalf("no VANISHED row with a restore for %s: %+v", log, r.Vanished)
	}
	if code, out, errOut = s.driftAll(args[1:]...); code != 0 {
		t.Fatalf("%s: exit %d\n%s\n%s", restore, code, out, errOut)
	}
	if b, err := os.ReadFile(s.M(log)); err != nil || string(b) != "written before the mount\n" {
		t.Errorf("%s after %s: %q, %v", log, restore, b, err)
	}
}
