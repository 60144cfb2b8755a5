// Package knowledge is drift's catalogue of known application state
// (knowledge.json, embedded): paths such as /var/lib/bluetooth with what
// they hold, whether to persist or ignore them, and where that comes from.
// drift suggest weighs and rolls up lost paths with it; the audit reads it
// for one fact every command shares: a path the catalogue marks as state
// to persist is never called regenerated (diff.Regen). It also says where
// homes are, which its "~/" paths are matched in: HomeOf (the model's
// homes, /root, /home/NAME), CheckHome (never / nor a directory of the
// system's state, SystemContainers).
package knowledge
