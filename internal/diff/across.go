package diff

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// HistoryIn compares each item (lost items of an audit of root) with the
// same path in another old root, dir, exactly as Check compares them with
// the previous root (Item.History): HistoryNew when dir lacks the path,
// HistoryChanged when it differs, HistorySame when identical. It is how
// drift suggest --boots looks further back than the previous boot. The
// result is parallel to items; a path that cannot be compared gets
// NoHistory and is counted in failed, first naming the first of them.
// Once ctx is done, the paths not compared yet keep NoHistory, uncounted.
// Errors: root or dir cannot be opened.
func HistoryIn(ctx context.Context, root, dir string, items []*Item, workers int) (hs []History, failed int, first string, err error) {
	liveFD, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, 0, "", fmt.Errorf("%s: %w", root, err)
	}
	defer unix.Close(liveFD)
	prevFD, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, 0, "", fmt.Errorf("%s: %w", dir, err)
	}
	defer unix.Close(prevFD)
	live := func(it *Item) (int, string) { return liveFD, strings.TrimPrefix(it.Path, "/") }
	hs, failed, first = historiesOf(ctx, live, prevFD, items, workers)
	return hs, failed, first, nil
}

// StatIn lstats p (absolute inside root, "/etc/ssh") beneath root, never
// through a symlink in any component (openat2 RESOLVE_BENEATH|
// RESOLVE_NO_SYMLINKS, then fstatat AT_SYMLINK_NOFOLLOW). Absent reports
// whether an error means nothing is there (missing, or a symlink or
// non-directory on the way).
func StatIn(root, p string) (unix.Stat_t, error) {
	var st unix.Stat_t
	rel := strings.TrimPrefix(p, "/")
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return st, err
	}
	defer unix.Close(fd)
	if rel == "" {
		err = unix.Fstat(fd, &st)
	} else {
		err = statBeneath(fd, rel, &st)
	}
	return st, err
}

// Absent reports whether an error of StatIn means that nothing is there.
func Absent(err error) bool { return absent(err) }

// ReadIn reads the regular file p (absolute inside root) beneath root,
// never through a symlink, at most max bytes (more is an error). A missing
// file is (nil, nil).
func ReadIn(root, p string, max int64) ([]byte, error) {
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	data, err := readBounded(fd, strings.TrimPrefix(p, "/"))
	if err == nil && int64(len(data)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", p, max)
	}
	return data, err
}

// OpenDirIn opens the directory p (absolute inside root) beneath root,
// never through a symlink, for reading (O_RDONLY|O_DIRECTORY). The caller
// closes it. ELOOP or EXDEV: a symlink on the way.
func OpenDirIn(root, p string) (int, error) {
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	defer unix.Close(fd)
	rel := strings.TrimPrefix(p, "/")
	if rel == "" {
		rel = "."
	}
	return openAt(fd, rel, unix.O_RDONLY|unix.O_DIRECTORY)
}

// IDNames are a root's user and group names by numeric id, from its
// /etc/passwd and /etc/group, then the ids they lack from
// /var/lib/nixos/uid-map and gid-map (as the ownership check reads them).
type IDNames struct {
	Users, Groups map[uint32]string
}

// ReadIDNames reads root's names (IDNames); problems (unreadable or
// malformed files) are returned as warnings, never as an error.
func ReadIDNames(root string) (IDNames, []Warning) {
	c := &classifier{}
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return IDNames{Users: map[uint32]string{}, Groups: map[uint32]string{}}, []Warning{{Kind: WarnIDs, Path: "/", Message: err.Error()}}
	}
	defer unix.Close(fd)
	h := &hist{c: c}
	db := h.loadIDs(fd, "the audited root")
	return IDNames{Users: db.uid, Groups: db.gid}, c.warnings
}

// ReadlinkIn reads the symlink p (absolute inside root, not root itself)
// beneath root, never through a symlink in a component on the way
// (readlinkBeneath).
func ReadlinkIn(root, p string) (string, error) {
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	return readlinkBeneath(fd, strings.TrimPrefix(p, "/"))
}
