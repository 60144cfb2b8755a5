{
  description = "drift test flake: no inputs, nixosConfigurations.host1 as a plain attrset";
  outputs = { self }: {
    nixosConfigurations.host1 = {
      config.environment.persistence = {
        "/nix/persist" = {
          enable = true;
          persistentStoragePath = "/nix/persist";
          # a removed-option placeholder, as current impermanence defines it
          allowOther = throw "The option `allowOther' can no longer be used since it's been removed.";
          directories = [
            {
              directory = "/var/log/";
              dirPath = "/var/log";
              persistentStoragePath = "/nix/persist";
              user = "root"; group = "root"; mode = "0755";
              method = throw "removed";
            }
          ];
          files = [
            {
              file = "/etc/machine-id";
              filePath = "/etc/machine-id";
              persistentStoragePath = "/nix/persist";
              method = "symlink";
              parentDirectory = { dirPath = "/etc"; user = "root"; group = "root"; mode = "0755"; };
            }
          ];
          users.alice = {
            home = throw "removed";
            directories = [ { directory = ".ssh"; dirPath = "/home/alice/.ssh"; persistentStoragePath = "/nix/persist"; user = "alice"; group = "users"; mode = "0700"; } ];
            files = [ ];
          };
        };
        "/backup" = {
          enable = false;
          persistentStoragePath = "/backup";
          directories = [ { directory = "/srv"; dirPath = "/srv"; persistentStoragePath = "/backup"; } ];
          files = [ ];
          users = { };
        };
      };
    };
    # host2 has a real error that the projection must not swallow
    nixosConfigurations.host2 = {
      config.environment.persistence."/p" = {
        persistentStoragePath = throw "A definition for option `persistentStoragePath' is not of type `path'";
        directories = [ ];
      };
    };
      # host3: the options drift lint's rules read besides the persistence
    # declarations; some throw (a module evaluated badly must not fail the
    # evaluation), preservation and home-manager are set, boot.tmp is not.
    nixosConfigurations.host3 = {
      config = {
        environment.persistence."/nix/persist" = {
          persistentStoragePath = "/nix/persist";
          directories = [ { directory = "/srv"; dirPath = "/srv"; persistentStoragePath = "/nix/persist"; user = "root"; group = "root"; mode = "0755"; } ];
          files = [ ];
          users = { };
        };
        fileSystems."/var/log" = { mountPoint = "/var/log"; fsType = "ext4"; device = throw "no device"; };
        fileSystems."/" = { mountPoint = "/"; fsType = "tmpfs"; };
        users.mutableUsers = true;
        services.openssh = { enable = true; hostKeys = [ { path = "/etc/ssh/ssh_host_ed25519_key"; type = "ed25519"; } ]; };
        users.users.alice = { uid = 1000; group = "users"; home = "/home/alice"; hashedPasswordFile = "/persist/alice.hash"; packages = [ (throw "no packages") ]; };
        users.users.svc = { isSystemUser = true; group = "svc"; uid = null; hashedPasswordFile = throw "broken"; };
        users.groups.svc = { gid = null; };
        systemd.tmpfiles.rules = [ "L+ /etc/nixos - - - - /nix/persist/nixos-config" "d /var/lib/x 0755 root root -" ];
        systemd.tmpfiles.settings."10-links"."/etc/machine-id"."L+" = { argument = "/nix/persist/etc/machine-id"; mode = "-"; };
        preservation = { enable = true; preserveAt."/keep" = { persistentStoragePath = "/keep"; directories = [ { directory = "/var/lib/app"; how = "bindmount"; user = "root"; group = "root"; mode = "0755"; } ]; files = [ ]; users = { }; }; };
        home-manager.users.alice.home.persistence."/nix/persist" = { directories = [ "Music" ]; files = [ ]; };
      };
    };
};
}
