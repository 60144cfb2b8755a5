# No wipe in the files read (the host may define it elsewhere): no finding.
{ ... }: {
  boot.initrd.systemd.enable = true;
  boot.initrd.systemd.services.hello = {
    wantedBy = [ "initrd.target" ];
    script = "echo hello";
  };
  environment.persistence."/nix/persist" = {
    directories = [ "/var/log" "/var/lib/nixos" "/var/lib/systemd/timers" ];
    files = [ "/etc/machine-id" ];
  };
  users.mutableUsers = false;
}
