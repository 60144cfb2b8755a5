# The right shape, by hand: a btrfs rollback unit ordered after the device
# and the resume attempt, before sysroot.mount, whose failure stops the boot.
{ ... }: {
  boot.initrd.systemd.enable = true;
  boot.kernelParams = [ "resume=/dev/vda3" ];
  boot.initrd.systemd.services.rollback = {
    wantedBy = [ "initrd.target" ];
    requiredBy = [ "sysroot.mount" ];
    requires = [ "dev-disk-by\\x2dpartlabel-disk\\x2dmain\\x2droot.device" ];
    after = [ "dev-disk-by\\x2dpartlabel-disk\\x2dmain\\x2droot.device" "systemd-hibernate-resume.service" "local-fs-pre.target" ];
    before = [ "sysroot.mount" ];
    unitConfig.DefaultDependencies = "no";
    serviceConfig.Type = "oneshot";
    script = ''
      mount -o subvolid=5 /dev/disk/by-partlabel/disk-main-root /mnt
      btrfs subvolume delete /mnt/root
      btrfs subvolume snapshot /mnt/root-blank /mnt/root
      umount /mnt
    '';
  };
  environment.persistence."/nix/persist" = {
    directories = [ "/var/log" "/var/lib/nixos" "/var/lib/systemd/timers" ];
    files = [ "/etc/machine-id" ];
  };
  users.mutableUsers = false;
}
