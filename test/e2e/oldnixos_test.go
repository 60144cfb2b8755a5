package e2e

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestCheckAfterWipePointsAtTheOldRootsNixos: on real btrfs, through a real
// drift wipe. /etc/nixos lay on the root, declared by nothing, with no
// /etc/drift/declarations.json (field case: after a real wipe a fresh
// user's drift check found no declarations and said only --persist FILE).
// Before the wipe, drift check warns that the declarations it read are
// gone after the next boot; after it, drift check's hint names the newest
// old root's etc/nixos with the real path and how to mount it, and the
// command it gives, run on that path, reads the declarations; the restore
// of /etc/nixos that command prints, run before the top level is
// unmounted (as the hint says), brings the configuration back.
func TestCheckAfterWipePointsAtTheOldRootsNixos(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	const conf = "/etc/nixos/configuration.nix"
	run(t, "umount", s.M("/etc/nixos")) // /etc/nixos on the root, not mounted from a copy
	writeFile(t, s.M(conf), `{ environment.persistence."/nix/persist".directories = [ "/var/lib/bluetooth" ]; }`+"\n", 0o644)
	code, out, errs := s.driftAll("check", "--root", s.root)
	if code > 1 || strings.Count(errs, "lie on the wiped root and nothing keeps them") != 1 || !strings.Contains(errs, "(/etc/nixos/configuration.nix)") {
		t.Errorf("drift check before the wipe: exit %d, want one warning naming %s\n%s\n%s", code, conf, out, errs)
	}

	oldName := s.wipeAndBoot(map[string]bool{"/etc/nixos": true, "/etc/adjtime": true})
	code, out, errs = s.driftAll("check", "--root", s.root)
	inTop := "/old_roots/" + oldName + "/etc/nixos"
	give := "drift check --root " + s.root + " --persist /mnt/top" + inTop + "/configuration.nix" // the system audited, not the host's /
	if code != 2 || !strings.Contains(errs, s.dev+":"+inTop) || !strings.Contains(errs, "mount -o subvolid=5 "+s.dev+" /mnt/top") || !strings.Contains(errs, give) {
		t.Fatalf("drift check after the wipe: exit %d, want the hint naming %s:%s and %q\n%s\n%s", code, s.dev, inTop, give, out, errs)
	}
	// The commands that check prints carry the same --persist /mnt/top/…:
	// the hint says to unmount the top level only after running them (it
	// said "umount /mnt/top after" the check, and the restore it then
	// printed for /etc/nixos failed, its --persist gone).
	if !strings.Contains(errs, give+" (the commands it prints read the configuration there too: umount /mnt/top only after running them)") {
		t.Errorf("drift check after the wipe: the hint does not say to unmount /mnt/top only after the commands the check prints:\n%s", errs)
	}
	// The given command, with the top level mounted where this test has it.
	check := strings.Fields(strings.ReplaceAll(strings.TrimPrefix(give, "drift "), "/mnt/top", s.top))
	code, out, errs = s.driftAll(check...)
	if code > 1 || strings.Contains(errs, "no persistence declarations found") {
		t.Errorf("drift check with the old root's configuration: exit %d\n%s\n%s", code, out, errs)
	}
	// Its restore of /etc/nixos reads the configuration in the top level;
	// run as printed, the top level still mounted, it brings it back.
	_, out, errs = s.driftAll(append(check, "--format", "json")...)
	var r struct {
		Vanished []struct{ Path, Restore string }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("drift check --format json: %v\n%s\n%s", err, out, errs)
	}
	restore := ""
	for _, v := range r.Vanished {
		if v.Path == "/etc/nixos" {
			restore = v.Restore
		}
	}
	if !strings.Contains(restore, " --persist "+s.top+inTop+"/configuration.nix") {
		t.Fatalf("restore of the vanished /etc/nixos %q, want it to read the configuration in the top level\n%s", restore, out)
	}
	code, out, errs = s.driftAll(strings.Fields(strings.TrimPrefix(restore, "drift "))...)
	b, err := os.ReadFile(s.M(conf))
	if code != 0 || err != nil || !strings.Contains(string(b), "/var/lib/bluetooth") {
		t.Errorf("%s: exit %d, %s holds %q (%v)\n%s\n%s", restore, code, conf, b, err, out, errs)
	}
}
