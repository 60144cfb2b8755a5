# drift suggest for $DIR/root: what to persist, as a NixOS module for impermanence (environment.persistence).
# Save it as $DIR/persist-suggested.nix and add it to the imports of your configuration.
# drift-lint: module (a part of a configuration: drift lint does not look here for what a host lacks)
{
  environment.persistence."/nix/persist" = {
    directories = [
      "/var/lib/myapp" # 4, high
      "/var/lib/bluetooth" # 9, medium
      { directory = "/var/lib/colord"; user = "colord"; group = "colord"; mode = "u=rwx,g=rx,o="; } # 10, medium
      "/var/lib/systemd/timers" # 11, medium
    ];
    files = [
      "/etc/machine-id" # 1, high
      "/etc/ssh/ssh_host_ed25519_key" # 2, high
      "/etc/ssh/ssh_host_ed25519_key.pub" # 3, high
      "/var/lib/systemd/random-seed" # 5, high
    ];
    users.alice = {
      directories = [
        ".config/app" # 7, medium
        { directory = ".ssh"; user = "alice"; group = "users"; mode = "0700"; } # 8, medium
      ];
      files = [
        ".bash_history" # 6, medium
      ];
    };
  };
}
# Once saved there, copy what is there now into persistent storage (before the next reboot):
#   drift adopt --root $DIR/root --persist $DIR/decl.nix --mountinfo $DIR/mountinfo --persist $DIR/persist-suggested.nix /etc/machine-id /etc/ssh/ssh_host_ed25519_key /etc/ssh/ssh_host_ed25519_key.pub /var/lib/myapp /var/lib/systemd/random-seed /home/alice/.bash_history /home/alice/.config/app /home/alice/.ssh /var/lib/bluetooth /var/lib/colord /var/lib/systemd/timers
# Not worth persisting (caches, regenerated at every boot); for drift check:
#   --ignore /etc/NIXOS
#   --ignore /etc/group
#   --ignore /etc/passwd
#   --ignore /home/alice/.cache
#   --ignore /tmp
#   --ignore /var/cache
#   --ignore /var/lib/regen
# In persistent storage, declared by nothing: declare again, or move it aside: drift prune --root $DIR/root --persist $DIR/decl.nix (drift prune --undo ID puts it back; drift prune --list shows the IDs):
#   /nix/persist/var/lib/old-app (3 entries, 5.0 MiB)
#   /nix/persist/etc/old-secret (1 entry, 1 B)
# left to you: 3 paths (/home/alice, /home/alice/.config, /var/lib/systemd): homes and directories holding many applications' state, themselves: never suggested whole (what they hold is)
# left to you: 1 path (/etc/ssh): directories on the way to suggested paths, or holding only home-manager's links: made again with them
