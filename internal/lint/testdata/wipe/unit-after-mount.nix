# A rollback unit ordered after the root is mounted, and one not ordered
# before it at all.
{ ... }: {
  boot.initrd.systemd.enable = true;
  boot.initrd.systemd.services.rollback = {
    requiredBy = [ "initrd.target" ];
    requires = [ "dev-vda2.device" ];
    after = [ "dev-vda2.device" "local-fs-pre.target" "sysroot.mount" ];
    script = "btrfs subvolume delete /sysroot/root && btrfs subvolume create /sysroot/root";
  };
  boot.initrd.systemd.services.rollback2 = {
    requiredBy = [ "sysroot.mount" ];
    unitConfig.Requires = "dev-vda2.device";
    unitConfig.After = "dev-vda2.device local-fs-pre.target";
    script = "zfs rollback -r rpool/local/root@blank";
  };
  environment.persistence."/nix/persist" = {
    directories = [ "/var/log" "/var/lib/nixos" "/var/lib/systemd/timers" ];
    files = [ "/etc/machine-id" ];
  };
  users.mutableUsers = false;
}
