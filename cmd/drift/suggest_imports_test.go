package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestSuggestConfigFromImportedModule: the options naming files under the
// persistent storage path (a root password file with mutableUsers = false,
// agenix's and sops-nix's keys, the SSH host keys, a bind mount's device)
// count as in use when they are set in a module configuration.nix imports
// (./secrets.nix), not only when written in configuration.nix itself: the
// configuration is read following relative imports as drift lint does.
// A module outside the import graph, and one reached only through a
// symbolic link, are not read.
func TestSuggestConfigFromImportedModule(t *testing.T) {
	_, args := machine(t, true)
	i := slices.Index(args, "--persist")
	args = slices.Delete(slices.Clone(args), i, i+2)
	root := args[slices.Index(args, "--root")+1]
	files := map[string]string{
		"etc/nixos/configuration.nix": `{ ... }: {
  imports = [ ./hardware-configuration.nix ./secrets.nix ./modules ./linked.nix ];
  users.mutableUsers = false;
  environment.persistence."/nix/persist" = {
    directories = [ "/var/log" ];
    files = [ "/etc/machine-id" ];
  };
}
`,
		"etc/nixos/hardware-configuration.nix": `{ modulesPath, ... }: {
  imports = [ (modulesPath + "/installer/scan/not-detected.nix") ];
  fileSystems."/boot" = { device = "/dev/disk/by-label/BOOT"; fsType = "vfat"; };
  fileSystems."/srv/fsbind" = { device = "/nix/persist/fsbind"; options = [ "bind" ]; };
}
`,
		"etc/nixos/secrets.nix": `{ ... }: {
  users.users.root.hashedPasswordFile = "/nix/persist/rootpw/f";
  services.openssh.hostKeys = [ { path = "/nix/persist/etc/ssh/ssh_host_ed25519_key"; type = "ed25519"; } ];
  sops.age.keyFile = "/nix/persist/var/lib/sops-nix/key.txt";
  sops.age.sshKeyPaths = [ "/nix/persist/sshkeys/k" ];
}
`,
		"etc/nixos/modules/default.nix": `{ ... }: { age.identityPaths = [ "/nix/persist/etc/age/identity" ]; }`,
		"etc/nixos/unrelated.nix":       `{ ... }: { imports = [ ]; users.users.alice.hashedPasswordFile = "/nix/persist/passwords/alice"; }`,
		"nix/persist/rootpw/f":          "$y$root",
		"nix/persist/sshkeys/k":         "K",
		"nix/persist/fsbind/data":       "d",
		"elsewhere/linked.nix":          `{ ... }: { users.users.bob.hashedPasswordFile = "/nix/persist/passwords/root"; }`,
	}
	for rel, text := range files {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../../elsewhere/linked.nix", filepath.Join(root, "etc/nixos/linked.nix")); err != nil {
		t.Fatal(err)
	}
	rep := suggestOf(t, args)
	remove := rep.withAction("declare-or-remove")
	want := map[string]string{
		"/nix/persist/rootpw/f":                     "users.users.root.hashedPasswordFile",
		"/nix/persist/etc/ssh/ssh_host_ed25519_key": "services.openssh.hostKeys",
		"/nix/persist/var/lib/sops-nix/key.txt":     "sops.age.keyFile",
		"/nix/persist/sshkeys/k":                    "sops.age.sshKeyPaths",
		"/nix/persist/etc/age/identity":             "age.identityPaths",
		"/nix/persist/fsbind":                       `fileSystems."/srv/fsbind".device`,
	}
	for p := range want {
		for _, r := range remove {
			if r == p || strings.HasPrefix(p, r+"/") {
				t.Errorf("%s proposed for removal (%s): %q", p, r, remove)
			}
		}
	}
	for _, s := range rep.Suggestions {
		if opt, ok := want[s.Path]; ok && s.Action == "in-use" && slices.ContainsFunc(s.UsedBy, func(u string) bool { return strings.HasPrefix(u, opt) }) {
			delete(want, s.Path)
		}
	}
	if len(want) > 0 {
		t.Errorf("not listed as in use with the option naming them: %v\n%+v", want, rep.Suggestions)
	}
	// unrelated.nix is imported by nothing, linked.nix only through a
	// symbolic link: neither is read.
	for _, s := range rep.Suggestions {
		if s.Action == "in-use" && (s.Path == "/nix/persist/passwords/alice" || s.Path == "/nix/persist/passwords/root") {
			t.Errorf("a module outside the imports was read: %+v", s)
		}
	}
}
