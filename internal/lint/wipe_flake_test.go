package lint_test

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

	"github.com/nix-drift/drift/internal/lint"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/testutil"
)

// TestWipeFlakeRealNix evaluates testdata/wipe-flake (the shapes of
// testdata/wipe as evaluated configurations: no inputs, each host a plain
// attrset) with a real nix, offline, through drift lint --flake's
// projection, and checks the wipe findings of each host: the stage 1 and
// release come from the evaluation (services.drift.wipe's own output:
// TestModuleWipeLintsClean).
func TestWipeFlakeRealNix(t *testing.T) {
	if _, err := exec.LookPath("nix"); err != nil {
		if os.Getenv("DRIFT_REQUIRE_NIX") == "1" {
			t.Fatal("nix not installed and DRIFT_REQUIRE_NIX=1 (apt-get install nix-bin)")
		}
		t.Skip("nix not installed (apt-get install nix-bin): skipping the real evaluation test")
	}
	dir := t.TempDir() // outside any git tree, so nix takes the directory as is
	src, err := os.ReadFile(filepath.Join("testdata", "wipe-flake", "flake.nix"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "flake.nix"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, tt := range []struct {
		host string
		want []string // "option rule severity", sorted
		note string   // a message must say this
	}{
		{"seed26", []string{
			"boot.initrd.postResumeCommands wipe-expiry-mtime warning",
			"boot.initrd.postResumeCommands wipe-not-run error",
			"boot.initrd.postResumeCommands wipe-old-root-name warning",
			"boot.initrd.postResumeCommands wipe-subvolume-list error",
		}, "NixOS 26.05; systemd stage 1 is the default from 26.05"},
		{"seed2511", []string{
			"boot.initrd.postDeviceCommands wipe-before-resume error",
			"boot.initrd.postDeviceCommands wipe-device-order warning",
			"boot.initrd.postDeviceCommands wipe-expiry-mtime warning",
			"boot.initrd.postDeviceCommands wipe-failure-unnoticed warning",
			"boot.initrd.postDeviceCommands wipe-old-root-name warning",
			"boot.initrd.postDeviceCommands wipe-subvolume-list error",
		}, `swapDevices has "/dev/vda3"`},
		{"unitScripted", []string{"boot.initrd.systemd.services.rollback wipe-not-run error"}, "NixOS 25.11"},
		{"unitCommon", []string{
			"boot.initrd.systemd.services.rollback wipe-before-resume warning",
			"boot.initrd.systemd.services.rollback wipe-device-order warning",
			"boot.initrd.systemd.services.rollback wipe-failure-unnoticed warning",
		}, "initrd-root-device.target only"},
		{"unitConfigOnly", []string{"boot.initrd.systemd.services.rollback wipe-after-root-mount error"}, "not ordered before sysroot.mount"},
		{"old", []string{"boot.initrd.systemd.services.rollback wipe-not-run error"}, "the scripted one"},
		{"unitNoDevice", []string{"boot.initrd.systemd.services.rollback wipe-device-order error"}, "not ordered after the device"},
		{"notStarted", []string{"boot.initrd.systemd.services.rollback wipe-not-run error"}, "nothing in stage 1 starts it"},
		{"postMount", []string{"boot.initrd.postMountCommands wipe-after-root-mount error"}, "after the root is mounted"},
		{"goodUnit", nil, ""},
	} {
		t.Run(tt.host, func(t *testing.T) {
			s, err := persist.EvalFlake(ctx, dir+"#"+tt.host, persist.Options{})
			if err != nil {
				if strings.Contains(err.Error(), "sandbox") || strings.Contains(err.Error(), "permission denied") {
					testutil.SkipOrFatal(t, "DRIFT_REQUIRE_NIX", fmt.Sprintf("nix cannot run here: %v", err))
				}
				t.Fatal(err)
			}
			prefix := dir + "#nixosConfigurations." + tt.host + ".config."
			var got []string
			said := tt.note == ""
			for _, f := range lint.Check(lint.Config{Sets: []*persist.Set{s}}, nil) {
				if !strings.HasPrefix(f.Rule, "wipe-") {
					continue
				}
				got = append(got, strings.TrimPrefix(f.Pos.File, prefix)+" "+f.Rule+" "+f.Severity.String())
				said = said || strings.Contains(f.Message, tt.note)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if !said {
				t.Errorf("no message says %q", tt.note)
			}
		})
	}
}
