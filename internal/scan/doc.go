// Package scan owns drift's directory walks, both in parallel with
// dirfd-relative system calls, never following a symlink, never opening
// anything but directories (and, for callers that ask, regular files):
// Walk, of one tree, yields one Entry per path to a Visitor; WalkPair, of
// two trees in lockstep, hands each name found in either to a PairVisitor
// (internal/diff's comparison), reading only the directories it queues.
// It also owns the system calls they make on names (Getdents, Fstatat,
// Readlinkat), the filesystem seams of both walks, and the work stack they
// share.
package scan
