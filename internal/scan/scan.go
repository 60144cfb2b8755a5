package scan

// Entry is one path found by Walk. The pointer passed to a Visitor is only
// valid during the call.
type Entry struct {
	// Path is the entry's path relative to the walk root, starting with "/"
	// ("/" for the root itself, "/etc/passwd" below it). Bytes are exactly
	// the bytes of the names on disk.
	Path string
	// Mode is the raw st_mode (type and permission bits, unix.S_IF*).
	Mode  uint32
	Size  int64 // st_size, bytes
	Bytes int64 // st_blocks*512: bytes actually allocated (sparse files)
	Ino   uint64
	Dev   uint64
	Nlink uint64
	Uid   uint32
	Gid   uint32
	// Mtime is the modification time in nanoseconds since the Unix epoch.
	Mtime int64
	// Target is the symlink's target as read by readlink, for symlinks only.
	Target string
}
