# The right shape: services.drift.wipe.
{ ... }: {
  boot.initrd.systemd.enable = true;
  swapDevices = [ { device = "/dev/vda3"; } ];
  boot.resumeDevice = "/dev/vda3";
  services.drift.wipe = {
    enable = true;
    device = "/dev/disk/by-partlabel/disk-main-root";
  };
  environment.persistence."/nix/persist" = {
    directories = [ "/var/log" "/var/lib/nixos" "/var/lib/systemd/timers" ];
    files = [ "/etc/machine-id" ];
  };
  users.mutableUsers = false;
}
