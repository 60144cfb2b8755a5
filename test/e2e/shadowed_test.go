package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestShadowedGoneAfterDriftWipe: a file on the root subvolume hidden under
// a bind mount (impermanence's /etc/nixos from /nix/persist) is reported
// shadowed by drift check, and really is gone after a real drift wipe and
// the next boot's mounts: not on the fresh root, not visible, kept only in
// the old root, while the persistent copy the bind mount shows is intact.
func TestShadowedGoneAfterDriftWipe(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return // the test ran in a private mount namespace
	}
	const hidden = "/etc/nixos/hidden-under-bind.txt"
	const config = "/etc/nixos/configuration.nix"
	testutil.Must(t, os.WriteFile(s.M(config), []byte("{ ... }: { }\n"), 0o644)) // through the bind: persistent
	// On the root subvolume under the bind mount, written through the top
	// level, which shows the root subvolume without the mounts on it.
	testutil.Must(t, os.WriteFile(filepath.Join(s.top, "root", hidden), []byte("hidden\n"), 0o644))
	if _, err := os.Lstat(s.M(hidden)); err == nil {
		t.Fatalf("%s is visible: the bind mount does not hide it", hidden)
	}

	cats := s.categoriesWith(1)
	if cats[hidden] != "shadowed" {
		t.Fatalf("drift check: %s is %q, want shadowed (rows: %q)", hidden, cats[hidden], cats)
	}
	if c, ok := cats[config]; ok {
		t.Errorf("drift check: the persistent %s is listed (%s)", config, c)
	}

	// Shutdown, a real drift wipe, the next boot's mounts.
	s.unmountBelow(s.root)
	w := &wipeImage{t: t, top: s.top, dev: s.dev}
	w.drift()
	s.boot(unbackedAtFirstBoot)

	if _, err := os.Lstat(filepath.Join(s.top, "root", hidden)); !os.IsNotExist(err) {
		t.Errorf("%s on the fresh root subvolume after drift wipe: %v, want it gone", hidden, err)
	}
	if _, err := os.Lstat(s.M(hidden)); !os.IsNotExist(err) {
		t.Errorf("%s visible after the boot: %v, want it gone", hidden, err)
	}
	if b, err := os.ReadFile(s.M(config)); err != nil || string(b) != "{ ... }: { }\n" {
		t.Errorf("the persistent %s after the boot: %q, %v", config, b, err)
	}
	olds := readDirNames(t, filepath.Join(s.top, "old_roots"))
	if len(olds) != 1 {
		t.Fatalf("old_roots after one wipe: %q", olds)
	}
	if b, err := os.ReadFile(filepath.Join(s.top, "old_roots", olds[0], hidden)); err != nil || string(b) != "hidden\n" {
		t.Errorf("the old root %s does not hold %s: %q, %v", olds[0], hidden, b, err)
	}
	if c, ok := s.categoriesWith(0)[hidden]; ok {
		t.Errorf("drift check after the boot still lists %s (%s)", hidden, c)
	}
}
