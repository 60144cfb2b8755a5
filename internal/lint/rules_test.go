package lint

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/persist"
)

// lintNix reads src as f.nix and runs every rule on it (layout: --layout).
func lintNix(t *testing.T, src string, layout ...persist.Mount) []Finding {
	t.Helper()
	var readErrs []error
	s, err := persist.ParseNix([]byte(src), "f.nix", persist.Options{})
	if _, _, ok := persist.SyntaxErrorAt(err); ok {
		readErrs, s = []error{err}, nil
	} else if err != nil {
		t.Fatalf("ParseNix: %v", err)
	}
	sel, err := NewSelection([]string{"all"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return Check(Config{Sets: []*persist.Set{s}, Layout: layout, Sources: map[string][]byte{"f.nix": []byte(src)}, ReadErrors: readErrs}, sel)
}

// only renders the findings of rule as "line:col severity".
func only(fs []Finding, rule string) []string {
	var out []string
	for _, f := range fs {
		if f.Rule == rule {
			out = append(out, fmt.Sprintf("%d:%d %s", f.Pos.Line, f.Pos.Col, f.Severity))
		}
	}
	return out
}

// sys is a module with one storage path, /nix/persist: the first directory
// is at 3:21, the first file at 4:15.
func sys(dirs, files string, extra ...string) string {
	return "{\n  environment.persistence.\"/nix/persist\" = {\n    directories = [ " + dirs +
		" ];\n    files = [ " + files + " ];\n  };\n" + strings.Join(extra, "\n") + "\n}\n"
}

// user is sys with the entries under users.alice (directories at 3:33).
func user(dirs string, extra ...string) string {
	return "{\n  environment.persistence.\"/nix/persist\" = {\n    users.alice.directories = [ " + dirs +
		" ];\n  };\n" + strings.Join(extra, "\n") + "\n}\n"
}

// TestRules has, for every rule, inputs that must raise it (with exact
// positions and severities) and inputs that must not.
func TestRules(t *testing.T) {
	const long = "/srv/" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/" +
		"cccccccccccccccccccccccccccccccccccccccccccccccccc/dddddddddddddddddddddddddddddddddddddddddddddddddd/" +
		"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee/ffff"
	tests := []struct {
		rule   string
		src    string
		layout []persist.Mount
		want   []string // "line:col severity" of rule's findings; nil: none
	}{
		{"path-not-absolute", sys(`"var/lib/x"`, ""), nil, []string{"3:21 error"}},
		{"path-not-absolute", sys(`"/var/lib/x"`, ""), nil, nil},
		{"path-not-absolute", user(`"Documents"`), nil, nil},
		{"path-dot", sys(`"/var/lib/../x" "/srv/./y"`, ""), nil, []string{"3:21 error", "3:37 warning"}},
		{"path-dot", sys(`"/srv/..x" "/srv/.y"`, ""), nil, nil},
		{"path-slashes", sys(`"//srv///d" "/var/log/"`, ""), nil, []string{"3:21 warning", "3:33 warning"}},
		{"path-slashes", sys(`"/srv/d" "/"`, ""), nil, nil},
		{"path-whitespace", sys(`" /srv/d" "/srv/e " "/srv/ f"`, ""), nil, []string{"3:21 error", "3:31 error", "3:41 error"}},
		{"path-whitespace", sys(`"/srv/a b"`, ""), nil, nil},
		{"user-path-absolute", user(`"/.ssh"`), nil, []string{"3:33 warning"}},
		{"user-path-absolute", user(`".ssh"`), nil, nil},
		{"duplicate", sys(`"/srv/a" "/srv/a/"`, `"/etc/k"`, `environment.persistence."/persist".files = [ "/etc/k" ];`), nil,
			[]string{"3:30 error", "6:46 error"}},
		{"duplicate", sys(`"/srv/a" "/srv/ab"`, `"/srv/a"`), nil, nil},
		{"duplicate", `{ environment.persistence."/p".users.alice.directories = [ "x" ];
  home-manager.users.alice.home.persistence."/p".directories = [ "x" ]; }`, nil, []string{"2:66 error"}},
		{"nested-directory", sys(`"/srv/app" "/srv/app/cache"`, ""), nil, []string{"3:32 warning"}},
		{"nested-directory", sys(`"/srv/app" "/srv/application"`, ""), nil, nil},
		{"file-in-directory", sys(`"/srv"`, `"/srv/x"`), nil, []string{"4:15 warning"}},
		{"file-in-directory", sys(`"/srv"`, `"/srvx"`), nil, nil},
		{"file-and-directory", sys(`"/srv/a"`, `"/srv/a"`), nil, []string{"4:15 error"}},
		{"file-and-directory", sys(`"/srv/a"`, `"/srv/b"`), nil, nil},
		{"persist-root", sys(`"/"`, ""), nil, []string{"3:21 error"}},
		{"persist-root", sys(`"/srv"`, ""), nil, nil},
		{"api-filesystem", sys(`"/run" "/dev/shm" "/proc/x" "/var/run/y"`, ""), nil, []string{"3:21 error", "3:28 error", "3:39 error", "3:49 error"}},
		{"api-filesystem", sys(`"/running" "/devices"`, ""), nil, nil},
		{"not-ephemeral", sys(`"/nix/store" "/boot"`, ""), nil, []string{"3:21 error", "3:34 error"}},
		{"not-ephemeral", sys(`"/bootstrap" "/nixos"`, ""), nil, nil},
		{"inside-storage-path", sys(`"/nix/persist/cache"`, ""), nil, []string{"3:21 error"}},
		{"inside-storage-path", sys(`"/nix/persistent"`, ""), nil, nil},
		{"persist-tmp", sys(`"/tmp"`, ""), nil, []string{"3:21 warning"}},
		{"persist-tmp", sys(`"/tmp/x"`, "", `boot.tmp.useTmpfs = true;`), nil, []string{"3:21 info"}},
		{"persist-tmp", sys(`"/var/tmp"`, ""), nil, nil},
		{"broad-directory", sys(`"/var"`, "") + "", nil, []string{"3:21 warning"}},
		{"broad-directory", user(`".config"`), nil, []string{"3:33 warning"}},
		{"broad-directory", user(`".config/app"`) + "", nil, nil},
		{"already-persistent", user(`"Documents"`, `fileSystems."/home" = { device = "/dev/sda2"; fsType = "btrfs"; };`), nil, []string{"3:33 warning"}},
		{"already-persistent", sys(`"/srv/www"`, ""), []persist.Mount{{Mount: mounts.Mount{MountPoint: "/srv", FSType: "ext4"}}}, []string{"3:21 warning"}},
		{"already-persistent", sys(`"/srv/www"`, ""), []persist.Mount{{Mount: mounts.Mount{MountPoint: "/", FSType: "btrfs"}}, {Mount: mounts.Mount{MountPoint: "/srv", FSType: "tmpfs"}}}, nil},
		{"etc-whole", sys(`"/etc"`, ""), nil, []string{"3:21 error"}},
		{"etc-whole", sys(`"/etc/nixos"`, ""), nil, nil},
		{"etc-generated-dir", sys(`"/etc/ssh" "/etc/app"`, "", `environment.etc."app/app.conf".text = "x";`), nil, []string{"3:21 warning", "3:32 warning"}},
		{"etc-generated-dir", sys(`"/etc/NetworkManager/system-connections"`, ""), nil, nil},
		// A field report: /etc/resolv.conf and /etc/ssh/sshd_config, links
		// into /etc/static, declared as files passed lint silently.
		{"etc-managed", sys("", `"/etc/resolv.conf" "/etc/ssh/sshd_config"`), nil, []string{"4:15 warning", "4:34 warning"}},
		{"etc-managed", sys("", `"/etc/app/app.conf"`, `environment.etc."app/app.conf".text = "x";`), nil, []string{"4:15 warning"}},
		{"etc-managed", sys("", `"/etc/machine-id" "/etc/ssh/ssh_host_ed25519_key"`), nil, nil},
		{"etc-user-files", sys("", `"/etc/group"`, `users.mutableUsers = false;`), nil, []string{"4:15 error"}},
		{"etc-user-files", sys("", `"/etc/shadow"`), nil, []string{"4:15 warning"}},
		{"etc-user-files", sys("", `"/etc/groups"`), nil, nil},
		{"removed-option", `{ environment.persistence."/p" = {
    allowOther = true;
    users.alice = { home = "/home/alice"; directories = [ { directory = "x"; method = "symlink"; } ]; };
  }; }`, nil, []string{"2:5 error", "3:21 error", "3:78 error"}},
		{"removed-option", `{ home.username = "alice"; home.persistence."/persist/home/alice".directories = [ "x" ]; }`, nil, []string{"1:45 error"}},
		{"removed-option", `{ environment.persistence."/p" = { hideMounts = true; files = [ { file = "/k"; method = "symlink"; } ]; }; }`, nil, nil},
		{"missing-var-lib-nixos", sys(`"/srv"`, "", `users.users.svc = { isSystemUser = true; group = "svc"; };`), nil, []string{"2:27 error"}},
		{"missing-var-lib-nixos", sys(`"/srv"`, "", `users.users.root.hashedPasswordFile = "/p/h"; users.groups.wheel = { };`), nil, []string{"2:27 warning"}},
		{"missing-var-lib-nixos", sys(`"/var/lib"`, ""), nil, nil},
		{"missing-var-lib-nixos", user(`"x"`), nil, []string{"2:27 warning"}},
		{"missing-var-lib-nixos", `{ home.username = "a"; home.persistence."/p".directories = [ "x" ]; }`, nil, nil},
		{"missing-machine-id", sys("", ""), nil, []string{"2:27 warning"}},
		{"missing-machine-id", sys("", `"/etc/machine-id"`), nil, nil},
		{"missing-systemd-timers", sys("", ""), nil, []string{"2:27 info"}},
		{"missing-systemd-timers", sys(`"/var/lib/systemd"`, ""), nil, nil},
		{"missing-var-log", sys("", ""), nil, []string{"2:27 warning"}},
		{"missing-var-log", sys("", "", `fileSystems."/var/log" = { device = "/dev/sda3"; fsType = "ext4"; };`), nil, nil},
		{"missing-ssh-host-keys", sys("", "", `services.openssh.enable = true;`), nil, []string{"6:27 warning"}},
		{"missing-ssh-host-keys", sys("", `"/etc/ssh/ssh_host_ed25519_key" "/etc/ssh/ssh_host_rsa_key"`, `services.openssh.enable = true;`), nil, nil},
		{"missing-ssh-host-keys", sys("", "", `services.openssh = { enable = true; hostKeys = [ { path = "/nix/persist/etc/ssh/k"; type = "ed25519"; } ]; };`), nil, nil},
		{"mutable-users", sys("", ""), nil, []string{"2:27 warning"}},
		{"mutable-users", sys("", "", `users.mutableUsers = true;`), nil, []string{"6:22 warning"}},
		{"mutable-users", sys("", "", `users.mutableUsers = false;`), nil, nil},
		{"unknown-attribute", `{ environment.persistence."/p" = {
    directores = [ "/x" ];
    directories = [ { directoy = "/a"; } { directory = "/b"; mdoe = "0700"; } ];
    files = [ { file = "/k"; parentDirectory.mod = "0700"; } ];
  }; }`, nil, []string{"2:5 error", "3:23 error", "3:62 error", "4:46 error"}},
		{"unknown-attribute", `{ preservation.preserveAt."/p".directories = [ { directory = "/a"; how = "symlink"; inInitrd = true; configureParent = true; } ]; }`, nil, nil},
		{"invalid-mode", sys(`{ directory = "/a"; mode = "0799"; } { directory = "/b"; mode = "u=rwz"; }`, `{ file = "/k"; parentDirectory.mode = "u=rwx,g=,o="; }`), nil,
			[]string{"3:48 error", "3:85 error"}},
		{"invalid-mode", `{ preservation.preserveAt."/p".directories = [ { directory = "/a"; mode = "u=rwx"; } ]; }`, nil, []string{"1:75 error"}},
		{"invalid-mode", sys(`{ directory = "/a"; mode = "1777"; } { directory = "/b"; mode = "go-rwx,u+X"; } { directory = "/c"; mode = "07777"; } { directory = "/d"; mode = "0755"; } { directory = "/e"; mode = "g=u,=750"; }`, ""), nil, nil},
		{"invalid-mode", sys(`{ directory = "/a"; mode = "17777"; } { directory = "/b"; mode = "007777"; }`, ""), nil, []string{"3:48 error", "3:86 error"}},
		{"unit-name", sys(`"`+long+`"`, ""), nil, []string{"3:21 warning"}},
		{"unit-name", sys(`"/srv/a"`, ""), nil, nil},
		{"deep-app-path", user(`".mozilla/firefox/p1/storage/default/idb"`), nil, []string{"3:33 warning"}},
		{"deep-app-path", user(`".mozilla"`), nil, nil},
		{"early-reader", sys("", `"/etc/secrets/alice.hash"`, `users.users.alice.hashedPasswordFile = "/etc/secrets/alice.hash";`), nil, []string{"6:40 error"}},
		{"early-reader", sys("", `"/etc/secrets/alice.hash"`, `users.users.alice.hashedPasswordFile = "/nix/persist/etc/secrets/alice.hash";`), nil, nil},
		// issue 12's tester: the secrets a tmpfs root loses, not flagged while declaring them was.
		{"lost-secret", sys("", "", `users.mutableUsers = false; users.users.alice.hashedPasswordFile = "/etc/secrets/alice";`,
			`sops.age = { keyFile = "/var/lib/sops-nix/key.txt"; sshKeyPaths = [ "/etc/ssh/ssh_host_ed25519_key" ]; };`,
			`age.identityPaths = [ "/etc/age/key" ]; sops.gnupg.home = "/var/lib/sops";`), nil, []string{"6:68 error", "7:24 error", "7:69 error", "8:23 error", "8:59 error"}},
		{"lost-secret", sys("", `"/etc/secrets/alice"`, `users.users.alice.hashedPasswordFile = "/etc/secrets/alice";`,
			`users.users.bob.hashedPasswordFile = "/nix/persist/etc/secrets/bob"; users.users.carol.hashedPasswordFile = "/run/secrets-for-users/carol";`,
			`sops.age.keyFile = "/nix/persist/var/lib/sops-nix/key.txt"; age.identityPaths = [ "/persist/age" ];`,
			`fileSystems."/persist" = { device = "/dev/sda2"; fsType = "ext4"; };`), nil, nil},
		{"lost-secret", "{ lib, ... }: " + sys("", "", `users.users.alice.hashedPasswordFile = "/etc/secrets/alice";`, `imports = lib.attrValues x;`), nil, []string{"6:40 warning"}},
		{"path-control", sys(`"/srv/a\nb" "/srv/c\td"`, ""), nil, []string{"3:21 error", "3:33 error"}},
		{"path-control", sys(`"/srv/a b"`, ""), nil, nil},
		// A bidi override makes the name read other than it is (fresh-user
		// finding: it passed lint); printable non-ASCII names are fine.
		{"path-control", sys("\"/srv/a\u202eb\"", ""), nil, []string{"3:21 error"}},
		{"path-control", sys(`"/srv/Документы" "/srv/المستندات"`, ""), nil, nil},
		{"private-parent-mode", sys(`{ directory = "/var/lib/private/kea"; mode = "0700"; }`, ""), nil, []string{"3:35 error"}},
		{"private-parent-mode", sys(`{ directory = "/var/lib/private"; mode = "0700"; } "/var/lib/private/kea"`, ""), nil, nil},
		{"nested-directory", sys(`{ directory = "/var/lib/private"; mode = "0700"; } "/var/lib/private/kea"`, ""), nil, nil},
		{"secret-dir-mode", user(`".gnupg" { directory = ".ssh"; mode = "0750"; }`), nil, []string{"3:33 warning", "3:56 warning"}},
		{"secret-dir-mode", user(`{ directory = ".gnupg"; mode = "0700"; } { directory = ".ssh"; mode = "u=rwx,g=,o="; }`), nil, nil},
		{"syntax", "{\n  environment.persistence = { \"/p\".directories = [ \"/srv\" ; };\n}", nil, []string{"2:59 error"}},
		{"syntax", sys(`"/srv"`, ""), nil, nil},
		{"not-static", sys(`"/srv"`, "", `environment.persistence."/q".files = map (x: x) extra;`), nil, []string{"6:38 warning"}},
		{"not-static", sys(`"/srv"`, ""), nil, nil},
		{"conditional", `{ lib, config, ... }: { environment.persistence."/p".directories = lib.mkIf config.x.enable [ "/srv" ]; }`, nil, []string{"1:68 info"}},
		{"declaration", `{ environment.persistence."/p".directories = "/srv"; }`, nil, []string{"1:46 error"}},
		{"declaration", `{ environment.persistence."/p".directories = [ { mode = "0700"; } ]; }`, nil, []string{"1:48 error"}},
		{"conditional", `{ lib, ... }: { environment.persistence."/p".directories = lib.mkDefault [ "/srv" ]; }`, nil, nil},
		{"declaration", `{ environment.persistence."/p".directories = [ { directory = "/srv"; } ]; }`, nil, nil},
		// the wipe: testdata/wipe (wipe_test.go runs them through every format)
		{"wipe-not-run", wipeFixture("seed-systemd.nix"), nil, []string{"7:48 error"}},
		{"wipe-not-run", wipeFixture("seed-unset.nix"), nil, []string{"3:48 warning"}},
		{"wipe-not-run", wipeFixture("unit-scripted.nix"), nil, []string{"4:32 error"}},
		{"wipe-not-run", wipeFixture("unit-not-started.nix"), nil, []string{"4:32 error"}},
		{"wipe-not-run", strings.Replace(wipeFixture("unit-common.nix"), "boot.initrd.systemd.enable = true;", "", 1), nil, []string{"5:32 warning"}},
		{"wipe-not-run", wipeFixture("good-readme-scripted.nix"), nil, nil},
		{"wipe-not-run", wipeFixture("good-readme-systemd.nix"), nil, nil},
		{"wipe-not-run", wipeFixture("good-module.nix"), nil, nil},
		{"wipe-not-run", wipeFixture("good-no-wipe.nix"), nil, nil},
		{"wipe-before-resume", wipeFixture("post-device-hibernate.nix"), nil, []string{"5:48 error"}},
		{"wipe-before-resume", wipeFixture("post-device-no-swap.nix"), nil, []string{"4:48 warning"}},
		{"wipe-before-resume", wipeFixture("unit-common.nix"), nil, []string{"5:32 warning"}},
		{"wipe-before-resume", strings.Replace(wipeFixture("unit-common.nix"), "{ lib, pkgs, ... }: {", `{ lib, pkgs, ... }: { boot.resumeDevice = "/dev/vda3";`, 1), nil, []string{"5:32 error"}},
		{"wipe-before-resume", wipeFixture("good-handwritten-systemd.nix"), nil, nil},
		{"wipe-before-resume", "{ lib, ... }: {\n  boot.initrd.systemd.enable = false;\n  boot.initrd.postDeviceCommands = lib.mkAfter \"zfs rollback -r rpool/local/root@blank || fail\";\n}\n", nil, nil}, // ZFS: no hibernation
		{"wipe-before-resume", "{ lib, ... }: {\n  boot.initrd.systemd.enable = false;\n  boot.resumeDevice = \"/dev/vda3\";\n  boot.initrd.postDeviceCommands = lib.mkAfter \"zfs rollback -r rpool/local/root@blank || fail\";\n}\n", nil, []string{"4:48 error"}},
		{"wipe-before-resume", wipeFixture("good-handwritten-scripted.nix"), nil, nil},
		{"wipe-before-resume", wipeFixture("seed-systemd.nix"), nil, nil}, // not run at all: wipe-not-run says so
		{"wipe-device-order", wipeFixture("unit-device.nix"), nil, []string{"5:32 error", "11:32 warning"}},
		{"wipe-device-order", wipeFixture("unit-common.nix"), nil, []string{"5:32 warning"}},
		{"wipe-device-order", wipeFixture("unit-after-mount.nix"), nil, nil}, // unitConfig.Requires and After
		{"wipe-device-order", wipeFixture("good-handwritten-systemd.nix"), nil, nil},
		{"wipe-device-order", wipeFixture("seed-unset.nix"), nil, []string{"3:48 warning"}}, // mount without waitDevice
		{"wipe-device-order", wipeFixture("good-handwritten-scripted.nix"), nil, nil},
		{"wipe-device-order", wipeFixture("good-readme-scripted.nix"), nil, nil},
		{"wipe-after-root-mount", wipeFixture("unit-after-mount.nix"), nil, []string{"5:32 error", "11:32 error"}},
		{"wipe-after-root-mount", wipeFixture("post-mount.nix"), nil, []string{"4:47 error"}},
		{"wipe-after-root-mount", wipeFixture("good-handwritten-systemd.nix"), nil, nil},
		{"wipe-after-root-mount", wipeFixture("good-readme-scripted.nix"), nil, nil},
		{"wipe-failure-unnoticed", wipeFixture("seed-unset.nix"), nil, []string{"3:48 warning"}},
		{"wipe-failure-unnoticed", wipeFixture("unit-common.nix"), nil, []string{"5:32 warning"}},
		{"wipe-failure-unnoticed", wipeFixture("unit-ignore-failure.nix"), nil, []string{"4:32 warning"}},
		{"wipe-failure-unnoticed", wipeFixture("good-handwritten-scripted.nix"), nil, nil},
		{"wipe-failure-unnoticed", wipeFixture("good-handwritten-systemd.nix"), nil, nil},
		{"wipe-failure-unnoticed", wipeFixture("post-device-hibernate.nix"), nil, nil}, // set -e
		{"wipe-failure-unnoticed", wipeFixture("good-readme-systemd.nix"), nil, nil},   // drift wipe says why
		{"wipe-twice", wipeFixture("twice.nix"), nil, []string{"8:48 error"}},
		{"wipe-twice", wipeFixture("good-module.nix"), nil, nil},
		{"wipe-subvol-not-root", wipeFixture("subvol-not-root.nix"), nil, []string{"11:17 error", "13:36 error"}},
		{"wipe-subvol-not-root", strings.NewReplacer(`subvolume = "nix"`, `subvolume = "/root"`, "--subvol=persist --subvol-is-root", "--subvol root").Replace(wipeFixture("subvol-not-root.nix")), nil, nil},
		{"wipe-subvol-not-root", strings.Replace(wipeFixture("subvol-not-root.nix"), `subvolume = "nix"`, `subvolume = "rootfs"`, 1), nil, []string{"11:17 error", "13:36 error"}},
		{"wipe-subvol-not-root", wipeFixture("good-module.nix"), nil, nil},
		{"wipe-old-roots-storage", wipeFixture("old-roots-storage.nix"), nil, []string{"11:16 error", "13:36 error"}},
		{"wipe-old-roots-storage", strings.NewReplacer(`oldRoots = "persist"`, `oldRoots = "/old_roots"`, "--old-roots=persist/old_roots", "--old-roots persisted").Replace(wipeFixture("old-roots-storage.nix")), nil, nil},
		{"wipe-old-roots-storage", wipeFixture("good-module.nix"), nil, nil},
		{"wipe-subvolume-list", wipeFixture("seed-systemd.nix"), nil, []string{"7:48 error"}},
		{"wipe-subvolume-list", wipeFixture("good-handwritten-scripted.nix"), nil, nil},
		{"wipe-old-root-name", wipeFixture("seed-systemd.nix"), nil, []string{"7:48 warning"}},
		{"wipe-old-root-name", wipeFixture("good-handwritten-scripted.nix"), nil, nil},
		{"wipe-expiry-mtime", wipeFixture("seed-systemd.nix"), nil, []string{"7:48 warning"}},
		{"wipe-expiry-mtime", wipeFixture("good-handwritten-scripted.nix"), nil, nil},
	}
	pos, neg := map[string]bool{}, map[string]bool{}
	for i, tt := range tests {
		if tt.want == nil {
			neg[tt.rule] = true
		} else {
			pos[tt.rule] = true
		}
		t.Run(fmt.Sprintf("%02d-%s", i, tt.rule), func(t *testing.T) {
			got := only(lintNix(t, tt.src, tt.layout...), tt.rule)
			if !slices.Equal(got, tt.want) {
				t.Errorf("%s: got %q, want %q\n%s", tt.rule, got, tt.want, tt.src)
			}
		})
	}
	for _, r := range Rules() {
		if !pos[r.ID] || !neg[r.ID] {
			t.Errorf("rule %s lacks a positive or a negative test", r.ID)
		}
	}
}

// wipeFixture is testdata/wipe/name.
func wipeFixture(name string) string {
	data, err := os.ReadFile(filepath.Join("testdata", "wipe", name))
	if err != nil {
		panic(err)
	}
	return string(data)
}

// TestEscapePath holds escapePath to systemd-escape --path's output.
func TestEscapePath(t *testing.T) {
	for in, want := range map[string]string{
		"/home/alice/.mozilla/firefox/p1/storage/default/moz-extension+++0f0f^userContextId=4294967295/idb": `home-alice-.mozilla-firefox-p1-storage-default-moz\x2dextension\x2b\x2b\x2b0f0f\x5euserContextId\x3d4294967295-idb`,
		"/":               "-",
		"/.hidden/x y":    `\x2ehidden-x\x20y`,
		"/var/lib/colord": "var-lib-colord",
	} {
		if got := escapePath(in); got != want {
			t.Errorf("escapePath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSelection: defaults, --disable, --enable (which wins), all, and
// unknown ids.
func TestSelection(t *testing.T) {
	s, err := NewSelection(nil, nil)
	if err != nil || !s.On("duplicate") || s.On("conditional") {
		t.Fatalf("defaults: %v %v %v", err, s.On("duplicate"), s.On("conditional"))
	}
	s, _ = NewSelection([]string{"conditional,duplicate"}, []string{"all"})
	if got := s.Enabled(); !slices.Equal(got, []string{"conditional", "duplicate"}) {
		t.Errorf("--disable all --enable conditional,duplicate: %q", got)
	}
	if _, err := NewSelection(nil, []string{"duplicat"}); err == nil || !strings.Contains(err.Error(), `unknown rule "duplicat"`) {
		t.Errorf("unknown rule: %v", err)
	}
	src := sys(`"/srv" "/srv"`, "")
	st, _ := persist.ParseNix([]byte(src), "f.nix", persist.Options{})
	off, _ := NewSelection(nil, []string{"duplicate"})
	if got := only(Check(Config{Sets: []*persist.Set{st}}, off), "duplicate"); got != nil {
		t.Errorf("--disable duplicate: %q", got)
	}
}

// TestSuppression: a comment line just before, or at the end of the line,
// drops the named rules there, and only there.
func TestSuppression(t *testing.T) {
	src := `{
  environment.persistence."/nix/persist" = {
    directories = [
      # drift-lint: disable=etc-whole
      "/etc"
      "/etc"   # drift-lint: disable=duplicate,path-slashes
      # a plain comment
      "/var/log/"
      # drift-lint: disable=all
      "/run"
      "/boot"
    ];
  };
}
`
	fs := lintNix(t, src)
	got := briefs(fs, "etc-whole", "duplicate", "path-slashes", "api-filesystem", "not-ephemeral")
	// The second /etc is a duplicate: only its duplicate finding (suppressed) is about it.
	want := []string{"8:7 warning path-slashes /var/log", "11:7 error not-ephemeral /boot"}
	if !slices.Equal(got, want) {
		t.Errorf("suppression:\n got %q\nwant %q", got, want)
	}
}

// TestOpenToOthersReadsModesAsMkdir: secret-dir-mode and
// private-parent-mode judge a symbolic mode as impermanence's mkdir
// --mode applies it, from 0777: a class the mode leaves out keeps rwx, so
// "u=rwx" (0777) is open and "go-rwx" (0700) is not; a mode that cannot
// be read is not judged.
func TestOpenToOthersReadsModesAsMkdir(t *testing.T) {
	for _, tt := range []struct {
		mode string
		open bool
	}{
		{"u=rwx,g=,o=", false}, {"go-rwx", false}, {"0700", false}, {"a=,u=rwx", false},
		{"u=rwx", true}, {"u=rwx,g=rx,o=", true}, {"g=,o-w", true}, {"=rwx", true}, {"0750", true},
		{"u=rwz", false}, {"0799", false},
	} {
		if got := openToOthers(tt.mode); got != tt.open {
			t.Errorf("openToOthers(%q) = %v, want %v", tt.mode, got, tt.open)
		}
	}
}

// TestCheckAll: a finding found in several configurations (a shared
// file's) is returned once, also when a finding with the same position,
// rule and message but another hint sorts between two copies.
func TestCheckAll(t *testing.T) {
	shared := []byte("{ environment.persistence.\"/p\".directories = [ \"/var/log/\" ]; }")
	s, err := persist.ParseNix(shared, "common.nix", persist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := func() *Config {
		return &Config{Sets: []*persist.Set{s}, Sources: map[string][]byte{"common.nix": shared}}
	}
	one, err := CheckContext(context.Background(), *c(), nil)
	if err != nil || len(one) == 0 {
		t.Fatalf("one configuration: %v %v", one, err)
	}
	all, err := CheckAll(context.Background(), []*Config{c(), c(), c()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(all, one) {
		t.Errorf("three configurations sharing a file:\n%v\nwant the findings of one:\n%v", all, one)
	}
	a, b := one[0], one[0]
	b.Hint = "other"
	if got := unique([]Finding{a, b, a}); !slices.Equal(got, []Finding{a, b}) {
		t.Errorf("unique: %v", got)
	}
}

// TestAlreadyPersistentHintMovesTheDataFirst guards already-persistent's
// hint: a declared path on a persistent file system that is mounted shows
// its persistent copy, so "remove it" alone hides that data at the next
// boot, and drift prune then offers the copy as a stray (field case: a
// fresh user removed alice's Documents, .ssh and .bash_history from the
// declarations on a /home subvolume; after the reboot her thesis and SSH
// key were only in /nix/persist, and prune listed them). The hint says
// where the data is and gives the commands that move it onto the file
// system first, for a directory and for a file.
func TestAlreadyPersistentHintMovesTheDataFirst(t *testing.T) {
	src := "{\n  environment.persistence.\"/nix/persist\".users.alice = { directories = [ \"Documents\" \".ssh\" ]; files = [ \".bash_history\" ]; };\n" +
		"  fileSystems.\"/home\" = { device = \"/dev/sda2\"; fsType = \"btrfs\"; };\n}\n"
	want := map[string][]string{
		"/home/alice/Documents": {"findmnt /home/alice/Documents shows a mount", "the persistent copy /nix/persist/home/alice/Documents",
			"onto the file system at /home", "umount /home/alice/Documents, cp -a --reflink=auto /nix/persist/home/alice/Documents/. /home/alice/Documents/, then remove the declaration and switch, then remove /nix/persist/home/alice/Documents"},
		"/home/alice/.bash_history": {"umount /home/alice/.bash_history, cp -a --reflink=auto /nix/persist/home/alice/.bash_history /home/alice/.bash_history, then remove the declaration"},
	}
	seen := 0
	for _, f := range lintNix(t, src) {
		if f.Rule != "already-persistent" {
			continue
		}
		seen++
		for _, w := range want[f.Path] {
			if !strings.Contains(f.Hint, w) {
				t.Errorf("%s: hint lacks %q:\n%s", f.Path, w, f.Hint)
			}
		}
		if f.Hint == "remove it" || strings.HasPrefix(f.Hint, "remove it:") {
			t.Errorf("%s: hint %q says only to remove it", f.Path, f.Hint)
		}
	}
	if seen != 3 {
		t.Errorf("%d already-persistent findings, want 3", seen)
	}
}
