package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestDataBeneathADeclaredHomeMountIsSeenAndAdopted: after a boot, what
// was written to a declared home directory on the /home subvolume before
// its declaration was mounted lies beneath the bind mount of its copy
// (field case: a fresh user's .mozilla, written before impermanence
// mounted /nix/persist/home/alice/.mozilla over it; drift check said
// nothing and drift adopt found nothing to adopt). On real btrfs mounts:
//   - drift check lists what lies beneath as covered (hidden, not deleted;
//     exit 1), except what the copy holds the same, and warns naming the
//     mount;
//   - drift adopt of the declared directory copies what the copy lacks,
//     read beneath the mount on /home, keeps the copy's file where the
//     hidden one differs (the running system's data), and changes nothing
//     beneath the mount;
//   - drift check then lists only the stale hidden file.
func TestDataBeneathADeclaredHomeMountIsSeenAndAdopted(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	extra := filepath.Join(s.dir, "covered.json")
	testutil.Must(t, os.WriteFile(extra, []byte(coveredDecls), 0o644))
	const moz = "/home/alice/.mozilla"
	writeFile(t, s.M(moz+"/firefox/prefs.js"), "user_pref(1);", 0o600)
	writeFile(t, s.M(moz+"/same.txt"), "same", 0o644)
	writeFile(t, s.M(moz+"/other.txt"), "old", 0o644)
	writeFile(t, s.M(storage+moz+"/same.txt"), "same", 0o644)
	writeFile(t, s.M(storage+moz+"/other.txt"), "new", 0o644)
	run(t, "mount", "--bind", s.M(storage+moz), s.M(moz)) // the boot's mount of the copy
	beneath := func(p string) string { return filepath.Join(s.top, "home", strings.TrimPrefix(p, "/home")) }
	base := []string{"--root", s.root, "--persist", s.declPath(), "--persist", extra}

	lost := func() []string {
		t.Helper()
		code, out, errs := s.driftAll(append([]string{"check", "--format", "paths"}, base...)...)
		if code != 1 {
			t.Fatalf("drift check: exit %d, want 1\n%s", code, errs)
		}
		return strings.Split(strings.TrimSpace(out), "\n")
	}
	got := lost()
	for _, p := range []string{moz + "/firefox", moz + "/firefox/prefs.js", moz + "/other.txt"} {
		if !slices.Contains(got, p) {
			t.Errorf("drift check does not list %s, hidden beneath the mount: %q", p, got)
		}
	}
	if slices.Contains(got, moz+"/same.txt") {
		t.Errorf("drift check lists same.txt, which the copy holds the same")
	}
	_, out, errs := s.driftAll(append([]string{"check"}, base...)...)
	if !strings.Contains(errs, "covered: 3 paths lie on /home") || !strings.Contains(errs, "beneath the mount at "+moz) {
		t.Errorf("drift check does not warn about what lies beneath the mount:\n%s%s", out, errs)
	}
	if flat := strings.Join(strings.Fields(strings.ReplaceAll(out, "│", " ")), " "); !strings.Contains(flat, "mount --bind "+s.M("/home")+" /mnt/beneath") {
		t.Errorf("drift check does not say how to look beneath the mount on /home:\n%s", out)
	}

	dry := string(s.drift(0, append(append([]string{"adopt"}, base...), "--dry-run", moz)...))
	if !strings.Contains(dry, "beneath the mount at "+moz+" on the persistent filesystem at /home") || !strings.Contains(dry, "prefs.js") {
		t.Errorf("adopt --dry-run does not plan the copy from beneath the mount:\n%s", dry)
	}
	s.drift(0, append(append([]string{"adopt"}, base...), moz)...)
	for f, want := range map[string]string{
		s.M(storage + moz + "/firefox/prefs.js"): "user_pref(1);",
		s.M(moz + "/firefox/prefs.js"):           "user_pref(1);",
		s.M(storage + moz + "/other.txt"):        "new",
		beneath(moz + "/firefox/prefs.js"):       "user_pref(1);",
		beneath(moz + "/other.txt"):              "old",
	} {
		if b, err := os.ReadFile(f); err != nil || string(b) != want {
			t.Errorf("after drift adopt: %s holds %q (%v), want %q", f, b, err, want)
		}
	}
	got = lost()
	if slices.Contains(got, moz+"/firefox/prefs.js") || !slices.Contains(got, moz+"/other.txt") {
		t.Errorf("after drift adopt, drift check lists %q; want other.txt (stale, hidden) and not prefs.js (in the copy now)", got)
	}
}
