package persist

import (
	"context"
	"fmt"
	"testing"
)

// initrdLines renders an Initrd for comparison.
func initrdLines(in Initrd) []string {
	tri := map[Tri]string{Unset: "unset", True: "true", False: "false", Unknown: "unknown"}
	out := []string{"systemd " + tri[in.Systemd.Value], "driftWipe " + tri[in.DriftWipe.Value],
		"resume " + in.ResumeDevice.Value + " " + in.ResumeParam.Value, fmt.Sprintf("evaluated %v release %s", in.Evaluated, in.Release)}
	for _, s := range in.Swap {
		out = append(out, "swap "+s.Value)
	}
	for _, h := range in.Hooks {
		out = append(out, fmt.Sprintf("hook %s @%s %q", h.Option, h.Pos, h.Text))
	}
	for _, u := range in.Units {
		out = append(out, fmt.Sprintf("unit %s @%s wantedBy=%v requiredBy=%v requires=%v after=%v before=%v onFailure=%v ignores=%v text=%q",
			u.Name, u.Pos, u.WantedBy, u.RequiredBy, u.Requires, u.After, u.Before, u.OnFailure, u.IgnoresFailure, u.Text))
	}
	return out
}

// TestReadInitrd: the static reader's stage 1 and wipe facts — hooks with
// interpolations it cannot read kept as text, unit dependencies from the
// options and from unitConfig (a string of words or a list), ExecStart as a
// string or a list, hibernation from resumeDevice, resume= and swap.
func TestReadInitrd(t *testing.T) {
	src := `{ lib, pkgs, ... }: {
  boot.initrd.systemd.enable = false;
  boot.initrd.postResumeCommands = lib.mkAfter ''
    ${pkgs.btrfs-progs}/bin/btrfs subvolume delete /mnt/root
  '';
  boot.initrd.postDeviceCommands = "echo ${"static"}";
  boot.resumeDevice = "/dev/vda3";
  boot.kernelParams = [ "quiet" "resume=/dev/vda3" ];
  swapDevices = [ { device = "/dev/vda3"; } { label = "swap"; } ];
  services.drift.wipe.enable = true;
  boot.initrd.systemd.services.rollback = {
    wantedBy = [ "initrd.target" ];
    after = [ "a.device" ];
    unitConfig = { After = "b.target c.service"; Requires = [ "a.device" ]; OnFailure = "emergency.target"; };
    serviceConfig.ExecStart = [ "-${pkgs.x}/bin/x" "/bin/y" ];
  };
  boot.initrd.systemd.services.other = { requiredBy = [ "sysroot.mount" ]; before = [ "sysroot.mount" ]; script = "echo hi"; };
  environment.persistence."/p".directories = [ "/srv" ];
}
`
	s, err := ParseNix([]byte(src), "f.nix", Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, "initrd", initrdLines(s.Config.Initrd), []string{
		"systemd false", "driftWipe true", "resume /dev/vda3 resume=/dev/vda3", "evaluated false release ",
		"swap /dev/vda3", "swap swap",
		`hook postDeviceCommands @f.nix:6:36 "echo static"`,
		`hook postResumeCommands @f.nix:3:48 "${…}/bin/btrfs subvolume delete /mnt/root\n"`,
		`unit rollback @f.nix:11:32 wantedBy=[initrd.target] requiredBy=[] requires=[a.device] after=[a.device b.target c.service] before=[] onFailure=true ignores=true text="-${…}/bin/x\n/bin/y"`,
		`unit other @f.nix:17:32 wantedBy=[] requiredBy=[sysroot.mount] requires=[] after=[] before=[sysroot.mount] onFailure=false ignores=false text="echo hi"`,
	})
	// Two files: the host's flag wins over nothing, lists add up, a unit
	// defined in both is one unit.
	o, err := ParseNix([]byte(`{ boot.initrd.systemd.enable = true; swapDevices = [ { device = "/dev/sdb2"; } ];
  boot.initrd.systemd.services.other.after = [ "x.device" ]; }`), "g.nix", Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := &Config{}
	c.Merge(o.Config)
	c.Merge(s.Config)
	if c.Initrd.Systemd.Value != True || len(c.Initrd.Swap) != 3 || len(c.Initrd.Units) != 2 {
		t.Errorf("merged: %q", initrdLines(c.Initrd))
	}
	wantLines(t, "merged unit", initrdLines(c.Initrd)[9:], []string{
		`unit other @g.nix:2:32 wantedBy=[] requiredBy=[sysroot.mount] requires=[] after=[x.device] before=[sysroot.mount] onFailure=false ignores=false text="echo hi"`,
		`unit rollback @f.nix:11:32 wantedBy=[initrd.target] requiredBy=[] requires=[a.device] after=[a.device b.target c.service] before=[] onFailure=true ignores=true text="-${…}/bin/x\n/bin/y"`,
	})
}

// TestNixpkgsImportsNotStatic: the imports nixos-generate-config writes
// ((modulesPath + "…"), <nixpkgs/nixos/modules/…>) are nixpkgs' own modules:
// neither followed nor reported.
func TestNixpkgsImportsNotStatic(t *testing.T) {
	src := `{ modulesPath, ... }: {
  imports = [
    (modulesPath + "/installer/scan/not-detected.nix")
    (modulesPath + "/profiles/qemu-guest.nix")
    <nixpkgs/nixos/modules/profiles/minimal.nix>
    ./persist.nix
    <home-manager/nixos>
  ];
}
`
	s, err := ParseNix([]byte(src), "f.nix", Options{})
	if err != nil {
		t.Fatal(err)
	}
	// <home-manager/nixos> is recorded, as before: drift lint then says it
	// cannot follow it.
	if len(s.Imports) != 2 || s.Imports[0].Path != "./persist.nix" || s.Imports[1].Path != "<home-manager/nixos>" {
		t.Errorf("imports %v", s.Imports)
	}
	for _, d := range s.Diagnostics {
		if d.Code == "not-static" {
			t.Errorf("not-static: %s", d)
		}
	}
}

// TestEvalFlakeInitrd: the projection's initrd becomes Config.Initrd,
// each option placed at its attribute, unitConfig's words split.
func TestEvalFlakeInitrd(t *testing.T) {
	fakeNix(t, `{"persistence":null,"preservation":null,"homeManager":{},"fileSystems":{},"mutableUsers":null,"opensshEnable":null,"hostKeys":null,"users":{},"groups":{},"tmpOnTmpfs":null,`+
		`"initrd":{"systemd":true,"release":"26.05","hooks":{"preDeviceCommands":null,"postResumeCommands":"btrfs subvolume delete /r","postDeviceCommands":""},`+
		`"services":{"rollback":{"wantedBy":["initrd.target"],"requiredBy":[],"upheldBy":[],"wants":[],"requires":[],"bindsTo":[],"requisite":[],"after":["x.device"],"before":[],`+
		`"unitConfig":{"After":["y.target z.service"],"OnFailure":["emergency.target"]},"script":"btrfs subvolume create /r","preStart":null,"execStart":["-/bin/w"]}},`+
		`"resumeDevice":"","kernelParams":["resume=/dev/vda3"],"swapDevices":[null],"driftWipe":false}}`, "", 0)
	s, err := EvalFlake(context.Background(), ".#h", Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, "initrd", initrdLines(s.Config.Initrd), []string{
		"systemd true", "driftWipe false", "resume  resume=/dev/vda3", "evaluated true release 26.05", "swap a swap device",
		`hook postResumeCommands @.#nixosConfigurations.h.config.boot.initrd.postResumeCommands "btrfs subvolume delete /r"`,
		`unit rollback @.#nixosConfigurations.h.config.boot.initrd.systemd.services.rollback wantedBy=[initrd.target] requiredBy=[] requires=[] after=[x.device y.target z.service] before=[] onFailure=true ignores=true text="btrfs subvolume create /r\n-/bin/w"`,
	})
}
