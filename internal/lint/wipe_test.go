package lint_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/lint"
	"github.com/nix-drift/drift/internal/lint/input"
	"github.com/nix-drift/drift/internal/lint/output"
)

// loadLint reads args as drift lint does (imports followed) and runs the
// default rules.
func loadLint(t *testing.T, args ...string) []lint.Finding {
	t.Helper()
	cs, _, readErrs, err := input.Load(context.Background(), args, input.Options{})
	if err != nil || len(readErrs) > 0 {
		t.Fatalf("load %v: %v %v", args, err, readErrs)
	}
	fs, err := lint.CheckAll(context.Background(), cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// keys renders findings as "line rule severity", sorted.
func keys(fs []lint.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%d %s %s", f.Pos.Line, f.Rule, f.Severity))
	}
	sort.Strings(out)
	return out
}

// rendered reads the findings back out of one output format, as
// "line rule severity" sorted: text and github from their lines, json
// and sarif decoded.
func rendered(t *testing.T, format string, data []byte) []string {
	t.Helper()
	var out []string
	switch format {
	case "text":
		for _, l := range strings.Split(string(data), "\n") {
			if l == "" || strings.HasPrefix(l, "  hint: ") {
				continue
			}
			// file:line:col: severity rule: message
			parts := strings.SplitN(l, ": ", 3)
			pos := strings.Split(parts[0], ":")
			sr := strings.Fields(parts[1])
			out = append(out, fmt.Sprintf("%s %s %s", pos[1], sr[1], sr[0]))
		}
	case "github":
		for _, l := range strings.Split(string(data), "\n") {
			if l == "" {
				continue
			}
			// ::error file=…,line=5,col=48,title=drift RULE::message
			head, _, _ := strings.Cut(strings.TrimPrefix(l, "::"), "::")
			cmd, props, _ := strings.Cut(head, " ")
			sev := map[string]string{"error": "error", "warning": "warning", "notice": "info"}[cmd]
			var line, rule string
			for _, p := range strings.Split(props, ",") {
				k, v, _ := strings.Cut(p, "=")
				switch k {
				case "line":
					line = v
				case "title":
					rule = strings.TrimPrefix(v, "drift ")
				}
			}
			out = append(out, fmt.Sprintf("%s %s %s", line, rule, sev))
		}
	case "json":
		var r struct {
			Findings []struct {
				Line           int
				Rule, Severity string
			}
		}
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatal(err)
		}
		for _, f := range r.Findings {
			out = append(out, fmt.Sprintf("%d %s %s", f.Line, f.Rule, f.Severity))
		}
	case "sarif":
		var r struct {
			Runs []struct {
				Tool struct {
					Driver struct{ Rules []struct{ ID string } }
				}
				Results []struct {
					RuleID    string
					Level     string
					Locations []struct {
						PhysicalLocation struct{ Region struct{ StartLine int } }
					}
				}
			}
		}
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatal(err)
		}
		ids := map[string]bool{}
		for _, rr := range r.Runs[0].Tool.Driver.Rules {
			ids[rr.ID] = true
		}
		for _, res := range r.Runs[0].Results {
			if !ids[res.RuleID] {
				t.Errorf("sarif: result of %s, a rule tool.driver does not list", res.RuleID)
			}
			sev := map[string]string{"error": "error", "warning": "warning", "note": "info"}[res.Level]
			out = append(out, fmt.Sprintf("%d %s %s", res.Locations[0].PhysicalLocation.Region.StartLine, res.RuleID, sev))
		}
	}
	sort.Strings(out)
	return out
}

// TestWipeFixturesEveryFormat lints every testdata/wipe fixture as drift
// lint reads a file, and checks that each output format carries exactly
// the findings (line, rule, severity); the good-* fixtures, the right
// shapes, give none at all, and the others only wipe findings.
func TestWipeFixturesEveryFormat(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "wipe", "*.nix"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			// Read from a directory of its own (a repository top: no
			// flake.lock above it says which stage 1 is the default).
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, ".git"), 0o755); err != nil {
				t.Fatal(err)
			}
			name := filepath.Join(dir, filepath.Base(f))
			if err := os.WriteFile(name, data, 0o644); err != nil {
				t.Fatal(err)
			}
			fs := loadLint(t, name)
			good := strings.HasPrefix(filepath.Base(f), "good-")
			switch {
			case good && len(fs) > 0:
				t.Errorf("the right shape gives findings:\n%s", strings.Join(keys(fs), "\n"))
			case !good && len(fs) == 0:
				t.Errorf("no finding")
			}
			for _, x := range fs {
				if !strings.HasPrefix(x.Rule, "wipe-") {
					t.Errorf("a finding that is not the wipe's: %s %s", x.Rule, x.Message)
				}
				if !strings.Contains(x.Hint, "services.drift.wipe") {
					t.Errorf("%s: the hint does not name services.drift.wipe: %q", x.Rule, x.Hint)
				}
			}
			want := keys(fs)
			for _, format := range output.Formats {
				var b bytes.Buffer
				if err := output.Write(&b, format, fs, output.Tool{Version: "test"}); err != nil {
					t.Fatal(err)
				}
				if got := rendered(t, format, b.Bytes()); !slices.Equal(got, want) {
					t.Errorf("%s: got %q, want %q", format, got, want)
				}
			}
		})
	}
}

// generated is configuration.nix and hardware-configuration.nix as
// nixos-generate-config writes them (NixOS 25.11, trimmed of comments),
// with an impermanence module imported beside them.
var generated = map[string]string{
	"configuration.nix": `# Edit this configuration file to define what should be installed on
# your system. Help is available in the configuration.nix(5) man page, on
# https://search.nixos.org/options and in the NixOS manual (` + "`nixos-help`" + `).
{ config, lib, pkgs, ... }:

{
  imports =
    [ # Include the results of the hardware scan.
      ./hardware-configuration.nix
      ./impermanence.nix
    ];

  # Use the systemd-boot EFI boot loader.
  boot.loader.systemd-boot.enable = true;
  boot.loader.efi.canTouchEfiVariables = true;

  networking.hostName = "nixos";
  time.timeZone = "Europe/Amsterdam";

  users.users.alice = {
    isNormalUser = true;
    extraGroups = [ "wheel" ];
    packages = with pkgs; [ tree ];
  };

  environment.systemPackages = with pkgs; [ vim wget ];

  services.openssh.enable = true;

  system.stateVersion = "25.11"; # Did you read the comment?
}
`,
	"hardware-configuration.nix": `# Do not modify this file!  It was generated by ‘nixos-generate-config’
# and may be overwritten by future invocations.  Please make changes
# to /etc/nixos/configuration.nix instead.
{ config, lib, pkgs, modulesPath, ... }:

{
  imports =
    [ (modulesPath + "/installer/scan/not-detected.nix")
    ];

  boot.initrd.availableKernelModules = [ "xhci_pci" "ahci" "nvme" "usb_storage" "sd_mod" ];
  boot.initrd.kernelModules = [ ];
  boot.kernelModules = [ "kvm-intel" ];
  boot.extraModulePackages = [ ];

  fileSystems."/" =
    { device = "/dev/disk/by-uuid/3f1c2a9e-5a0b-4a8e-9a55-1d7c3d2f6b10";
      fsType = "btrfs";
      options = [ "subvol=root" ];
    };

  fileSystems."/nix" =
    { device = "/dev/disk/by-uuid/3f1c2a9e-5a0b-4a8e-9a55-1d7c3d2f6b10";
      fsType = "btrfs";
      options = [ "subvol=nix" ];
    };

  fileSystems."/boot" =
    { device = "/dev/disk/by-uuid/1A2B-3C4D";
      fsType = "vfat";
      options = [ "fmask=0022" "dmask=0022" ];
    };

  swapDevices = [ ];

  # Enables DHCP on each ethernet and wireless interface. In case of scripted networking
  # (the default) this is the recommended approach. When using systemd-networkd it's
  # still possible to use this option, but it's recommended to use it in conjunction
  # with explicit per-interface declarations with ` + "`networking.interfaces.<interface>.useDHCP`" + `.
  networking.useDHCP = lib.mkDefault true;
  # networking.interfaces.enp0s31f6.useDHCP = lib.mkDefault true;

  nixpkgs.hostPlatform = lib.mkDefault "x86_64-linux";
  hardware.cpu.intel.updateMicrocode = lib.mkDefault config.hardware.enableRedistributableFirmware;
}
`,
	"impermanence.nix": `{ config, lib, ... }: {
  imports = [ (builtins.fetchTarball "https://github.com/nix-community/impermanence/archive/master.tar.gz" + "/nixos.nix") ];
  boot.initrd.systemd.enable = true;
  services.drift.wipe = {
    enable = true;
    device = "/dev/disk/by-uuid/3f1c2a9e-5a0b-4a8e-9a55-1d7c3d2f6b10";
  };
  environment.persistence."/nix/persist" = {
    hideMounts = true;
    directories = [ "/var/log" "/var/lib/nixos" "/var/lib/systemd/timers" ];
    files = [
      "/etc/machine-id"
      "/etc/ssh/ssh_host_ed25519_key"
      "/etc/ssh/ssh_host_ed25519_key.pub"
      "/etc/ssh/ssh_host_rsa_key"
      "/etc/ssh/ssh_host_rsa_key.pub"
    ];
  };
  users.mutableUsers = false;
  users.users.alice.hashedPasswordFile = "/nix/persist/passwords/alice";
}
`,
}

// TestGeneratedConfigurationNotStatic: a configuration as
// nixos-generate-config writes it, plus an impermanence module, lints
// without a not-static finding — the modulesPath import of
// hardware-configuration.nix is nixpkgs' own module — and so does
// configuration.nix alone when hardware-configuration.nix is not beside it
// (it stays on the machine). The impermanence module's own import (a
// fetchTarball) is still not-static: drift cannot read it.
func TestGeneratedConfigurationNotStatic(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range generated {
		text = strings.Replace(text, "  imports = [ (builtins.fetchTarball \"https://github.com/nix-community/impermanence/archive/master.tar.gz\" + \"/nixos.nix\") ];\n", "", 1)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "configuration.nix")
	if fs := loadLint(t, cfg); len(fs) > 0 {
		t.Errorf("findings:\n%s", strings.Join(keys(fs), "\n"))
	}
	if fs := loadLint(t, dir); len(fs) > 0 {
		t.Errorf("the directory: findings:\n%s", strings.Join(keys(fs), "\n"))
	}
	if err := os.Remove(filepath.Join(dir, "hardware-configuration.nix")); err != nil {
		t.Fatal(err)
	}
	if fs := loadLint(t, cfg); len(fs) > 0 {
		t.Errorf("without hardware-configuration.nix: findings:\n%s", strings.Join(keys(fs), "\n"))
	}
	// An import drift cannot read is still reported.
	if err := os.WriteFile(filepath.Join(dir, "impermanence.nix"), []byte(generated["impermanence.nix"]), 0o644); err != nil {
		t.Fatal(err)
	}
	fs := loadLint(t, cfg)
	if got := keys(fs); !slices.Equal(got, []string{"2 not-static warning"}) {
		t.Errorf("the fetchTarball import: got %q", got)
	}
}

// TestWipeDefaultFromFlakeLock: where the files do not set
// boot.initrd.systemd.enable, the flake.lock above them says which
// default applies — nixos-26.05: systemd, so the seed's hook never runs
// (an error naming the pin); nixos-25.11: scripted, so a systemd unit
// never runs; an unstable branch locked before 26.05 does not tell (a
// warning naming it).
func TestWipeDefaultFromFlakeLock(t *testing.T) {
	lock := func(ref string, lastModified int) string {
		return fmt.Sprintf(`{"nodes":{"nixpkgs":{"locked":{"lastModified":%d},"original":{"owner":"NixOS","repo":"nixpkgs","ref":%q,"type":"github"}},"root":{"inputs":{"nixpkgs":"nixpkgs"}}},"root":"root","version":7}`, lastModified, ref)
	}
	unit, err := os.ReadFile(filepath.Join("testdata", "wipe", "unit-common.nix"))
	if err != nil {
		t.Fatal(err)
	}
	unitUnset := strings.Replace(string(unit), "boot.initrd.systemd.enable = true;", "", 1)
	seed, err := os.ReadFile(filepath.Join("testdata", "wipe", "seed-unset.nix"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, lock, file, want, says string
	}{
		{"26.05 hook", lock("nixos-26.05", 1780000000), string(seed), "error", "not set, the default of the nixpkgs pinned (nixos-26.05 in "},
		{"25.11 hook", lock("nixos-25.11", 1780000000), string(seed), "", ""},
		{"25.11 unit", lock("nixos-25.11", 1780000000), unitUnset, "error", "stage 1 is the scripted one"},
		{"26.05 unit", lock("nixos-26.05", 1780000000), unitUnset, "", ""},
		{"old unstable", lock("nixos-unstable", 1740000000), string(seed), "warning", "(nixos-unstable of 2025-02-19 in "},
		{"no lock", "", string(seed), "warning", "is not set in the files read: its default"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, ".git"), 0o755); err != nil { // the walk up stops here
				t.Fatal(err)
			}
			if tt.lock != "" {
				if err := os.WriteFile(filepath.Join(dir, "flake.lock"), []byte(tt.lock), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			host := filepath.Join(dir, "hosts", "a")
			if err := os.MkdirAll(host, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(host, "configuration.nix"), []byte(tt.file), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{filepath.Join(host, "configuration.nix")}, {dir}} {
				var got []string
				for _, f := range loadLint(t, args...) {
					if f.Rule == "wipe-not-run" {
						got = append(got, f.Severity.String())
						if !strings.Contains(f.Message, tt.says) {
							t.Errorf("%v: message %q does not say %q", args, f.Message, tt.says)
						}
					}
				}
				if strings.Join(got, " ") != tt.want {
					t.Errorf("%v: wipe-not-run %q, want %q", args, got, tt.want)
				}
			}
		})
	}
}
