package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestAdoptNeverTakesWhatAMountHides guards, on real btrfs mounts, the
// rule that the persistent copy a live mount shows is the live data
// (field cases: a fresh user's older hardware-configuration.nix lying on
// the root beneath the /etc/nixos bind mount, for which check recommended
// drift adopt --prefer live, planning to replace the file edited through
// the mount; and a bind-mounted machine-id whose persistent copy was
// replaced by a rename, for which the recommended --prefer live copied the
// empty file beneath the mount over the new copy, losing both versions):
//   - drift check and drift suggest recommend no --prefer live for either
//     path, and check gives the by-hand copy of what the deleted mount
//     shows;
//   - drift adopt --prefer live of each is refused, dry run and real run;
//     what each mount shows, the persistent copies and what lies beneath
//     are unchanged;
//   - drift adopt /etc/nixos copies what the copy lacks and keeps the
//     copy's file.
func TestAdoptNeverTakesWhatAMountHides(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	const hw, id = "/etc/nixos/hardware-configuration.nix", "/etc/machine-id"
	beneath := func(p string) string { return filepath.Join(s.top, "root", p) }
	writeFile(t, s.M(hw), "edited through the mount\n", 0o644)
	writeFile(t, beneath(hw), "stale\n", 0o644)
	writeFile(t, beneath("/etc/nixos/only-beneath.nix"), "lacking\n", 0o644)
	running, err := os.ReadFile(s.M(id))
	testutil.Must(t, err)
	writeFile(t, s.M(storage+"/etc/.machine-id.new"), "a new id\n", 0o444)
	testutil.Must(t, os.Rename(s.M(storage+"/etc/.machine-id.new"), s.M(storage+id)))
	under, _ := os.ReadFile(beneath(id))

	unchanged := func(when string) {
		t.Helper()
		for f, want := range map[string]string{s.M(id): string(running), s.M(storage + id): "a new id\n", beneath(id): string(under),
			s.M(hw): "edited through the mount\n", s.M(storage + hw): "edited through the mount\n", beneath(hw): "stale\n"} {
			if got, err := os.ReadFile(f); err != nil || string(got) != want {
				t.Errorf("%s: %s holds %q (%v), want %q", when, f, got, err, want)
			}
		}
	}
	// No string of check's or suggest's JSON recommends --prefer live for
	// either path.
	preferLive := func(cmd string, out string) {
		t.Helper()
		for _, tok := range strings.Split(out, `"`) {
			if strings.Contains(tok, "--prefer live") && (strings.Contains(tok, id) || strings.Contains(tok, "/etc/nixos")) {
				t.Errorf("drift %s recommends %q", cmd, tok)
			}
		}
	}
	_, out, errs := s.driftAll("check", "--root", s.root, "--persist", s.declPath(), "--format", "json")
	preferLive("check", out)
	if want := "cp -a --reflink=auto " + s.M(id) + " " + s.M(storage+id); !strings.Contains(out, want) {
		t.Errorf("drift check does not give %q:\n%s\n%s", want, out, errs)
	}
	_, out, _ = s.driftAll("suggest", "--root", s.root, "--persist", s.declPath(), "--format", "json")
	preferLive("suggest", out)
	if want := `"keepByHand": "cp -a --reflink=auto ` + s.M(id) + " " + s.M(storage+id) + `"`; !strings.Contains(out, want) {
		t.Errorf("drift suggest does not give %s:\n%s", want, out)
	}
	unchanged("after check and suggest")

	for _, p := range []string{id, "/etc/nixos"} {
		for _, extra := range [][]string{{"--dry-run"}, nil} {
			code, out, errs := s.driftAll(append([]string{"adopt", "--prefer", "live", "--root", s.root, "--persist", s.declPath(), p}, extra...)...)
			if code == 0 || !strings.Contains(errs, "/mnt/beneath") {
				t.Errorf("drift adopt --prefer live %s %v: exit %d, not refused with how to look beneath the mount:\n%s\n%s", p, extra, code, out, errs)
			}
			unchanged("after drift adopt --prefer live " + p + " " + strings.Join(extra, " "))
		}
	}
	if code, out, errs := s.driftAll("adopt", "--root", s.root, "--persist", s.declPath(), "/etc/nixos"); code != 0 {
		t.Fatalf("drift adopt /etc/nixos: exit %d\n%s\n%s", code, out, errs)
	}
	unchanged("after drift adopt /etc/nixos")
	if got, _ := os.ReadFile(s.M(storage + "/etc/nixos/only-beneath.nix")); string(got) != "lacking\n" {
		t.Errorf("drift adopt /etc/nixos did not copy what the copy lacked: %q", got)
	}
}
