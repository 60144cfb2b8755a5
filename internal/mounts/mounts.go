package mounts

// Mount is one row of mountinfo (proc(5)), with escapes (\040 \011 \012
// \134) decoded.
type Mount struct {
	ID, Parent   int
	Major, Minor int
	// Root is the path inside the filesystem that is mounted here: "/" for a
	// whole filesystem, the bind source for a bind mount (for btrfs, the
	// subvolume path, e.g. "/persist/etc/ssh").
	Root string
	// MountPoint is absolute and clean; after Table.Relative it is relative to
	// the audited root, which is then "/".
	MountPoint   string
	Options      string
	Optional     []string
	FSType       string
	Source       string
	SuperOptions string
	// Line is the 1-based line of mountinfo this mount was read from.
	Line int
}

// Table is a parsed mount table in mount order (the order of mountinfo).
type Table struct {
	Mounts []Mount
}
