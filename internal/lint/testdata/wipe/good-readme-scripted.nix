# The right shape: the README's scripted hook (drift wipe in postResumeCommands).
{ lib, pkgs, ... }: {
  boot.initrd.systemd.enable = false;
  swapDevices = [ { device = "/dev/vda3"; } ];
  boot.initrd.extraUtilsCommands = ''
    copy_bin_and_libs ${pkgs.drift}/bin/drift
  '';
  boot.initrd.postResumeCommands = lib.mkAfter ''
    waitDevice /dev/disk/by-partlabel/disk-main-root
    drift wipe --device /dev/disk/by-partlabel/disk-main-root
  '';
  environment.persistence."/nix/persist" = {
    directories = [ "/var/log" "/var/lib/nixos" "/var/lib/systemd/timers" ];
    files = [ "/etc/machine-id" ];
  };
  users.mutableUsers = false;
}
