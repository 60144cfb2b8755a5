# A rollback unit whose failure is ignored ("-" before ExecStart).
{ pkgs, ... }: {
  boot.initrd.systemd.enable = true;
  boot.initrd.systemd.services.rollback = {
    wantedBy = [ "initrd.target" ];
    unitConfig.OnFailure = "emergency.target";
    requires = [ "dev-disk-by\\x2dpartlabel-disk\\x2dmain\\x2droot.device" ];
    after = [ "dev-disk-by\\x2dpartlabel-disk\\x2dmain\\x2droot.device" "systemd-hibernate-resume.service" "local-fs-pre.target" ];
    before = [ "sysroot.mount" ];
    unitConfig.DefaultDependencies = "no";
    serviceConfig.Type = "oneshot";
    serviceConfig.ExecStart = "-${pkgs.btrfs-progs}/bin/btrfs subvolume delete /mnt/root";
  };
  environment.persistence."/nix/persist" = {
    directories = [ "/var/log" "/var/lib/nixos" "/var/lib/systemd/timers" ];
    files = [ "/etc/machine-id" ];
  };
  users.mutableUsers = false;
}
