// Package prune moves the stray data of the persistent storage paths —
// what no declaration covers and nothing uses, as drift suggest lists it
// (suggest.Stray over the audit.Model) — into a quarantine on the same
// filesystem, puts it back (undo), lists it, and empties it of batches
// older than an age: the only deletion drift does outside the wipe.
//
// A move is one rename(2) of the stray into <storage path>/.drift-quarantine/ID/N:
// nothing is copied, nothing deleted, inode, times, mode, owner and xattrs
// stay as they were. The batch's manifest (manifest.json: each object's
// original path, size, why it was a stray) is written and synced before the
// first rename, so an interruption leaves every object either in place or
// in the quarantine and listed: where an object is, is what the filesystem
// says (ID/N present or not), never a state kept beside it. Every name is
// opened beneath the storage path with openat2(RESOLVE_BENEATH|
// RESOLVE_NO_SYMLINKS|RESOLVE_NO_XDEV): no symlink is followed, no mount
// crossed.
package prune
