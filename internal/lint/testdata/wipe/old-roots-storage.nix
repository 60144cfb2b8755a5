# services.drift.wipe and a hand-written drift wipe keeping old roots in the
# persistent storage's subvolume (a fresh-user test's typo).
{ pkgs, ... }: {
  boot.initrd.systemd.enable = true;
  fileSystems."/" = { device = "/dev/vda2"; fsType = "btrfs"; options = [ "subvol=root" ]; };
  fileSystems."/nix" = { device = "/dev/vda2"; fsType = "btrfs"; options = [ "subvol=nix" "noatime" ]; };
  fileSystems."/nix/persist" = { device = "/dev/vda2"; fsType = "btrfs"; options = [ "compress=zstd" "subvol=/persist" ]; neededForBoot = true; };
  services.drift.wipe = {
    enable = true;
    device = "/dev/vda2";
    oldRoots = "persist";
  };
  boot.initrd.postResumeCommands = "${pkgs.drift}/bin/drift wipe --device /dev/vda2 --old-roots=persist/old_roots || fail";
  environment.persistence."/nix/persist" = {
    directories = [ "/var/log" "/var/lib/nixos" "/var/lib/systemd/timers" ];
    files = [ "/etc/machine-id" ];
  };
  users.mutableUsers = false;
}
