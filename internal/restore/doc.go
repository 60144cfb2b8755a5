// Package restore copies a file or directory tree from an old root back into
// persistent storage or the live root, keeping its metadata, atomically, and
// never through a symlink.
package restore
