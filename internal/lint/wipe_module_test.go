package lint_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/lint"
	"github.com/nix-drift/drift/internal/persist"
)

// moduleFlake is a flake whose hosts are what nix/module.nix generates for
// services.drift.wipe (evaluated through test/nix's eval-module.nix
// against the stub lib), with the options the module reads set as a host
// would, so that drift lint --flake's projection reads them as from a real
// NixOS. `handWritten` adds a hand-written wipe in the same hook;
// `oldRoots` sets wipe.oldRoots, with the persistent storage's
// subvolume mounted at /persist.
const moduleFlake = `{
  outputs = { self }:
    let
      unwrap = v:
        if builtins.isAttrs v && (v ? _order || v ? _override) then unwrap v.content
        else if builtins.isAttrs v && !(v ? outPath) then builtins.mapAttrs (_: unwrap) v
        else if builtins.isList v then map unwrap v
        else v;
      host = { settings, systemd, hasPostResume ? true, handWritten ? "", oldRoots ? null }:
        let
          system = { boot.initrd.systemd.enable = systemd; boot.resumeDevice = "/dev/vda3"; };
          c = unwrap (import ./test/eval-module.nix { module = ./nix/module.nix; inherit settings system hasPostResume; }).config;
          initrd = (c.boot or { }).initrd or { };
          hook = if hasPostResume then "postResumeCommands" else "postDeviceCommands";
        in
        {
          config = c // {
            services.drift.wipe = { enable = true; } // (if oldRoots == null then { } else { inherit oldRoots; });
            fileSystems."/persist" = { device = "/dev/vda2"; fsType = "btrfs"; options = [ "subvol=persist" ]; };
            swapDevices = [ { device = "/dev/vda3"; } ];
            boot = (c.boot or { }) // system.boot // {
              initrd = initrd // { systemd = (initrd.systemd or { }) // { enable = systemd; }; }
                // (if handWritten == "" then { } else { ${hook} = handWritten + (initrd.${hook} or ""); });
            };
          };
        };
      wipe = onFailure: { enable = true; wipe = { enable = true; device = "/dev/disk/by-partlabel/disk-main-root"; inherit onFailure; }; };
      wipeIn = oldRoots: { enable = true; wipe = { enable = true; device = "/dev/disk/by-partlabel/disk-main-root"; onFailure = "stop"; inherit oldRoots; }; };
    in
    {
      nixosConfigurations = {
        systemdStop = host { settings = wipe "stop"; systemd = true; };
        systemdContinue = host { settings = wipe "continue"; systemd = true; };
        scriptedStop = host { settings = wipe "stop"; systemd = false; };
        scriptedContinue = host { settings = wipe "continue"; systemd = false; };
        scriptedOld = host { settings = wipe "stop"; systemd = false; hasPostResume = false; };
        scriptedTwice = host {
          settings = wipe "stop"; systemd = false;
          handWritten = "set -e\nbtrfs subvolume delete /mnt/root\nbtrfs subvolume create /mnt/root\n";
        };
        systemdOldRootsPersist = host { settings = wipeIn "persist"; systemd = true; oldRoots = "persist"; };
        scriptedOldRootsPersist = host { settings = wipeIn "persist/old_roots"; systemd = false; oldRoots = "persist/old_roots"; };
      };
    };
}
`

// TestModuleWipeLintsClean: what services.drift.wipe generates — under
// systemd stage 1 and the scripted one, with either wipe.onFailure, on an
// old nixpkgs without postResumeCommands, on a machine that hibernates —
// gives no wipe finding through drift lint --flake; a hand-written wipe
// beside it in the same hook is found (wipe-twice), and so is a
// wipe.oldRoots in the persistent storage fileSystems mounts
// (wipe-old-roots-storage: the projection reads the option).
func TestModuleWipeLintsClean(t *testing.T) {
	if _, err := exec.LookPath("nix"); err != nil {
		if os.Getenv("DRIFT_REQUIRE_NIX") == "1" {
			t.Fatal("nix not installed and DRIFT_REQUIRE_NIX=1 (apt-get install nix-bin)")
		}
		t.Skip("nix not installed (apt-get install nix-bin): skipping the real evaluation test")
	}
	dir := t.TempDir()
	copyTo := func(from, to string) {
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, to)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, to), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyTo("../../nix/module.nix", "nix/module.nix")
	copyTo("../persist/projection.nix", "internal/persist/projection.nix")
	for _, f := range []string{"eval-module.nix", "lib-stub.nix", "utils-stub.nix"} {
		copyTo(filepath.Join("../../test/nix/testdata", f), filepath.Join("test", f))
	}
	if err := os.WriteFile(filepath.Join(dir, "flake.nix"), []byte(moduleFlake), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, tt := range []struct{ host, want string }{
		{"systemdStop", ""}, {"systemdContinue", ""}, {"scriptedStop", ""}, {"scriptedContinue", ""}, {"scriptedOld", ""},
		{"scriptedTwice", "wipe-twice"},
		{"systemdOldRootsPersist", "wipe-old-roots-storage"}, {"scriptedOldRootsPersist", "wipe-old-roots-storage"},
	} {
		t.Run(tt.host, func(t *testing.T) {
			s, err := persist.EvalFlake(ctx, dir+"#"+tt.host, persist.Options{})
			if err != nil {
				t.Fatal(err)
			}
			in := s.Config.Initrd
			if len(in.Hooks)+len(in.Units) == 0 || in.DriftWipe.Value != persist.True {
				t.Fatalf("the module's wipe is not in the projection: %+v", in)
			}
			var got []string
			for _, f := range lint.Check(lint.Config{Sets: []*persist.Set{s}}, nil) {
				if strings.HasPrefix(f.Rule, "wipe-") {
					got = append(got, f.Rule)
				}
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("wipe findings %q, want %q", got, tt.want)
			}
		})
	}
}
