package persist

import (
	"slices"
	"strings"
	"testing"
)

// TestReferences: the paths the options name, each with its option: users'
// password files, host keys, sops-nix and agenix keys, a bind mount's
// device, any other option's absolute path; never the persistence
// declarations themselves, store paths, "/" or a shell script.
func TestReferences(t *testing.T) {
	src := `{ config, ... }: {
  users.users.alice.hashedPasswordFile = "/persist/pw/alice";
  services.openssh.hostKeys = [ { path = "/persist/ssh/key"; type = "ed25519"; } ];
  sops.age.keyFile = "/persist/sops/key.txt";
  sops.age.sshKeyPaths = [ "/persist/ssh/key" ];
  age.identityPaths = [ "/persist/age/id" ];
  fileSystems."/srv" = { device = "/persist/srv"; options = [ "bind" ]; };
  fileSystems."/boot" = { device = "/dev/disk/by-label/BOOT"; fsType = "vfat"; };
  services.x.passwordFile = "/persist/x/pw";
  services.y.package = "/nix/store/abc-y";
  services.z.script = "/run/current-system/sw/bin/true && echo";
  networking.hostName = "box";
  environment.persistence."/persist".directories = [ "/var/lib/declared" ];
}
`
	set, err := ParseNix([]byte(src), "c.nix", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range set.Config.References() {
		got = append(got, r.Option+" "+r.Path)
	}
	for _, want := range []string{
		"users.users.alice.hashedPasswordFile /persist/pw/alice",
		"services.openssh.hostKeys /persist/ssh/key",
		"sops.age.keyFile /persist/sops/key.txt",
		"sops.age.sshKeyPaths /persist/ssh/key",
		"age.identityPaths /persist/age/id",
		`fileSystems."/srv".device /persist/srv`,
		"services.x.passwordFile /persist/x/pw",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("%q not referenced:\n%s", want, strings.Join(got, "\n"))
		}
	}
	for _, r := range got {
		if strings.Contains(r, "/nix/store") || strings.Contains(r, "declared") || strings.Contains(r, "/run/current-system") || strings.HasSuffix(r, " /") {
			t.Errorf("referenced: %q", r)
		}
	}
}
