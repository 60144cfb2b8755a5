# A systemd-initrd rollback unit while stage 1 is the scripted one.
{ ... }: {
  boot.initrd.systemd.enable = false;
  boot.initrd.systemd.services.rollback = {
    wantedBy = [ "initrd.target" ];
    requiredBy = [ "sysroot.mount" ];
    requires = [ "dev-disk-by\\x2dpartlabel-disk\\x2dmain\\x2droot.device" ];
    after = [ "dev-disk-by\\x2dpartlabel-disk\\x2dmain\\x2droot.device" "systemd-hibernate-resume.service" "local-fs-pre.target" ];
    before = [ "sysroot.mount" ];
    unitConfig.DefaultDependencies = "no";
    serviceConfig.Type = "oneshot";
    script = "btrfs subvolume delete /mnt/root && btrfs subvolume create /mnt/root";
  };
  environment.persistence."/nix/persist" = {
    directories = [ "/var/log" "/var/lib/nixos" "/var/lib/systemd/timers" ];
    files = [ "/etc/machine-id" ];
  };
  users.mutableUsers = false;
}
