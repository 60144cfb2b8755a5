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
	// Dir is the absolute path the top level is reached by:
	// /proc/self/fd/N, the descriptor of its detached mount, for OpenTop
	// (valid in this process only); the caller's directory for OpenTopDir.
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

	mountID  int           // mountinfo id of the mount at Dir (OpenTopDir; else 0)
	table    *mounts.Table // the mount table MountedIDs reads (the caller's, or read once)
	major    int           // MAJOR:MINOR of the filesystem, as mountinfo has it (-1: mounted nowhere)
	minor    int
	owned    bool // OpenTop's: fd is its detached mount, Dir /proc/self/fd/<fd>
	fd       int
	stop     func() bool
	once     sync.Once
	closeErr error
}

// OpenTop mounts the top level (subvolid=5) of the btrfs filesystem behind
// source — a block device, or any path on a mounted btrfs filesystem (its
// device is looked up in the mount table) — detached: a mount in no mount
// namespace, held by one descriptor of this process (fsopen(2),
// fsconfig(2), fsmount(2); detachedMount). Dir is /proc/self/fd/N, valid
// in this process only. Nothing is attached anywhere and no directory is
// made: however the process ends — a SIGKILL included — the kernel closes
// the descriptor and the mount is gone with it, and no walk of the
// namespace (drift check walking /) ever meets the whole filesystem.
// Where that API is missing (Linux before 5.2, or a seccomp filter
// refusing it) the top level is mounted on a private temporary directory
// and detached at once (legacyDetached). Close closes the descriptor; so
// does cancelling ctx (context.AfterFunc), which covers SIGINT/SIGTERM
// when the caller's context ends on them — a caller that must finish what
// it is doing first (Apply's step in progress) passes
// context.WithoutCancel and stops on its own context. A caller defers
// Close, which also runs during a panic. Errors: source missing, not a
// block device nor on btrfs, a device without a btrfs superblock ("DEV is
// not a btrfs filesystem"), mount failures (EPERM without CAP_SYS_ADMIN),
// and mount table errors.
//
// table is the live mount table the caller read (audit.LoadMounts before
// filtering), whole and absolute: source's device is looked up in it, and
// MountedIDs reads it (the mounts of the filesystem's subvolumes in this
// namespace). With nil, OpenTop reads /proc/self/mountinfo, once.
func OpenTop(ctx context.Context, source string, table *mounts.Table) (*Top, error) {
	if table == nil {
		var err error
		if table, err = mounts.ReadFile(mountinfoPath); err != nil {
			return nil, err
		}
	}
	dev, fs, err := deviceOf(source, table)
	if err != nil {
		return nil, err
	}
	fd, err := detachedMount(dev)
	if err != nil {
		if errors.Is(err, unix.EINVAL) {
			if ok, rerr := hasBtrfsMagic(dev); rerr == nil && !ok {
				return nil, fmt.Errorf("%s is not a btrfs filesystem (no btrfs superblock): name the btrfs partition", dev)
			}
		}
		return nil, fmt.Errorf("mount the top level of %s (subvolid=5): %w", dev, err)
	}
	// The filesystem's mounts in table are those of its superblock's
	// MAJOR:MINOR; a filesystem mounted nowhere has none (-1 matches none).
	t := &Top{Dir: fmt.Sprintf("/proc/self/fd/%d", fd), Source: dev, owned: true, fd: fd, table: table, major: -1, minor: -1}
	if fs != nil {
		t.major, t.minor = fs.Major, fs.Minor
	}
	t.stop = context.AfterFunc(ctx, func() { t.Close() })
	killHook()
	return t, nil
}

// topFlags are the top level's mount flags: nosuid, nodev, and noatime —
// reading the top level (a wipe's plan, an old root's files) changes
// nothing in it: an atime update is a change to the subvolume (its
// ctransid), which tells a fresh root from a used one (freshUnused).
const topFlags = unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOATIME

// detachedMount mounts the top level of the btrfs filesystem on the block
// device dev as a detached mount and returns its descriptor (close-on-exec):
// fsopen, fsconfig source= and subvolid=5, fsmount with topFlags. Where
// fsopen is missing (ENOSYS) or refused (EPERM: a seccomp filter, or no
// privilege, which the legacy mount then reports) it falls back to
// legacyDetached.
func detachedMount(dev string) (int, error) {
	fsfd, err := unix.Fsopen("btrfs", unix.FSOPEN_CLOEXEC)
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) {
		return legacyDetached(dev)
	}
	if err != nil {
		return -1, &os.SyscallError{Syscall: "fsopen", Err: err}
	}
	defer unix.Close(fsfd)
	if err := unix.FsconfigSetString(fsfd, "source", dev); err != nil {
		return -1, &os.SyscallError{Syscall: "fsconfig source", Err: err}
	}
	if err := unix.FsconfigSetString(fsfd, "subvolid", strconv.Itoa(TopLevelID)); err != nil {
		return -1, &os.SyscallError{Syscall: "fsconfig subvolid", Err: err}
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return -1, err
	}
	fd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, topFlags)
	if err != nil {
		return -1, &os.SyscallError{Syscall: "fsmount", Err: err}
	}
	return fd, nil
}

// legacyDetached is detachedMount by mount(2): the top level is mounted on
// a fresh private directory (os.MkdirTemp, "drift-top-"), opened, unmounted
// lazily (MNT_DETACH: the mount lives on while the descriptor does) and the
// directory removed — attached for those few system calls only.
func legacyDetached(dev string) (int, error) {
	dir, err := os.MkdirTemp("", "drift-top-")
	if err != nil {
		return -1, err
	}
	defer os.Remove(dir)
	if err := unix.Mount(dev, dir, "btrfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOATIME, "subvolid=5"); err != nil {
		return -1, err
	}
	defer unix.Unmount(dir, unix.MNT_DETACH)
	if err := unix.Mount("", dir, "", unix.MS_PRIVATE, ""); err != nil {
		return -1, fmt.Errorf("make %s private: %w", dir, err)
	}
	fd, err := fsys.OpenRoot(dir)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	return fd, nil
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
// btrfs filesystem that shows the path source, looked up in tab; and a
// mount of that filesystem in tab, when it has one (nil for a block device
// tab shows mounted nowhere).
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
	m := tab.Shows(abs)
	if m == nil || m.FSType != "btrfs" {
		return "", nil, fmt.Errorf("%s: neither a block device nor on a mounted btrfs filesystem", source)
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

// Close closes the descriptor of a top level OpenTop mounted (the mount
// goes with the last descriptor on it); a top level the caller mounted
// (OpenTopDir) is left alone. It returns the first error and does nothing
// the second time.
func (t *Top) Close() error {
	t.once.Do(func() {
		if t.stop != nil {
			t.stop()
		}
		if t.owned {
			t.closeErr = unix.Close(t.fd)
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
