# services.drift.wipe and a hand-written drift wipe given the Nix store's
# and the persistent storage's subvolumes (a fresh-user test's typo).
{ pkgs, ... }: {
  boot.initrd.systemd.enable = true;
  fileSystems."/" = { device = "/dev/vda2"; fsType = "btrfs"; options = [ "subvol=root" ]; };
  fileSystems."/nix" = { device = "/dev/vda2"; fsType = "btrfs"; options = [ "subvol=nix" "noatime" ]; };
  fileSystems."/nix/persist" = { device = "/dev/vda2"; fsType = "btrfs"; options = [ "compress=zstd" "subvol=/persist" ]; neededForBoot = true; };
  services.drift.wipe = {
    enable = true;
    device = "/dev/vda2";
    subvolume = "nix";
  };
  boot.initrd.postResumeCommands = "${pkgs.drift}/bin/drift wipe --device /dev/vda2 --subvol=persist --subvol-is-root || fail";
  environment.persistence."/nix/persist" = {
    directories = [ "/var/log" "/var/lib/nixos" "/var/lib/systemd/timers" ];
    files = [ "/etc/machine-id" ];
  };
  users.mutableUsers = false;
}
