package persist

import (
	"fmt"
	"strings"
	"testing"
)

// TestRawAttrsOptions: what drift lint reads besides the normalised
// entries — the path as written, the home, each attribute with its
// position, dropped duplicates, malformed entries, storage-path options and
// the storage paths themselves.
func TestRawAttrsOptions(t *testing.T) {
	src := `{
  environment.persistence."/nix/persist" = {
    hideMounts = true;
    allowOther = true;
    directories = [ "/var/log/" { directory = "/srv"; mode = "0700"; } "/var/log" ];
    files = [ { file = "/etc/k"; parentDirectory.mode = "0700"; } { fil = "/x"; } ];
    users.alice = { home = "/home/alice"; directories = [ "/.ssh" ]; };
  };
}
`
	s, err := ParseNix([]byte(src), "f.nix", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range s.Entries {
		l := fmt.Sprintf("%s raw=%q home=%q @%s", e.Path, e.Raw(), e.Home, e.Pos)
		for _, a := range e.Attrs() {
			l += fmt.Sprintf(" %s@%s=%q@%s", a.Name, a.Pos, a.Value, a.ValuePos)
		}
		got = append(got, l)
	}
	wantLines(t, "entries", got, []string{
		`/var/log raw="/var/log/" home="" @f.nix:5:21`,
		`/srv raw="/srv" home="" @f.nix:5:47 directory@f.nix:5:35="/srv"@f.nix:5:47 mode@f.nix:5:55="0700"@f.nix:5:62`,
		`/etc/k raw="/etc/k" home="" @f.nix:6:24 file@f.nix:6:17="/etc/k"@f.nix:6:24 parentDirectory@f.nix:6:34=""@f.nix:6:34 parentDirectory.mode@f.nix:6:50="0700"@f.nix:6:57`,
		`/home/alice/.ssh raw="/.ssh" home="/home/alice" @f.nix:7:59`,
	})
	if len(s.Duplicates) != 1 || s.Duplicates[0].Entry().Raw() != "/var/log" || s.Duplicates[0].Pos().String() != "f.nix:5:72" {
		t.Errorf("duplicates: %+v", s.Duplicates)
	}
	if len(s.Malformed) != 1 || s.Malformed[0].Kind != File || s.Malformed[0].Pos.String() != "f.nix:6:67" || s.Malformed[0].Attrs()[0].Name != "fil" {
		t.Errorf("malformed: %+v", s.Malformed)
	}
	var opts []string
	for _, o := range s.Options {
		opts = append(opts, fmt.Sprintf("%s %s owner=%q @%s", o.Where, o.Name, o.Owner, o.Pos))
	}
	wantLines(t, "options", opts, []string{
		`environment.persistence."/nix/persist" hideMounts owner="" @f.nix:3:5`,
		`environment.persistence."/nix/persist" allowOther owner="" @f.nix:4:5`,
		`environment.persistence."/nix/persist" directories owner="" @f.nix:5:5`,
		`environment.persistence."/nix/persist" files owner="" @f.nix:6:5`,
		`environment.persistence."/nix/persist" users owner="" @f.nix:7:5`,
		`environment.persistence."/nix/persist".users.alice home owner="alice" @f.nix:7:21`,
		`environment.persistence."/nix/persist".users.alice directories owner="alice" @f.nix:7:43`,
	})
	if len(s.Storage) != 1 || s.Storage[0].Path != "/nix/persist" || s.Storage[0].Pos.String() != "f.nix:2:27" {
		t.Errorf("storage: %+v", s.Storage)
	}
	codes := map[string]bool{}
	for _, d := range s.Diagnostics {
		codes[d.Code] = true
	}
	for _, c := range []string{"duplicate", "user-path-absolute", "missing-key"} {
		if !codes[c] {
			t.Errorf("no diagnostic with code %q: %q", c, diags(s))
		}
	}
}

// TestConfigRead: the other options a module sets.
func TestConfigRead(t *testing.T) {
	src := `{ config, ... }: {
  users.mutableUsers = false;
  users.users.alice = { uid = 1000; hashedPasswordFile = "/etc/pw"; };
  users.users.svc = { isSystemUser = true; group = "svc"; uid = config.ids.uids.svc; };
  users.users.bob = { isNormalUser = true; };
  users.groups.svc = { };
  services.openssh = { enable = true; hostKeys = [ { path = "/p/k"; type = "ed25519"; } ]; };
  boot.tmp.useTmpfs = config.x;
  environment.etc."ssh/ssh_config".text = "";
  sops.age.sshKeyPaths = [ "/etc/ssh/k" ];
  sops.secrets.a.neededForUsers = true;
  fileSystems."/home" = { device = "/dev/b"; fsType = "btrfs"; };
  environment.persistence."/p".directories = [ "/srv" ];
}
`
	s, err := ParseNix([]byte(src), "f.nix", Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Config
	if c == nil {
		t.Fatal("no Config")
	}
	var users []string
	for _, u := range c.Users {
		users = append(users, fmt.Sprintf("%s uid=%v group=%q system=%v pw=%q@%s", u.Name, u.HasUID, u.Group, u.System, u.HashedPasswordFile.Value, u.HashedPasswordFile.Pos))
	}
	wantLines(t, "users", users, []string{
		`alice uid=true group="" system=false pw="/etc/pw"@f.nix:3:58`,
		`svc uid=true group="svc" system=true pw=""@`,
		`bob uid=false group="" system=false pw=""@`,
	})
	got := fmt.Sprintf("mutable=%v@%s ssh=%v tmp=%v groups=%d etc=%q keys=%v forUsers=%v hostKeys=%v fs=%q",
		c.MutableUsers.Value, c.MutableUsers.Pos, c.OpenSSH.Value, c.TmpOnTmpfs.Value, len(c.Groups), c.EtcFiles,
		c.SSHKeyPaths[0].Value, c.SecretsForUsers, c.HostKeyPaths[0].Value, mountLines(c.FileSystems))
	want := `mutable=2@f.nix:2:24 ssh=1 tmp=3 groups=1 etc=["ssh/ssh_config"] keys=/etc/ssh/k forUsers=true hostKeys=/p/k fs=["/home btrfs f.nix:12:15"]`
	if got != want {
		t.Errorf("config:\n got %s\nwant %s", got, want)
	}
	if j, _ := ParseJSON([]byte(`{"/p":{"directories":["/a"]}}`), "f.json", Options{}); j.Config != nil {
		t.Error("JSON input has a Config")
	}
}

// TestRemovedAssertions: in current impermanence's nix eval output, a
// removed option that is defined shows as a failed assertion.
func TestRemovedAssertions(t *testing.T) {
	js := `{"/p":{"assertions":[{"assertion":false,"message":"The option definition ` + "`allowOther'" + ` in  no longer has any effect; please remove it."}],
"directories":[{"dirPath":"/a","directory":"/a","assertions":[{"assertion":false,"message":"The option definition ` + "`method'" + ` in  no longer has any effect"},{"assertion":true,"message":"The option definition ` + "`x'" + ` …"}]}]}}`
	s, err := ParseJSON([]byte(js), "f.json", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range s.Options {
		if o.Removed {
			got = append(got, o.Name+" @"+o.Pos.String())
		}
	}
	for _, a := range s.Entries[0].Attrs() {
		if a.Removed {
			got = append(got, "entry "+a.Name+" @"+a.Pos.String())
		}
	}
	wantLines(t, "removed", got, []string{"allowOther @f.json:1:22", "entry method @f.json:2:63"})
	if !s.Entries[0].Evaluated || !strings.HasPrefix(s.Entries[0].Raw(), "/a") {
		t.Errorf("entry: %+v", s.Entries[0])
	}
}
