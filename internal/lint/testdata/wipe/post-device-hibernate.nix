# A wipe in postDeviceCommands on a machine that hibernates to swap.
{ lib, pkgs, ... }: {
  boot.initrd.systemd.enable = false;
  swapDevices = [ { device = "/dev/vda3"; } ];
  boot.initrd.postDeviceCommands = lib.mkAfter ''
    set -e
    mkdir -p /mnt
    waitDevice /dev/vda2
    mount -o subvolid=5 /dev/vda2 /mnt
    ${pkgs.btrfs-progs}/bin/btrfs subvolume delete /mnt/root
    btrfs subvolume snapshot /mnt/root-blank /mnt/root
    umount /mnt
  '';
  environment.persistence."/nix/persist" = {
    directories = [ "/var/log" "/var/lib/nixos" "/var/lib/systemd/timers" ];
    files = [ "/etc/machine-id" ];
  };
  users.mutableUsers = false;
}
