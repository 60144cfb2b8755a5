// Package scan walks a directory tree in parallel with dirfd-relative system
// calls: it never follows a symlink, never opens anything but directories
// (and, for callers that ask, regular files), and yields one Entry per path.
package scan
