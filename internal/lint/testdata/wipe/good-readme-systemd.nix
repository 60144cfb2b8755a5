# The right shape: the README's systemd stage 1 unit running drift wipe.
{ pkgs, ... }: {
  boot.initrd.systemd.enable = true;
  boot.resumeDevice = "/dev/vda3";
  boot.initrd.systemd.storePaths = [ "${pkgs.drift}/bin/drift" ];
  boot.initrd.systemd.services.drift-wipe = {
    description = "Roll back the root subvolume";
    wantedBy = [ "initrd.target" ];
    requires = [ "dev-disk-by\\x2dpartlabel-disk\\x2dmain\\x2droot.device" ];
    after = [ "dev-disk-by\\x2dpartlabel-disk\\x2dmain\\x2droot.device" "systemd-hibernate-resume.service" "local-fs-pre.target" ];
    before = [ "sysroot.mount" ];
    unitConfig.DefaultDependencies = "no";
    serviceConfig.Type = "oneshot";
    script = "${pkgs.drift}/bin/drift wipe --device /dev/disk/by-partlabel/disk-main-root";
  };
  environment.persistence."/nix/persist" = {
    directories = [ "/var/log" "/var/lib/nixos" "/var/lib/systemd/timers" ];
    files = [ "/etc/machine-id" ];
  };
  users.mutableUsers = false;
}
