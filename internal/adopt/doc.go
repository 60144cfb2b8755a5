// Package adopt moves live data into persistence: for a path a declaration
// covers, it copies what the ephemeral root holds there (also what lies
// beneath a bind mount that already hides it) into the persistent copy,
// object by object, with restore's copier (metadata, xattrs, hard links,
// symlinks; never through a symlink, never across a mount boundary; each
// missing object appearing whole by one rename). It reads the machine from
// audit.Model (declarations, mount table, ephemeral mounts, the view
// beneath the mount points) and never deletes the live data: the next wipe
// does.
package adopt
