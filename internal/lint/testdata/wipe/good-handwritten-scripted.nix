# The right shape, by hand: a scripted rollback in postResumeCommands that
# stops on failure.
{ lib, ... }: {
  boot.initrd.systemd.enable = false;
  swapDevices = [ { device = "/dev/vda3"; } ];
  boot.initrd.postResumeCommands = lib.mkAfter ''
    waitDevice /dev/disk/by-partlabel/disk-main-root
    mount -o subvolid=5 /dev/disk/by-partlabel/disk-main-root /mnt || fail
    btrfs subvolume delete /mnt/root || fail
    btrfs subvolume snapshot /mnt/root-blank /mnt/root || fail
    umount /mnt
  '';
  environment.persistence."/nix/persist" = {
    directories = [ "/var/log" "/var/lib/nixos" "/var/lib/systemd/timers" ];
    files = [ "/etc/machine-id" ];
  };
  users.mutableUsers = false;
}
