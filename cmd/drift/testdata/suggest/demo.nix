# drift suggest for $DIR/root: what to persist, as a NixOS module for impermanence (environment.persistence).
# Save it as $DIR/persist-suggested.nix and add it to the imports of your configuration.
# drift-lint: module (a part of a configuration: drift lint does not look here for what a host lacks)
{
  environment.persistence."/nix/persist" = {
    directories = [
      { directory = "/var/db/sudo/lectured"; user = "root"; group = "root"; mode = "0700"; } # 1, medium
      "/usr/local/bin" # 2, low
    ];
  };
}
# Once saved there, copy what is there now into persistent storage (before the next reboot):
#   drift adopt --root $DIR/root --persist $DIR/impermanence.nix --mountinfo $DIR/mountinfo --persist $DIR/persist-suggested.nix /var/db/sudo/lectured /usr/local/bin
# Not worth persisting (caches, regenerated at every boot); for drift check:
#   --ignore /tmp
#   --ignore /var/cache
#   --ignore /var/tmp
# left to you: 4 paths (/srv/data, /srv/data/app.sqlite, /srv/www, …): declared, but the persistent copy lacks the data (not mounted from it yet, or the data lies beneath its mount): lost at the next boot (deleted with the wiped filesystem, or hidden beneath the copy); drift adopt copies it into the copy; keep them: drift adopt --root $DIR/root --persist $DIR/impermanence.nix --mountinfo $DIR/mountinfo /srv
# left to you: 2 paths (/opt/old-app, /opt/old-app/state.json): mounted from persistent storage, no longer declared: gone from view at the next boot (the data stays in persistent storage); declare the mount point again to keep it in view, or leave it
# left to you: 3 paths (/opt, /usr/local, /var/db): homes and directories holding many applications' state, themselves: never suggested whole (what they hold is)
# left to you: 1 path (/var/db/sudo): directories on the way to suggested paths, or holding only home-manager's links: made again with them
