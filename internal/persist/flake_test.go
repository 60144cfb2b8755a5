package persist

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/testutil"
)

// fakeNix puts a `nix` script first on PATH that records its arguments
// (each followed by a "--" line), prints out, writes stderr and exits with
// code.
func fakeNix(t *testing.T, out, stderr string, code int) (argsFile string) {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		testutil.SkipOrFatal(t, testutil.RequireHost, "no sh to run a fake nix")
	}
	dir := t.TempDir()
	argsFile = filepath.Join(dir, "args")
	for name, text := range map[string]string{"out": out, "err": stderr} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := fmt.Sprintf("#!/bin/sh\nfor a in \"$@\"; do printf '%%s\\n--\\n' \"$a\"; done > %[1]s/args\ncat %[1]s/out\ncat %[1]s/err >&2\nexit %[2]d\n", dir, code)
	if err := os.WriteFile(filepath.Join(dir, "nix"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return argsFile
}

func TestEvalFlakeCommand(t *testing.T) {
	argsFile := fakeNix(t, `{"persistence":{"/nix/persist":{"enable":true,"directories":[{"dirPath":"/var/log","persistentStoragePath":"/nix/persist","user":"root","group":"root","mode":"0755"}],"files":[],"users":{}}},"preservation":null,"homeManager":{},"fileSystems":{},"mutableUsers":null,"opensshEnable":null,"hostKeys":null,"users":{},"groups":{},"tmpOnTmpfs":null}`, "", 0)
	s, err := EvalFlake(context.Background(), "/etc/nixos#my.host", Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Split(strings.TrimSuffix(string(raw), "\n--\n"), "\n--\n")
	want := []string{"--extra-experimental-features", "nix-command flakes", "eval", "--json", "--no-write-lock-file",
		`/etc/nixos#nixosConfigurations."my.host".config`, "--apply", flakeApply}
	if len(args) != len(want) {
		t.Fatalf("args = %q", args)
	}
	for i := range want {
		if args[i] != want[i] {
			t.Errorf("arg %d = %q, want %q", i, args[i], want[i])
		}
	}
	wantLines(t, "entries", briefs(s), []string{"dir /var/log @/nix/persist root:root:0755 impermanence"})
	if got := s.Entries[0].Pos.String(); got != `/etc/nixos#nixosConfigurations."my.host".config.environment.persistence` {
		t.Errorf("pos = %q", got)
	}
}

func TestEvalFlakeErrors(t *testing.T) {
	t.Run("nix fails: its stderr is in the error", func(t *testing.T) {
		fakeNix(t, "", "error: attribute 'nope' missing", 1)
		_, err := EvalFlake(context.Background(), ".#nope", Options{})
		if err == nil || !strings.Contains(err.Error(), "error: attribute 'nope' missing") || !strings.Contains(err.Error(), ".#nixosConfigurations.nope") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("nix prints garbage", func(t *testing.T) {
		fakeNix(t, "[1]", "", 0)
		_, err := EvalFlake(context.Background(), ".#h", Options{})
		if err == nil || !strings.Contains(err.Error(), "expected drift's projection of the configuration") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("no nix on PATH", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		_, err := EvalFlake(context.Background(), ".#h", Options{})
		if err == nil || err.Error() != "nix not found on PATH: --flake needs Nix installed; pass --persist FILE (a .nix file or nix eval JSON) instead" {
			t.Errorf("err = %v", err)
		}
	})
	for _, ref := range []string{"/etc/nixos", "/etc/nixos#", `x#a"b`, "x#-h"} {
		if _, err := EvalFlake(context.Background(), ref, Options{}); err == nil || !strings.Contains(err.Error(), "flake reference") {
			t.Errorf("EvalFlake(%q) err = %v", ref, err)
		}
	}
}

// TestEvalFlakeRealNix evaluates testdata/flake with a real nix, offline:
// the flake has no inputs, and host1 holds a removed-option placeholder
// (allowOther = throw …) that the projection must drop, while host2's real
// error must come through.
func TestEvalFlakeRealNix(t *testing.T) {
	if _, err := exec.LookPath("nix"); err != nil {
		if os.Getenv("DRIFT_REQUIRE_NIX") == "1" {
			t.Fatal("nix not installed and DRIFT_REQUIRE_NIX=1 (apt-get install nix-bin)")
		}
		t.Skip("nix not installed (apt-get install nix-bin): skipping the real evaluation test")
	}
	dir := t.TempDir() // outside any git tree, so nix takes the directory as is
	src, err := os.ReadFile("testdata/flake/flake.nix")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "flake.nix"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", t.TempDir()) // nix's cache
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := EvalFlake(ctx, dir+"#host1", Options{})
	if err != nil {
		if strings.Contains(err.Error(), "sandbox") || strings.Contains(err.Error(), "permission denied") {
			testutil.SkipOrFatal(t, "DRIFT_REQUIRE_NIX", fmt.Sprintf("nix cannot run here: %v", err))
		}
		t.Fatal(err)
	}
	wantLines(t, "entries", briefs(s), []string{
		"dir /var/log @/nix/persist root:root:0755 impermanence",
		"file /etc/machine-id @/nix/persist root:root:0755 method=symlink impermanence",
		"dir /home/alice/.ssh @/nix/persist alice:users:0700 owner=alice impermanence",
	})
	// host3: the other options are projected, each guarded.
	s3, err := EvalFlake(ctx, dir+"#host3", Options{})
	if err != nil {
		t.Fatalf("host3: %v", err)
	}
	wantLines(t, "host3 entries", briefs(s3), []string{
		"dir /srv @/nix/persist root:root:0755 impermanence",
		"dir /var/lib/app @/keep root:root:0755 preservation",
		"dir /home/alice/Music @/nix/persist alice::0755 owner=alice home-manager",
	})
	wantLines(t, "host3 config", configLines(s3.Config), []string{
		"mutableUsers true", "openssh true", "tmpfs unset",
		"fs / tmpfs", "fs /var/log ext4", "hostkey /etc/ssh/ssh_host_ed25519_key",
		"user alice uid=true group=users hpf=/persist/alice.hash system=false",
		"user svc uid=false group=svc hpf= system=true",
		"group svc gid=false",
		"tmpfiles /etc/nixos -> /nix/persist/nixos-config",
		"tmpfiles /etc/machine-id -> /nix/persist/etc/machine-id",
	})
	_, err = EvalFlake(ctx, dir+"#host2", Options{})
	if err == nil || !strings.Contains(err.Error(), "is not of type `path'") {
		t.Errorf("host2: the real error must come through, got %v", err)
	}
}

// configLines renders a Config for comparison.
func configLines(c *Config) []string {
	if c == nil {
		return nil
	}
	tri := func(f Flag) string {
		return map[Tri]string{Unset: "unset", True: "true", False: "false", Unknown: "unknown"}[f.Value]
	}
	out := []string{"mutableUsers " + tri(c.MutableUsers), "openssh " + tri(c.OpenSSH), "tmpfs " + tri(c.TmpOnTmpfs)}
	for _, m := range c.FileSystems {
		out = append(out, "fs "+m.MountPoint+" "+m.FSType)
	}
	for _, k := range c.HostKeyPaths {
		out = append(out, "hostkey "+k.Value)
	}
	for _, u := range c.Users {
		out = append(out, fmt.Sprintf("user %s uid=%v group=%s hpf=%s system=%v", u.Name, u.HasUID, u.Group, u.HashedPasswordFile.Value, u.System))
	}
	for _, g := range c.Groups {
		out = append(out, fmt.Sprintf("group %s gid=%v", g.Name, g.HasGID))
	}
	for _, l := range c.TmpfilesLinks {
		out = append(out, "tmpfiles "+l.Path+" -> "+l.Target)
	}
	return out
}

// TestEvalFlakeProjection: the projection's options become Set.Config
// (the rules read them), home-manager entries get their user's home, and
// positions name each option.
func TestEvalFlakeProjection(t *testing.T) {
	fakeNix(t, `{"persistence":null,"preservation":null,"homeManager":{"bob":{"/p":{"directories":["Music"]}}},"fileSystems":{"/var/log":{"mountPoint":"/var/log","fsType":"ext4"}},"mutableUsers":false,"opensshEnable":true,"hostKeys":["/etc/ssh/k"],"users":{"bob":{"hasUid":false,"group":"users","home":"/srv/bob","hashedPasswordFile":null,"isSystemUser":false}},"groups":{"users":{"hasGid":true}},"tmpOnTmpfs":true}`, "", 0)
	s, err := EvalFlake(context.Background(), ".#h", Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, "entries", briefs(s), []string{"dir /srv/bob/Music @/p bob::0755 owner=bob home-manager"})
	wantLines(t, "config", configLines(s.Config), []string{"mutableUsers false", "openssh true", "tmpfs true",
		"fs /var/log ext4", "hostkey /etc/ssh/k", "user bob uid=false group=users hpf= system=false", "group users gid=true"})
	if got := s.Config.MutableUsers.Pos.String(); got != ".#nixosConfigurations.h.config.users.mutableUsers" {
		t.Errorf("mutableUsers pos %q", got)
	}
	// The users home-manager manages and their homes, as a static read
	// gives them (users.users.<name>.home, home-manager.users.<name>).
	if len(s.Config.Users) != 1 || s.Config.Users[0].Home != "/srv/bob" || !slices.Equal(s.Config.HomeManagerUsers, []string{"bob"}) {
		t.Errorf("users %+v, home-manager's %q", s.Config.Users, s.Config.HomeManagerUsers)
	}
}
