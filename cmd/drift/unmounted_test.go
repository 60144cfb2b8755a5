package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestUnmountedStoragePathWarnsAndRefuses: /nix/persist is a fileSystems
// mount point (its own subvolume, neededForBoot) that is not mounted now.
// drift check and drift suggest warn (naming the path, where it is configured and
// the command that mounts it); drift adopt refuses, even a dry run, naming
// the mount: what it wrote would land in the nix subvolume and be hidden
// at the next boot.
func TestUnmountedStoragePathWarnsAndRefuses(t *testing.T) {
	dir, args := machine(t, true)
	decl, err := os.ReadFile(filepath.Join(dir, "decl.nix"))
	if err != nil {
		t.Fatal(err)
	}
	decl = []byte(strings.Replace(string(decl), "  fileSystems.\"/boot\"", "  fileSystems.\"/nix/persist\" = { device = \"/dev/disk/by-label/nixos\"; fsType = \"btrfs\"; options = [ \"subvol=persist\" ]; neededForBoot = true; };\n  fileSystems.\"/boot\"", 1))
	mi, err := os.ReadFile(filepath.Join(dir, "mountinfo"))
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, l := range strings.Split(string(mi), "\n") {
		if !strings.Contains(l, " /nix/persist ") {
			kept = append(kept, l)
		}
	}
	for name, data := range map[string]string{"decl.nix": string(decl), "mountinfo": strings.Join(kept, "\n")} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const want = "the persistent storage path /nix/persist should be a mount"
	for _, cmd := range []string{"check", "suggest"} {
		_, out, errs := runDrift(t, append([]string{cmd, "--format", "json"}, slices.DeleteFunc(slices.Clone(args), func(a string) bool { return a == "--quiet" })...)...)
		if !strings.Contains(out+errs, want) || !strings.Contains(out+errs, "root/nix/persist first") {
			t.Errorf("drift %s does not warn that /nix/persist is not mounted:\n%s\n%s", cmd, out, errs)
		}
	}
	code, out, errs := runDrift(t, append([]string{"adopt", "--dry-run"}, append(args, "/var/log")...)...)
	if code == 0 || !strings.Contains(errs, want) || !strings.Contains(errs, "root/nix/persist first") {
		t.Errorf("drift adopt does not refuse: exit %d\n%s\n%s", code, out, errs)
	}
}
