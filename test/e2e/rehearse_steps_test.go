package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestRehearseStepsAreOnesTheCommandsAccept: on real btrfs, a bind mount
// from persistent storage no declaration makes is unmounted (NOW) and
// asks to be declared again or ignored, never drift adopt; a declared
// path whose persistent copy differs asks to decide with --prefer (drift
// adopt alone refuses it); a link into persistent storage that drift
// suggest leaves to the user is "left to you" with suggest's reason and
// not in the persist list.
func TestRehearseStepsAreOnesTheCommandsAccept(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	reports := filepath.Join(s.dir, "reports")
	testutil.Must(t, os.MkdirAll(reports, 0o700))
	writeFile(t, s.M("/srv/declared-unmounted/data"), "live bytes", 0o644)
	writeFile(t, s.M(storage+"/srv/declared-unmounted/data"), "other persistent bytes", 0o644)
	writeFile(t, s.M(storage+"/mnt/bind/kept"), "on persistent storage", 0o644)
	testutil.Must(t, os.MkdirAll(s.M("/mnt/bind"), 0o755))
	run(t, "mount", "--bind", s.M(storage+"/mnt/bind"), s.M("/mnt/bind"))
	testutil.Must(t, os.Symlink(storage+"/linked.conf", s.M("/etc/linked")))
	writeFile(t, s.M(storage+"/linked.conf"), "x", 0o644)
	for _, name := range []string{"2026-12-01T08:00:00.000000000Z", "2026-12-02T08:00:00.000000000Z", "2026-12-03T08:00:00.000000000Z"} {
		_, out, _ := s.driftAll("check", "--root", s.root, "--persist", s.declPath(), "--format", "json", "--old-roots", "none")
		testutil.Must(t, os.WriteFile(filepath.Join(reports, "shutdown-"+name+".json"), []byte(out), 0o600))
	}
	out := s.drift(1, "rehearse", "--root", s.root, "--persist", s.declPath(), "--reports", reports, "--old-roots", "none", "--format", "json")
	var r struct {
		Rehearsal struct {
			Paths                             []struct{ Path, Now, Step, Why string }
			Persist, Adopt, Decide, Redeclare []string
			Left                              []struct{ Path, Why string }
			Next                              string
		}
	}
	testutil.Must(t, json.Unmarshal(out, &r))
	got := map[string][3]string{}
	for _, p := range r.Rehearsal.Paths {
		got[p.Path] = [3]string{p.Now, p.Step, p.Why}
	}
	if g := got["/mnt/bind"]; g[0] != "unmounted" || g[1] != "redeclare" {
		t.Errorf("/mnt/bind: %q", g)
	}
	if g := got["/srv/declared-unmounted/data"]; g[0] != "declared-unbacked" || g[1] != "decide" {
		t.Errorf("/srv/declared-unmounted/data: %q", g)
	}
	if g := got["/etc/linked"]; g[0] != "unpersisted" || g[1] != "left" || !strings.Contains(g[2], "drift suggest leaves it to you") {
		t.Errorf("/etc/linked: %q", g)
	}
	n := r.Rehearsal.Next
	// The copy of data holds other bytes and lacks nothing: --prefer
	// persistent would change nothing (diff.KeepCopyBack), so only
	// --prefer live is offered.
	for _, bad := range []string{"drift adopt /mnt", "persist /etc/linked", "drift adopt /srv/declared-unmounted/data ", "--prefer persistent"} {
		if strings.Contains(n, bad) {
			t.Errorf("next %q has %q", n, bad)
		}
	}
	for _, want := range []string{"declare again or ignore /mnt/bind", "drift adopt --prefer live --root " + s.root + " --persist " + s.declPath() + " /srv/declared-unmounted/data", "the persistent copy of /srv/declared-unmounted/data differs and comes back at the next boot", "left to you: /etc/linked (drift suggest leaves it to you"} {
		if !strings.Contains(n, want) {
			t.Errorf("next %q lacks %q", n, want)
		}
	}
	// What rehearse calls decide, drift adopt refuses without --prefer.
	if code, _, errOut := s.driftAll("adopt", "--root", s.root, "--persist", s.declPath(), "--dry-run", "/srv/declared-unmounted/data"); code == 0 {
		t.Errorf("drift adopt accepted a differing copy: %s", errOut)
	}
}
