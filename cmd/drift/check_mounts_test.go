package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/suggest"
	"github.com/nix-drift/drift/internal/testutil"
)

// subvolMachine is a fixture modelled on a btrfs machine whose
// configuration mounts subvolumes at /var/log and /home and a tmpfs at
// /home/carol (fileSystems); mountinfo is the mount table given.
func subvolMachine(t *testing.T, mountinfo string, tree map[string]testutil.Node) (root string, args []string) {
	t.Helper()
	sys := newSystem(t, "decl.nix", `{ ... }: {
  fileSystems."/" = { device = "/dev/vda2"; fsType = "btrfs"; options = [ "subvol=root" ]; };
  fileSystems."/nix" = { device = "/dev/vda2"; fsType = "btrfs"; options = [ "subvol=nix" ]; };
  fileSystems."/nix/persist" = { device = "/dev/vda2"; fsType = "btrfs"; options = [ "subvol=persist" ]; };
  fileSystems."/var/log" = { device = "/dev/vda2"; fsType = "btrfs"; options = [ "subvol=log" ]; };
  fileSystems."/home" = { device = "/dev/vda2"; fsType = "btrfs"; options = [ "subvol=home" ]; };
  fileSystems."/home/carol" = { device = "none"; fsType = "tmpfs"; };
  environment.persistence."/nix/persist" = {
    directories = [ "/var/lib/nixos" ];
  };
}
`, mountinfo)
	testutil.Build(t, sys.root, tree, fixtureTime)
	return sys.root, sys.flags("--old-roots", "none", "--quiet")
}

const subvolBase = `22 1 0:31 /root / rw - btrfs /dev/vda2 rw,subvol=/root
27 22 0:31 /nix /nix rw - btrfs /dev/vda2 rw,subvol=/nix
28 27 0:31 /persist /nix/persist rw - btrfs /dev/vda2 rw,subvol=/persist
`

// A tmpfs the configuration mounts (fileSystems."/home/carol".fsType =
// "tmpfs") inside the persistent /home subvolume is ephemeral without
// --ephemeral: what is on it is lost; the rest of /home is not.
func TestConfiguredTmpfsInsidePersistentHomeIsEphemeral(t *testing.T) {
	mi := subvolBase + `29 22 0:31 /log /var/log rw - btrfs /dev/vda2 rw,subvol=/log
30 22 0:31 /home /home rw - btrfs /dev/vda2 rw,subvol=/home
31 30 0:45 / /home/carol rw - tmpfs tmpfs rw
`
	_, args := subvolMachine(t, mi, map[string]testutil.Node{
		"home/carol/x":    file("a"),
		"home/dave/notes": file("n"),
		"var/log/x":       file("log"),
	})
	_, out, errs := runDrift(t, append([]string{"check", "--format", "paths"}, args...)...)
	if !strings.Contains(out, "/home/carol/x\n") {
		t.Errorf("the configured tmpfs at /home/carol is not ephemeral:\n%s%s", out, errs)
	}
	if strings.Contains(out, "/home/dave") || strings.Contains(out, "/var/log") {
		t.Errorf("persistent subvolumes reported lost:\n%s", out)
	}
}

// Subvolume mount points of the configuration not mounted now (/var/log,
// /home umounted): what lies on the root there is covered at the next boot
// (the subvolume is mounted over it), not unpersisted, and drift suggest
// never proposes declaring it (drift lint would call that already
// persistent).
func TestUnmountedConfiguredSubvolumeCoversWhatIsOnTheRoot(t *testing.T) {
	_, args := subvolMachine(t, subvolBase, map[string]testutil.Node{
		"var/log/x":      file("hi"),
		"home/bob/notes": file("b"),
		"etc/stray":      file("s"),
	})
	_, out, errs := runDrift(t, append([]string{"check", "--format", "json"}, args...)...)
	for _, p := range []string{"/var/log/x", "/home/bob"} {
		if !strings.Contains(out, `"path": "`+p+`",
      "category": "covered"`) {
			t.Errorf("%s is not covered:\n%s%s", p, out, errs)
		}
	}
	if !strings.Contains(out, `"path": "/etc/stray",
      "category": "unpersisted"`) {
		t.Errorf("/etc/stray is not unpersisted:\n%s", out)
	}
	_, nix, errs := runDrift(t, append([]string{"suggest", "--format", "nix", "--now", "2026-12-01T00:00:00Z"}, args...)...)
	var decls, left []string // the module's lines; the comments left to the user
	for _, l := range strings.Split(nix, "\n") {
		if strings.HasPrefix(l, "# left to you: ") {
			left = append(left, l)
		} else if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			decls = append(decls, l)
		}
	}
	module := strings.Join(decls, "\n")
	if strings.Contains(module, "/var/log") || strings.Contains(module, "notes") || strings.Contains(module, "bob") {
		t.Errorf("suggest proposes declaring a path the next boot mounts a subvolume over:\n%s%s", nix, errs)
	}
	if !strings.Contains(module, "/etc/stray") {
		t.Errorf("suggest lost the stray file:\n%s%s", nix, errs)
	}
	// What the subvolume will cover is lost with the root: left to the
	// user, saying so (suggest said nothing of it).
	if !slices.ContainsFunc(left, func(l string) bool {
		return strings.Contains(l, "/var/log/x") && strings.Contains(l, "/home/bob") && strings.Contains(l, suggest.LeftRemounted)
	}) {
		t.Errorf("the covered paths are not left to the user with their reason:\n%s", nix)
	}
}
