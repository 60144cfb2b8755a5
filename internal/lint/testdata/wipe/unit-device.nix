# Rollback units not ordered after the device, or ordered after a device
# they do not require.
{ ... }: {
  boot.initrd.systemd.enable = true;
  boot.initrd.systemd.services.rollback = {
    requiredBy = [ "sysroot.mount" ];
    after = [ "local-fs-pre.target" ];
    before = [ "sysroot.mount" ];
    script = "btrfs subvolume delete /mnt/root; btrfs subvolume create /mnt/root";
  };
  boot.initrd.systemd.services.rollback-by-label = {
    requiredBy = [ "sysroot.mount" ];
    after = [ "dev-disk-by\\x2dlabel-nixos.device" "systemd-hibernate-resume.service" ];
    before = [ "sysroot.mount" ];
    script = "btrfs subvolume delete /mnt/root; btrfs subvolume create /mnt/root";
  };
  environment.persistence."/nix/persist" = {
    directories = [ "/var/log" "/var/lib/nixos" "/var/lib/systemd/timers" ];
    files = [ "/etc/machine-id" ];
  };
  users.mutableUsers = false;
}
