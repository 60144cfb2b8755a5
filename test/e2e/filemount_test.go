package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestShadowedBeneathAFileMount: a file on the root subvolume beneath a
// declared file's bind mount (impermanence's /etc/machine-id from
// /nix/persist) is read as for a directory mount: what lies there is
// compared with what the mount shows. Other content is reported shadowed
// (the wipe deletes it), with why and what to do; the same content, or the
// empty file a mount point leaves, is not reported. Field case: after
// drift adopt --prefer persistent --mount of a declared file whose live
// version was newer, the live file lay beneath the new mount and drift
// check said nothing of it, while a hidden file beneath a directory mount
// was reported.
func TestShadowedBeneathAFileMount(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	const id = "/etc/machine-id"
	beneath := filepath.Join(s.top, "root", id)
	shown, err := os.ReadFile(s.M(id))
	if err != nil || len(shown) == 0 {
		t.Fatalf("%s through the mount: %q, %v", id, shown, err)
	}
	for _, tc := range []struct {
		name, data string
		listed     bool
	}{
		{"other content", "a newer live id\n", true},
		{"the copy's content", string(shown), false},
		{"the empty mount point", "", false},
	} {
		writeFile(t, beneath, tc.data, 0o444)
		if b, _ := os.ReadFile(s.M(id)); string(b) != string(shown) {
			t.Fatalf("%s: the mount does not hide what lies beneath it: %q", tc.name, b)
		}
		cats := s.categoriesWith(map[bool]int{true: 1}[tc.listed])
		if c, ok := cats[id]; ok != tc.listed || ok && c != "shadowed" {
			t.Errorf("%s beneath the mount: drift check lists %s as %q (%v), want listed %v, shadowed", tc.name, id, c, ok, tc.listed)
		}
		if !tc.listed {
			continue
		}
		out := string(s.drift(1, "check", "--root", s.root, "--persist", s.declPath()))
		if !strings.Contains(out, id) || !strings.Contains(out, "/mnt/beneath") {
			t.Errorf("%s: drift check's text does not say how to reach %s beneath the mount:\n%s", tc.name, id, out)
		}
	}
}
