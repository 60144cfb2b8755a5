package scan

import (
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

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
	// Worker is the index (0 ≤ Worker < the walk's worker count) of the
	// worker that calls the Visitor with this entry; one worker never runs
	// two Visitor calls at once, so callers may keep per-worker state
	// without locks. The root is visited by worker 0.
	Worker int
	// Target is the symlink's target as read by readlink, for symlinks only.
	Target string
	// Transient is set (with Options.TransientPaths) on an entry that is
	// not a directory: its Path lies in the walk's own buffer, valid only
	// during the Visitor call; a visitor that keeps it keeps a copy.
	Transient bool
	// Replaced is set on the second visit of a Path: the directory Walk
	// was about to read had been replaced by a non-directory (a symlink, a
	// file) between its lstat and its open. This Entry describes what is
	// there now; Walk does not descend into it.
	Replaced bool
	// Twin, on an entry of side B that a lockstep walk of two trees
	// visits (the diff package's comparison of the previous root with the
	// live tree), says how side A's entry at the same path compares;
	// TwinUnknown on every other entry.
	Twin Twin
	// Same, on an entry of side B that a lockstep walk visits, says that
	// side A has an entry at the same path that compares the same (the
	// diff package's WhatChanged: Same); false on every other entry.
	Same bool
}

// Twin is what a lockstep walk saw of side A's entry at the path of an
// Entry of side B (Entry.Twin).
type Twin uint8

const (
	// TwinUnknown: not seen (not a lockstep walk, no entry on side A, or
	// side A could not be read there).
	TwinUnknown Twin = iota
	// TwinSameMtime: side A has an entry there with the same modification
	// time, to the nanosecond.
	TwinSameMtime
	// TwinOtherMtime: side A has an entry there with another modification
	// time.
	TwinOtherMtime
)

// Tally is a directory's state that asks Walk to count its contents instead
// of visiting them: a Visitor returns a *Tally (and descend=true) for a
// directory whose subtree it needs only as a count, such as a directory
// lost whole. Walk then calls no Visitor for anything below that directory.
// It adds each entry below it (at any depth) to Entries, and the st_size of
// each regular file among them to Bytes, in bytes; it reads subdirectories
// with the same Tally, and builds no Entry and no path but directories'.
//
// Below a Tally, Walk does what a visit of every entry would (lstat each
// entry, read each symlink with ReadLinks, check each directory it opens
// against its lstat), so the same entries are counted and the same errors
// go to Options.OnError; except that when the process may search every
// directory (CAP_DAC_READ_SEARCH or CAP_DAC_OVERRIDE: root), only regular
// files and entries of unknown d_type are lstat'ed, for their sizes, and
// the others are counted as the listing's d_type says. An lstat can then
// fail only through the filesystem (an I/O error, corruption), and such an
// entry is counted rather than reported. A Tally is updated concurrently by
// the workers while Walk runs: read it after Walk returns, or atomically
// for progress.
type Tally struct {
	Entries atomic.Int64
	Bytes   atomic.Int64
	// Sockets are the entries among Entries that are sockets (which the
	// caller may not count as data: a socket is made again by the program
	// listening on it).
	Sockets atomic.Int64
	// Skip, when set before Walk reads the directory, is asked of the name
	// of each entry below it: an entry it says true for is neither counted
	// into Entries nor read below (a visit would have stopped there), and
	// its path is kept for Skipped. It is called concurrently.
	Skip    func(name []byte) bool
	skipMu  sync.Mutex
	skipped []string
}

// Skipped are the paths of the entries below t that Skip said true for,
// in no order (Entry.Path's form). Read it after Walk returns.
func (t *Tally) Skipped() []string {
	t.skipMu.Lock()
	defer t.skipMu.Unlock()
	return t.skipped
}

func (t *Tally) skip(p string) {
	t.skipMu.Lock()
	t.skipped = append(t.skipped, p)
	t.skipMu.Unlock()
}

// Visitor is called once per entry, concurrently from several goroutines.
// parent is the state returned for the entry's parent directory (nil for
// the root). For a directory, returning descend=true makes Walk read it;
// its children then receive state. For other entries descend is ignored.
//
// A Path is visited twice only in the race Entry.Replaced describes.
type Visitor func(parent any, e *Entry) (state any, descend bool)

// Options tune Walk. The zero value is ready to use.
type Options struct {
	// Workers is the number of goroutines reading directories; 0 picks
	// DefaultWorkers().
	Workers int
	// OnError is told about per-path trouble (EACCES on a directory, EIO,
	// a directory replaced by another during the walk); it is called
	// concurrently, and nil ignores it. Walk goes on after it. Entries
	// that vanish mid-walk (ENOENT, ENOTDIR) are not errors: they are
	// skipped and counted in Stats.Vanished.
	OnError func(path string, err error)
	// ReadLinks fills Entry.Target for symlinks (readlinkat).
	ReadLinks bool
	// TransientPaths builds the Path of an entry that is not a directory in
	// a buffer each worker reuses (Entry.Transient), not a string of its
	// own: a million entries, a million allocations fewer, for a visitor
	// that keeps few of their paths (or copies them where it packs them).
	TransientPaths bool
}

// Stats counts what one Walk did.
type Stats struct {
	Entries  int64 // Visitor calls
	Dirs     int64 // directories opened and read
	Errors   int64 // OnError calls
	Vanished int64 // entries gone between listing and lstat or open
	Tallied  int64 // entries counted into a Tally instead of visited
}

// DefaultWorkers is the worker count Walk uses when Options.Workers is 0:
// GOMAXPROCS, at least 2. A warm walk is bound by system-call CPU time; on
// 2 cores and a 1M-entry tree, 2 workers beat 3, 4, 6 and 8 (see
// scripts/bench.sh). A cold walk waits on the disk and may gain from more.
func DefaultWorkers() int {
	return max(runtime.GOMAXPROCS(0), 2)
}

// Vanished reports whether err, of a system call on a name found by a
// walk, means the name is gone or no longer where it was: ENOENT, or
// ENOTDIR (a directory on the way replaced by a file).
func Vanished(err error) bool { return err == unix.ENOENT || err == unix.ENOTDIR }
