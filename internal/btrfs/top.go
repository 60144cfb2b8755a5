package btrfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	dbtrfs "github.com/dennwc/btrfs"
	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/mounts"
	"golang.org/x/sys/unix"
)

// TopLevelID is the subvolume id of a btrfs filesystem's top level.
const TopLevelID = 5

// mountinfoPath is the mount table consulted for mounted subvolumes; tests
// may point it elsewhere.
var mountinfoPath = "/proc/self/mountinfo"

// Top is a handle on the top level (subvolid=5) of one btrfs filesystem,
// mounted at Dir. Close it when done; it is safe to Close more than once and
// from several goroutines.
type Top struct {
	// Dir is the absolute path where the top level is mounted: a private
	// temporary directory for OpenTop, the caller's directory for
	// OpenTopDir.
	Dir string
	// Source is the block device behind the filesystem, as mountinfo has it.
	Source string
	// AfterMutation, when set, is called by Apply after each change it makes
	// to the filesystem (one mkdir, setxattr, rename, subvolume create,
	// snapshot or delete, or read-only flag cleared), with the number of the
	// plan's step making it (from 1) and a few words on what it was. Tests
	// use it to stop a real wipe after each change in turn (drift wipe's
	// DRIFT_TEST_STOP_AFTER).
	AfterMutation func(step int, what string)
	step          int // the step Apply is at, for AfterMutation

	mountID  int           // mountinfo id of the mount at Dir, when table has it (else 0)
	table    *mounts.Table // the mount table MountedIDs reads (the caller's, or read once)
	major    int           // MAJOR:MINOR of the filesystem, as mountinfo has it
	minor    int
	owned    bool
	stop     func() bool
	once     sync.Once
	closeErr error

	mu       sync.Mutex // orders Detach and Close
	detached bool       // Dir is /proc/self/fd/<fd>: see Detach
	fd       int
}

// OpenTop mounts the top level (subvolid=5) of the btrfs filesystem behind
// source — a block device, or any path on a mounted btrfs filesystem (its
// device is looked up in /proc/self/mountinfo) — on a fresh directory made
// with os.MkdirTemp, with private propagation, so that nothing leaks into
// other mount namespaces. Close unmounts it and removes the directory; so
// does cancelling ctx (context.AfterFunc), which covers SIGINT/SIGTERM when
// the caller's context ends on them — a caller that must finish what it is
// doing first (Apply's step in progress) passes context.WithoutCancel and
// stops on its own context. A caller defers Close, which also runs
// during a panic. Errors: source missing, not a block device nor on btrfs,
// a device without a btrfs superblock ("DEV is not a btrfs filesystem"),
// mount(2) failures (EPERM without CAP_SYS_ADMIN), and mount table errors.
//
// table is the live mount table the caller read (audit.LoadMounts before
// filtering), whole and absolute: source's device is looked up in it, and
// MountedIDs reads it. With nil, or when table shows no mount of the
// filesystem (a block device mounted nowhere), OpenTop reads
// /proc/self/mountinfo itself, once, after mounting.
func OpenTop(ctx context.Context, source string, table *mounts.Table) (*Top, error) {
	dev, fs, err := deviceOf(source, table)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "drift-top-")
	if err != nil {
		return nil, err
	}
	// noatime: reading the top level (a wipe's plan, an old root's files)
	// changes nothing in it — an atime update is a change to the subvolume
	// (its ctransid), which tells a fresh root from a used one (freshUnused).
	if err := unix.Mount(dev, dir, "btrfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOATIME, "subvolid=5"); err != nil {
		os.Remove(dir)
		if errors.Is(err, unix.EINVAL) {
			if ok, rerr := hasBtrfsMagic(dev); rerr == nil && !ok {
				return nil, fmt.Errorf("%s is not a btrfs filesystem (no btrfs superblock): name the btrfs partition", dev)
			}
		}
		return nil, fmt.Errorf("mount the top level of %s (subvolid=5): %w", dev, err)
	}
	t := &Top{Dir: dir, Source: dev, owned: true}
	if err := unix.Mount("", dir, "", unix.MS_PRIVATE, ""); err != nil {
		t.Close()
		return nil, fmt.Errorf("make %s private: %w", dir, err)
	}
	if fs != nil {
		// The filesystem's mount in table: the top level just mounted is
		// one of the same filesystem (subvolid=5, btrfs, as mounted above).
		t.table, t.major, t.minor = table, fs.Major, fs.Minor
	} else if err := t.identify(nil); err != nil {
		t.Close()
		return nil, err
	}
	t.stop = context.AfterFunc(ctx, func() { t.Close() })
	return t, nil
}

// OpenTopDir returns a handle on a top level the caller has already mounted
// at dir (mount -o subvolid=5). Close leaves that mount alone. It fails when
// dir is not a mount point of a btrfs top level. table is the live mount
// table the caller read (nil: OpenTopDir reads /proc/self/mountinfo once).
func OpenTopDir(dir string, table *mounts.Table) (*Top, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	t := &Top{Dir: abs}
	if err := t.identify(table); err != nil {
		return nil, err
	}
	return t, nil
}

// identify finds t's own mount in the mount table tab (nil: read once from
// mountinfoPath), checks that it is the top level of a btrfs filesystem and
// keeps tab for MountedIDs.
func (t *Top) identify(tab *mounts.Table) error {
	if tab == nil {
		var err error
		if tab, err = mounts.ReadFile(mountinfoPath); err != nil {
			return err
		}
	}
	m := tab.At(t.Dir)
	if m == nil {
		if _, err := os.Lstat(t.Dir); err != nil {
			return fmt.Errorf("%s: %w (mount the top level there with -o subvolid=5)", t.Dir, errors.Unwrap(err))
		}
		return fmt.Errorf("%s: not a mount point (mount the top level there with -o subvolid=5)", t.Dir)
	}
	if m.FSType != "btrfs" {
		return fmt.Errorf("%s: a %s filesystem, not btrfs", t.Dir, m.FSType)
	}
	if id, _ := m.Option("subvolid"); id != strconv.Itoa(TopLevelID) {
		return fmt.Errorf("%s: mounts subvolume %s, not the top level (subvolid=5)", t.Dir, id)
	}
	t.mountID, t.Source, t.table, t.major, t.minor = m.ID, m.Source, tab, m.Major, m.Minor
	return nil
}

// btrfsMagic is the magic of a btrfs superblock ("_BHRfS_M"), at
// btrfsMagicOffset: the primary superblock is at 64 KiB, its magic 0x40
// bytes in.
const (
	btrfsMagic       = "_BHRfS_M"
	btrfsMagicOffset = 0x10040
)

// hasBtrfsMagic reports whether the device dev carries a btrfs superblock.
// A device too short for one has none.
func hasBtrfsMagic(dev string) (bool, error) {
	f, err := os.Open(dev)
	if err != nil {
		return false, err
	}
	defer f.Close()
	buf := make([]byte, len(btrfsMagic))
	if _, err := f.ReadAt(buf, btrfsMagicOffset); err != nil {
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		return false, err
	}
	return string(buf) == btrfsMagic, nil
}

// deviceOf returns source when it is a block device, else the device of the
// btrfs filesystem that shows the path source, looked up in tab (nil: read
// once from mountinfoPath); and a mount of that filesystem in tab, when it
// has one (nil for a block device tab shows mounted nowhere, or a nil tab).
func deviceOf(source string, tab *mounts.Table) (string, *mounts.Mount, error) {
	fi, err := os.Stat(source)
	if err != nil {
		return "", nil, err
	}
	if fi.Mode()&os.ModeDevice != 0 && fi.Mode()&os.ModeCharDevice == 0 {
		return source, mountOfDevice(tab, source), nil
	}
	abs, err := filepath.Abs(source)
	if err != nil {
		return "", nil, err
	}
	given := tab != nil
	if !given {
		if tab, err = mounts.ReadFile(mountinfoPath); err != nil {
			return "", nil, err
		}
	}
	m := tab.Shows(abs)
	if m == nil || m.FSType != "btrfs" {
		return "", nil, fmt.Errorf("%s: neither a block device nor on a mounted btrfs filesystem", source)
	}
	if !given {
		return m.Source, nil, nil
	}
	return m.Source, m, nil
}

// mountOfDevice is a btrfs mount in tab whose source is the block device
// dev (the same device number), or nil.
func mountOfDevice(tab *mounts.Table, dev string) *mounts.Mount {
	var want unix.Stat_t
	if tab == nil || unix.Stat(dev, &want) != nil {
		return nil
	}
	for i := range tab.Mounts {
		m := &tab.Mounts[i]
		if m.FSType != "btrfs" || !strings.HasPrefix(m.Source, "/") {
			continue
		}
		var st unix.Stat_t
		if unix.Stat(m.Source, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFBLK && uint64(st.Rdev) == uint64(want.Rdev) {
			return m
		}
	}
	return nil
}

// Detach takes a top level that OpenTop mounted out of the mount namespace
// while keeping it readable, like a detached open_tree(2) clone: it opens
// Dir (O_PATH), unmounts it lazily (MNT_DETACH: the mount lives on while
// the descriptor does) and removes the directory. Dir becomes
// /proc/self/fd/N, valid in this process only, so a walk of the namespace
// (drift check walking / while the top level sits in /tmp) never meets the
// whole filesystem there. Afterwards, methods that find the mount in the
// mount table (MountedIDs, and so FindOldRoot) fail; Close closes the
// descriptor. It does nothing for a top level the caller mounted
// (OpenTopDir) or one already detached.
func (t *Top) Detach() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.owned || t.detached {
		return nil
	}
	fd, err := fsys.OpenRoot(t.Dir)
	if err != nil {
		return &os.PathError{Op: "open", Path: t.Dir, Err: err}
	}
	if err := unix.Unmount(t.Dir, unix.MNT_DETACH); err != nil {
		unix.Close(fd)
		return fmt.Errorf("detach %s: %w", t.Dir, err)
	}
	dir := t.Dir
	t.fd, t.detached, t.Dir = fd, true, fmt.Sprintf("/proc/self/fd/%d", fd)
	return os.Remove(dir)
}

// Close unmounts a top level that OpenTop mounted (lazily if it is busy)
// and removes its directory, or closes the descriptor of a detached one.
// It returns the first error and does nothing the second time.
func (t *Top) Close() error {
	t.once.Do(func() {
		if t.stop != nil {
			t.stop()
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		if !t.owned {
			return
		}
		if t.detached {
			t.closeErr = unix.Close(t.fd)
			return
		}
		if err := unix.Unmount(t.Dir, 0); err != nil {
			if err2 := unix.Unmount(t.Dir, unix.MNT_DETACH); err2 != nil {
				t.closeErr = fmt.Errorf("unmount %s: %w", t.Dir, err)
				return
			}
		}
		if err := os.Remove(t.Dir); err != nil {
			t.closeErr = err
		}
	})
	return t.closeErr
}

// Subvolume is one subvolume of the filesystem.
type Subvolume struct {
	// ID is the subvolume id (objectid of its root item, ≥ 256).
	ID uint64 `json:"id"`
	// ParentID is the id of the subvolume whose tree holds it
	// (TopLevelID for one directly in the top level), derived from paths.
	ParentID uint64 `json:"parentId"`
	// Path is relative to the top level, slash-separated ("old_roots/x/srv").
	Path string `json:"path"`
	// Generation is the transaction id of its last change (the root item's
	// ctransid, what `btrfs subvolume show` calls "Generation").
	Generation uint64 `json:"generation"`
	// OTime is its creation time (the root item's otime, read through
	// BTRFS_IOC_TREE_SEARCH by github.com/dennwc/btrfs); zero on
	// filesystems made before otime existed.
	OTime time.Time `json:"otime"`
}

// Subvolumes lists every subvolume of the filesystem but the top level,
// sorted by path. Errors come from the tree search ioctl (EPERM without
// CAP_SYS_ADMIN).
func (t *Top) Subvolumes() ([]Subvolume, error) {
	fs, err := dbtrfs.Open(t.Dir, true)
	if err != nil {
		return nil, err
	}
	defer fs.Close()
	infos, err := fs.ListSubvolumes(nil)
	if err != nil {
		return nil, fmt.Errorf("list subvolumes under %s: %w", t.Dir, err)
	}
	out := make([]Subvolume, 0, len(infos))
	for _, in := range infos {
		out = append(out, Subvolume{ID: in.RootID, Path: strings.Trim(in.Path, "/"), Generation: in.CTransID, OTime: in.OTime})
	}
	slices.SortFunc(out, func(a, b Subvolume) int { return strings.Compare(a.Path, b.Path) })
	for i := range out {
		out[i].ParentID = TopLevelID
		for j := i - 1; j >= 0; j-- { // the nearest enclosing subvolume sorts before
			if within(out[j].Path, out[i].Path) {
				out[i].ParentID = out[j].ID
				break
			}
		}
	}
	return out, nil
}

// within reports whether p is strictly below dir, comparing components.
func within(dir, p string) bool {
	return len(p) > len(dir) && strings.HasPrefix(p, dir) && p[len(dir)] == '/'
}

// Nested returns the subvolumes strictly inside the one at path p (relative
// to the top level), deepest first: each before any subvolume that contains
// it, so deleting them in order never meets a non-empty parent.
func Nested(all []Subvolume, p string) []Subvolume {
	p = strings.Trim(path.Clean("/"+p), "/")
	var out []Subvolume
	for _, s := range all {
		if within(p, s.Path) {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b Subvolume) int {
		if d := strings.Count(b.Path, "/") - strings.Count(a.Path, "/"); d != 0 {
			return d
		}
		return strings.Compare(a.Path, b.Path)
	})
	return out
}

// MountedIDs returns, for each subvolume of this filesystem that is mounted
// anywhere in this mount namespace (other than t's own top-level mount),
// the mount points showing it, as the mount table read when t was opened
// (the caller's, or OpenTop's one read) has them. It compares the subvolid= option of every
// btrfs mount whose MAJOR:MINOR is this filesystem's (so a root renamed
// after it was mounted is still seen as mounted).
func (t *Top) MountedIDs() (map[uint64][]string, error) {
	if t.table == nil {
		return nil, errors.New("the top level's mount table was not read")
	}
	out := map[uint64][]string{}
	for i := range t.table.Mounts {
		m := &t.table.Mounts[i]
		if m.ID == t.mountID || m.Major != t.major || m.Minor != t.minor {
			continue
		}
		v, ok := m.Option("subvolid")
		if !ok {
			continue
		}
		id, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			continue
		}
		out[id] = append(out[id], m.MountPoint)
	}
	return out, nil
}
