# services.drift.wipe and a hand-written wipe at once.
{ lib, ... }: {
  boot.initrd.systemd.enable = false;
  services.drift.wipe = {
    enable = true;
    device = "/dev/disk/by-partlabel/disk-main-root";
  };
  boot.initrd.postResumeCommands = lib.mkAfter ''
    set -e
    waitDevice /dev/disk/by-partlabel/disk-main-root
    mount -o subvolid=5 /dev/disk/by-partlabel/disk-main-root /mnt
    btrfs subvolume delete /mnt/root
    btrfs subvolume create /mnt/root
    umount /mnt
  '';
  environment.persistence."/nix/persist" = {
    directories = [ "/var/log" "/var/lib/nixos" "/var/lib/systemd/timers" ];
    files = [ "/etc/machine-id" ];
  };
  users.mutableUsers = false;
}
