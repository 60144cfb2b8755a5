package lint

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// brief renders a finding as "line:col severity rule path".
func brief(f Finding) string {
	return strings.TrimSpace(fmt.Sprintf("%d:%d %s %s %s", f.Pos.Line, f.Pos.Col, f.Severity, f.Rule, f.Path))
}

func briefs(fs []Finding, rules ...string) []string {
	var out []string
	for _, f := range fs {
		if len(rules) == 0 || slices.Contains(rules, f.Rule) {
			out = append(out, brief(f))
		}
	}
	return out
}

func find(fs []Finding, rule, path string) (Finding, bool) {
	for _, f := range fs {
		if f.Rule == rule && f.Path == path {
			return f, true
		}
	}
	return Finding{}, false
}

// TestUnusualPathCharacters: paths with non-ASCII letters, whitespace and
// shell-special characters (field case C05) are kept byte for byte; only
// the third entry is reported: its trailing '/' is normalised
// (path-slashes) and it is a very deep leaf under .mozilla
// (deep-app-path).
//
// The case also expects "escaped unit name longer than 255 bytes". Under
// the NixOS module the entry's mount unit is named with systemd's own
// escaping, a valid 120-byte name, so no unit-name finding there: the
// failure of impermanence #195, on which the case is modelled, came from
// home-manager v1, whose bindMount-<path> service kept '+' and '=' in the
// name (systemd: "Unit name … is not valid"). The same entry declared
// through home-manager v1 raises unit-name (second half), and so does a
// path whose escaped name is longer than 255 bytes.
func TestUnusualPathCharacters(t *testing.T) {
	src := `{
  environment.persistence."/nix/persist".users.alice.directories = [
    "المستندات"
    "VirtualBox VMs"
    ".mozilla/firefox/p1/storage/default/moz-extension+++0f0f^userContextId=4294967295/idb/"
  ];
}
`
	fs := lintNix(t, src)
	const third = "/home/alice/.mozilla/firefox/p1/storage/default/moz-extension+++0f0f^userContextId=4294967295/idb"
	got := briefs(fs, "path-slashes", "deep-app-path", "unit-name", "path-whitespace", "path-not-absolute")
	want := []string{"5:5 warning deep-app-path " + third, "5:5 warning path-slashes " + third}
	if !slices.Equal(got, want) {
		t.Errorf("findings on unusual characters:\n got %q\nwant %q", got, want)
	}
	if f, _ := find(fs, "deep-app-path", third); !strings.Contains(f.Message, "consider persisting .mozilla") {
		t.Errorf("deep-app-path message %q does not suggest .mozilla", f.Message)
	}
	if n := len(escapePath(third) + ".mount"); n != 120 {
		t.Errorf("mount unit name of the entry: %d bytes, want 120", n)
	}
	for _, p := range []string{"/home/alice/المستندات", "/home/alice/VirtualBox VMs"} {
		for _, f := range fs {
			if f.Path == p {
				t.Errorf("finding on %s: %+v", p, f)
			}
		}
	}
	hm := `{
  home.username = "alice";
  home.persistence."/nix/persist/home/alice".directories = [
    ".mozilla/firefox/p1/storage/default/moz-extension+++0f0f^userContextId=4294967295/idb/"
  ];
}
`
	if got := only(lintNix(t, hm), "unit-name"); !slices.Equal(got, []string{"4:5 warning"}) {
		t.Errorf("home-manager v1: unit-name %q", got)
	}
}

// TestUnfixedIDsWithoutVarLibNixos: /var/lib/nixos not persisted while
// users and groups have no fixed id is an error naming them: their ids
// can change at the next boot and files change owner (field case C06).
func TestUnfixedIDsWithoutVarLibNixos(t *testing.T) {
	src := `{
  users.users.alice = { isNormalUser = true; uid = 1000; };
  users.users.svc-a = { isSystemUser = true; group = "svc-a"; };   # no uid
  users.users.svc-b = { isSystemUser = true; group = "svc-b"; };   # added this week, no uid
  environment.persistence."/nix/persist".directories = [ "/var/lib/svc-a" ];
}
`
	fs := lintNix(t, src)
	f, ok := find(fs, "missing-var-lib-nixos", "/var/lib/nixos")
	if !ok || f.Severity != Error || f.Pos.Line != 5 || f.Pos.Col != 27 {
		t.Fatalf("missing-var-lib-nixos: %+v (found %v)", f, ok)
	}
	const want = "/var/lib/nixos (or an ancestor) is not persisted and 2 users / 2 groups have no fixed id (svc-a, svc-b)"
	if !strings.HasPrefix(f.Message, want) {
		t.Errorf("message %q\nwant prefix %q", f.Message, want)
	}
	// Persisting it (or /var/lib) settles it.
	for _, d := range []string{"/var/lib/nixos", "/var/lib"} {
		fixed := strings.Replace(src, `"/var/lib/svc-a"`, `"/var/lib/svc-a" "`+d+`"`, 1)
		if _, ok := find(lintNix(t, fixed), "missing-var-lib-nixos", "/var/lib/nixos"); ok {
			t.Errorf("with %s persisted: still reported", d)
		}
	}
}

// TestEarlyReaderOfPersistedFile: a password file or key the system reads
// in stage 1 or before the persistence mounts exist (hashedPasswordFile,
// sops' SSH key) but persisted only by a bind mount is an error naming the
// option that reads it (field case C10).
func TestEarlyReaderOfPersistedFile(t *testing.T) {
	src := `{
  users.mutableUsers = false;
  users.users.alice.hashedPasswordFile = "/etc/secrets/alice.hash";
  sops.age.sshKeyPaths = [ "/etc/ssh/ssh_host_ed25519_key" ];
  sops.secrets.alice-pw.neededForUsers = true;
  environment.persistence."/nix/persist".files = [
    "/etc/secrets/alice.hash" "/etc/ssh/ssh_host_ed25519_key"
  ];
}
`
	fs := lintNix(t, src)
	got := briefs(fs, "early-reader")
	want := []string{"3:42 error early-reader /etc/secrets/alice.hash", "4:28 error early-reader /etc/ssh/ssh_host_ed25519_key"}
	if !slices.Equal(got, want) {
		t.Fatalf("early readers:\n got %q\nwant %q", got, want)
	}
	if f, _ := find(fs, "early-reader", "/etc/secrets/alice.hash"); !strings.Contains(f.Message, "users.users.alice.hashedPasswordFile") || !strings.Contains(f.Hint, "/nix/persist/etc/secrets/alice.hash") {
		t.Errorf("hashedPasswordFile finding: %+v", f)
	}
	if f, _ := find(fs, "early-reader", "/etc/ssh/ssh_host_ed25519_key"); !strings.Contains(f.Message, "sops.age.sshKeyPaths") || !strings.Contains(f.Hint, "/nix/persist/etc/ssh/ssh_host_ed25519_key") {
		t.Errorf("sshKeyPaths finding: %+v", f)
	}
	// Without a secret needed for users, sops-nix's install-secrets still
	// runs in activation, before the bind mounts: the key is read early all
	// the same (before, it was not flagged).
	later := strings.Replace(src, "neededForUsers = true", "neededForUsers = false", 1)
	if got := briefs(lintNix(t, later), "early-reader"); !slices.Equal(got, want) {
		t.Errorf("without neededForUsers: %q", got)
	}
}

// TestEveryActivationSecretIsAnEarlyReader: sops.age.keyFile under a
// declared directory is not there when sops-nix's install-secrets reads it
// in activation, like age.identityPaths and sops.gnupg.home: one rule
// (persist.EarlyReader) for lint's early-reader and lost-secret hint. A
// re-test found keyFile treated as read late (lint said "or declare it",
// drift suggest declared /var/lib/sops-nix).
func TestEveryActivationSecretIsAnEarlyReader(t *testing.T) {
	src := `{
  sops.age.keyFile = "/var/lib/sops-nix/key.txt";
  sops.gnupg.home = "/var/lib/sops-gpg";
  age.identityPaths = [ "/etc/age/key" ];
  environment.persistence."/nix/persist".directories = [ "/var/lib/sops-nix" "/var/lib/sops-gpg" "/etc/age" ];
}
`
	got := briefs(lintNix(t, src), "early-reader")
	want := []string{"2:22 error early-reader /var/lib/sops-nix/key.txt", "3:21 error early-reader /var/lib/sops-gpg", "4:25 error early-reader /etc/age/key"}
	if !slices.Equal(got, want) {
		t.Errorf("early readers:\n got %q\nwant %q", got, want)
	}
	lost := lintNix(t, strings.Replace(src, `"/var/lib/sops-nix" `, "", 1))
	if f, ok := find(lost, "lost-secret", "/var/lib/sops-nix/key.txt"); !ok || strings.Contains(f.Hint+f.Message, "or declare it") {
		t.Errorf("lost keyFile: %+v (found %v): must not offer a declaration", f, ok)
	}
}

// TestPathsNeverToPersist: persisting what must not be persisted (an API
// filesystem, a generated /etc directory, all of /var, a path inside the
// storage path, /tmp, /boot, the user database files) is reported, each
// with its rule and severity (field case C19).
func TestPathsNeverToPersist(t *testing.T) {
	src := `{
  users.mutableUsers = false;
  services.openssh.enable = true;
  environment.persistence."/nix/persist" = {
    directories = [ "/run" "/etc/ssh" "/var" "/nix/persist/cache" "/tmp" "/boot" ];
    files = [ "/etc/group" "/etc/passwd" ];
  };
}
`
	fs := lintNix(t, src)
	got := briefs(fs, "api-filesystem", "inside-storage-path", "not-ephemeral", "etc-user-files",
		"etc-generated-dir", "persist-tmp", "broad-directory")
	want := []string{
		"5:21 error api-filesystem /run",
		"5:28 warning etc-generated-dir /etc/ssh",
		"5:39 warning broad-directory /var",
		"5:46 error inside-storage-path /nix/persist/cache",
		"5:67 warning persist-tmp /tmp",
		"5:74 error not-ephemeral /boot",
		"6:15 error etc-user-files /etc/group",
		"6:28 error etc-user-files /etc/passwd",
	}
	if !slices.Equal(got, want) {
		t.Errorf("paths never to persist:\n got %q\nwant %q", got, want)
	}
	// mutableUsers true: the user files are a warning; useTmpfs: /tmp info.
	soft := strings.Replace(src, "users.mutableUsers = false;", "users.mutableUsers = true; boot.tmp.useTmpfs = true;", 1)
	got = briefs(lintNix(t, soft), "etc-user-files", "persist-tmp")
	want = []string{"5:67 info persist-tmp /tmp", "6:15 warning etc-user-files /etc/group", "6:28 warning etc-user-files /etc/passwd"}
	if !slices.Equal(got, want) {
		t.Errorf("with mutable users and a tmpfs /tmp:\n got %q\nwant %q", got, want)
	}
}

// TestPersistedDirectoryModes: the modes declarations give persisted
// directories and their parents: an entry below /var/lib/private without
// /var/lib/private itself declared 0700 is an error (the module makes it
// 0755 and systemd refuses its DynamicUser services), a directory of
// secrets (.gnupg, .ssh) persisted with a mode open to others a warning
// (field case C21; the static part: the live and persistent modes are
// drift check's).
func TestPersistedDirectoryModes(t *testing.T) {
	src := `{
  environment.persistence."/nix/persist" = {
    directories = [ { directory = "/var/lib/private/kea"; mode = "0700"; } ];
    users.alice.directories = [ ".gnupg" ".ssh" ".local/share/keyrings" ];
  };
}
`
	fs := lintNix(t, src)
	got := briefs(fs, "private-parent-mode", "secret-dir-mode")
	want := []string{
		"3:35 error private-parent-mode /var/lib/private/kea",
		"4:33 warning secret-dir-mode /home/alice/.gnupg",
		"4:42 warning secret-dir-mode /home/alice/.ssh",
	}
	if !slices.Equal(got, want) {
		t.Errorf("directory modes:\n got %q\nwant %q", got, want)
	}
}

// TestWipeBeforeResumeIsAnError: a wipe in postDeviceCommands on a
// machine that hibernates to /dev/vda3 (field case C11: the wipe runs
// before the hibernated kernel is resumed, which then writes to a
// filesystem changed under it) is a
// wipe-before-resume error naming the resume device, whose hint points to
// postResumeCommands, a unit after the resume, and services.drift.wipe.
// The same wipe in postResumeCommands is not reported.
func TestWipeBeforeResumeIsAnError(t *testing.T) {
	src := `{ lib, ... }: {
  boot.initrd.systemd.enable = false;
  swapDevices = [ { device = "/dev/vda3"; } ];
  boot.resumeDevice = "/dev/vda3";
  boot.initrd.postDeviceCommands = lib.mkAfter ''
    set -e
    waitDevice /dev/vda2
    mount -o subvolid=5 /dev/vda2 /mnt
    mv /mnt/root "/mnt/old_roots/$(date +%s)"
    btrfs subvolume create /mnt/root
  '';
  environment.persistence."/nix/persist".directories = [ "/var/log" ];
}
`
	fs := lintNix(t, src)
	if got := briefs(fs, "wipe-before-resume"); !slices.Equal(got, []string{"5:48 error wipe-before-resume"}) {
		t.Fatalf("wipe before resume: %q", got)
	}
	f, _ := find(fs, "wipe-before-resume", "")
	for _, s := range []string{`boot.resumeDevice = "/dev/vda3"`, "hibernated kernel"} {
		if !strings.Contains(f.Message, s) {
			t.Errorf("message %q does not say %q", f.Message, s)
		}
	}
	for _, s := range []string{"postResumeCommands", "systemd-hibernate-resume.service", "services.drift.wipe"} {
		if !strings.Contains(f.Hint, s) {
			t.Errorf("hint %q does not name %s", f.Hint, s)
		}
	}
	fixed := lintNix(t, strings.Replace(src, "postDeviceCommands", "postResumeCommands", 1))
	if got := briefs(fixed, "wipe-before-resume", "wipe-not-run", "wipe-failure-unnoticed"); len(got) > 0 {
		t.Errorf("postResumeCommands: %q", got)
	}
}

// TestSeedScriptNamesAndExpiryByMtime: the seed script's old-root names
// (the root's mtime: two roots with one mtime collide, C15) and its expiry
// by mtime (find -mtime +30: a root retired after a long uptime is deleted
// at once, C13) are reported on the hook, once each; a wipe without them
// is not.
func TestSeedScriptNamesAndExpiryByMtime(t *testing.T) {
	fs := lintNix(t, wipeFixture("seed-unset.nix"))
	if got := briefs(fs, "wipe-old-root-name", "wipe-expiry-mtime"); !slices.Equal(got, []string{"3:48 warning wipe-expiry-mtime", "3:48 warning wipe-old-root-name"}) {
		t.Errorf("seed script: %q", got)
	}
	if got := briefs(lintNix(t, wipeFixture("good-handwritten-scripted.nix")), "wipe-old-root-name", "wipe-expiry-mtime"); len(got) > 0 {
		t.Errorf("a wipe without them: %q", got)
	}
}
