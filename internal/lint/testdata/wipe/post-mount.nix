# A wipe in postMountCommands: the root is mounted already.
{ lib, ... }: {
  boot.initrd.systemd.enable = false;
  boot.initrd.postMountCommands = lib.mkAfter "zfs rollback -r rpool/local/root@blank || fail";
  environment.persistence."/nix/persist" = {
    directories = [ "/var/log" "/var/lib/nixos" "/var/lib/systemd/timers" ];
    files = [ "/etc/machine-id" ];
  };
  users.mutableUsers = false;
}
