package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestSuggestReferencesIntoStorage: any option whose string value is an
// absolute path under the persistent storage path names it (environment.etc
// sources, boot.initrd.secrets, a path built from a let binding, whose
// string names its directory too), and a
// live link anywhere — on a persistent filesystem too (/home its own
// subvolume), or through /etc/static and the store's etc — points at what it
// uses: each is in use with what uses it, never declare-or-remove.
func TestSuggestReferencesIntoStorage(t *testing.T) {
	dir, args := machine(t, true)
	root := args[slices.Index(args, "--root")+1]
	decl := `{ ... }: let keyDir = "/nix/persist/keys"; in {
  environment.etc."NetworkManager/system-connections".source = "/nix/persist/nmconn";
  environment.etc."foo".source = "/nix/persist/etcsrc/f";
  boot.initrd.secrets."/etc/secret.key" = "/nix/persist/initrd/secret.key";
  services.foo.keyFile = "${keyDir}/f";
  environment.persistence."/nix/persist" = {
    directories = [ "/var/log" ];
    files = [ "/etc/machine-id" ];
  };
}
`
	if err := os.WriteFile(filepath.Join(dir, "decl.nix"), []byte(decl), 0o644); err != nil {
		t.Fatal(err)
	}
	mi, err := os.ReadFile(filepath.Join(dir, "mountinfo"))
	if err != nil {
		t.Fatal(err)
	}
	mi = append(mi, "43 22 0:31 /home /home rw - btrfs /dev/vda2 rw,subvol=/home\n"...)
	if err := os.WriteFile(filepath.Join(dir, "mountinfo"), mi, 0o644); err != nil {
		t.Fatal(err)
	}
	for rel, text := range map[string]string{
		"nix/persist/nmconn/home.nmconnection": "[connection]",
		"nix/persist/etcsrc/f":                 "foo",
		"nix/persist/initrd/secret.key":        "s",
		"nix/persist/keys/f":                   "k",
		"nix/persist/alice-keys/id":            "k",
		"nix/persist/linked-etc/bar":           "bar",
	} {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	store := "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-etc/etc" // machine links etc/static there
	for link, target := range map[string]string{
		"home/alice/.keys": "/nix/persist/alice-keys",
		"etc/foo":          "/etc/static/foo",
		"etc/bar":          "/etc/static/bar",
		store[1:] + "/foo": "/nix/persist/etcsrc/f",
		store[1:] + "/bar": "/nix/persist/linked-etc/bar",
	} {
		p := filepath.Join(root, link)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	rep := suggestOf(t, args)
	remove := rep.withAction("declare-or-remove")
	want := map[string]string{
		"/nix/persist/nmconn":            "environment.etc",
		"/nix/persist/etcsrc/f":          "environment.etc",
		"/nix/persist/initrd/secret.key": "boot.initrd.secrets",
		"/nix/persist/keys/f":            "services.foo.keyFile",
	}
	// Linked data has no row of its own (the links are accounted for), but
	// is never proposed for removal (TestLinksIntoStorage: what uses it).
	for _, p := range []string{"/nix/persist/alice-keys", "/nix/persist/linked-etc/bar"} {
		want[p] = ""
	}
	for p := range want {
		for _, r := range remove {
			if r == p || strings.HasPrefix(p, r+"/") {
				t.Errorf("%s proposed for removal (%s)", p, r)
			}
		}
	}
	// A row in use says what uses it and what is used below it:
	// /nix/persist/keys, which the string of the let binding names, holds
	// keys/f, which services.foo.keyFile names.
	for _, s := range rep.Suggestions {
		for p, by := range want {
			if (p == s.Path || strings.HasPrefix(p, s.Path+"/")) && by != "" && s.Action == "in-use" && slices.ContainsFunc(s.UsedBy, func(u string) bool { return strings.HasPrefix(u, by) }) {
				delete(want, p)
			}
		}
	}
	for p, by := range want {
		if by == "" {
			delete(want, p)
		}
	}
	if len(want) > 0 {
		t.Errorf("not in use with what uses them: %v\n%+v", want, rep.Suggestions)
	}
}

// TestSuggestInUseSaysNothingToDo: a row for data on persistent storage
// that something uses (a password file, a bind mount's source) says what
// uses it and that there is nothing to do — never to declare its
// storage-relative name (/passwords) "if it must survive a boot".
func TestSuggestInUseSaysNothingToDo(t *testing.T) {
	_, args := machine(t, true)
	_, out, errs := runDrift(t, append([]string{"suggest"}, args...)...)
	if !strings.Contains(out, "hashedPasswordFile") || !strings.Contains(out, "nothing to do") {
		t.Fatalf("no in-use row saying there is nothing to do:\n%s\n%s", out, errs)
	}
	for _, bad := range []string{"must survive a boot", "declare /passwords", "declare /var/lib/sops-nix"} {
		if strings.Contains(out, bad) {
			t.Errorf("in-use rows advise %q:\n%s", bad, out)
		}
	}
}

// TestCheckAndSuggestAgreeOnLinksIntoStorage: a link on the root into the
// persistent storage path that nothing re-creates
// (/etc/ssh/ssh_host_rsa_key -> /nix/persist/etc/ssh/ssh_host_rsa_key) is
// one classification: drift check lists it as lost with the reason and the
// remedy, and drift suggest says the same of it, not "not a candidate".
func TestCheckAndSuggestAgreeOnLinksIntoStorage(t *testing.T) {
	_, args := machine(t, true)
	root := args[slices.Index(args, "--root")+1]
	if err := os.MkdirAll(filepath.Join(root, "etc/ssh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/nix/persist/etc/ssh/ssh_host_rsa_key", filepath.Join(root, "etc/ssh/ssh_host_rsa_key")); err != nil {
		t.Fatal(err)
	}
	// NixOS's own link beside it: /etc/ssh is not lost whole.
	if err := os.Symlink("/etc/static/ssh/ssh_config", filepath.Join(root, "etc/ssh/ssh_config")); err != nil {
		t.Fatal(err)
	}
	const why = "a link into persistent storage that nothing re-creates: declare it (an impermanence file) or add a systemd-tmpfiles L rule"
	code, out, errs := runDrift(t, append([]string{"check", "--format", "json"}, args...)...)
	if code != 1 || !strings.Contains(out, "/etc/ssh/ssh_host_rsa_key") || !strings.Contains(out, why) {
		t.Errorf("drift check: exit %d, the link not lost with %q:\n%s\n%s", code, why, out, errs)
	}
	rep := suggestOf(t, args)
	examples, n := rep.leftFor("symlinks into the persistent storage path")
	if n == 0 || !slices.Contains(examples, "/etc/ssh/ssh_host_rsa_key") {
		t.Errorf("drift suggest does not list the link: %+v", rep.Left)
	}
	for _, l := range rep.Left {
		if slices.Contains(l.Examples, "/etc/ssh/ssh_host_rsa_key") && (!strings.Contains(l.Reason, why) || strings.Contains(l.Reason, "not a candidate")) {
			t.Errorf("drift suggest says otherwise: %q", l.Reason)
		}
	}
}
