package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestShadowedUnderAdoptedMountComparedWithItsCopy: after drift adopt
// --prefer live --mount, the old ephemeral files beneath the bind mount of
// the persistent copy are not lost where the mounted copy holds the same
// bytes (copied); a file whose copy was changed since is shadowed, the WHY
// naming the mount whose copy comes back; one removed from the copy is
// shadowed, the WHY saying the copy lacks it. On real btrfs, read beneath
// the mounts as drift check does on a live system.
func TestShadowedUnderAdoptedMountComparedWithItsCopy(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	extra := filepath.Join(s.dir, "adopt.json")
	testutil.Must(t, os.WriteFile(extra, []byte(adoptDecls), 0o644))
	for _, f := range []string{"identical", "different", "missing"} {
		writeFile(t, s.M("/srv/app/"+f), f+" bytes", 0o644)
	}
	s.drift(0, "adopt", "--root", s.root, "--persist", s.declPath(), "--persist", extra, "--prefer", "live", "--mount", "/srv/app")
	writeFile(t, s.M(storage+"/srv/app/different"), "other bytes", 0o644)
	testutil.Must(t, os.Remove(s.M(storage+"/srv/app/missing")))

	var report struct {
		Items []struct{ Path, Category, Why string }
	}
	out := s.drift(1, "check", "--root", s.root, "--persist", s.declPath(), "--persist", extra, "--format", "json")
	testutil.Must(t, json.Unmarshal(out, &report))
	rows := map[string]string{}
	for _, it := range report.Items {
		rows[it.Path] = it.Category + ": " + it.Why
	}
	if r, ok := rows["/srv/app/identical"]; ok {
		t.Errorf("/srv/app/identical is reported (%s), but its mounted copy holds the same bytes", r)
	}
	if r := rows["/srv/app/different"]; !strings.HasPrefix(r, "shadowed: ") || !strings.Contains(r, "has other contents") {
		t.Errorf("/srv/app/different: %q, want shadowed naming the copy with other contents", r)
	}
	if r := rows["/srv/app/missing"]; !strings.HasPrefix(r, "shadowed: ") || !strings.Contains(r, "lacks it") {
		t.Errorf("/srv/app/missing: %q, want shadowed, the copy lacking it", r)
	}
	if !strings.Contains(string(out), `"copied"`) {
		t.Errorf("no copied total:\n%s", out)
	}
}
