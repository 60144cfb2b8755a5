package btrfs

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Kind is what an entry of old_roots is.
type Kind string

// The kinds of old_roots entries. Only KindSubvolume is ever deleted.
const (
	KindSubvolume Kind = "subvolume" // a verified subvolume directly in old_roots
	KindDir       Kind = "directory" // a plain directory: left alone
	KindSymlink   Kind = "symlink"   // a symbolic link: left alone, never followed
	KindOther     Kind = "other"     // anything else: left alone
)

// Extended attributes drift sets (user namespace, on the subvolume's root
// directory; they change its ctime, never its mtime, so the seed's naming
// is unaffected).
const (
	// XattrRetired records a retirement: the boot (kernel boot_id, "" when
	// unknown) that retired a root, the --subvol it was retired from, and
	// when, in Unix seconds by the clock of that boot, one per line
	// ("BOOTID\nroot\n1796540400"). Older drift wrote the first line alone,
	// or the first two.
	XattrRetired = "user.drift.retired-boot"
	// XattrCreated records the boot that created a fresh root.
	XattrCreated = "user.drift.created-boot"
)

// OldRoot is one entry directly inside the old_roots directory: the one
// type for an old root, from the listing drift wipe and drift roots plan
// with to the previous boot's root drift check compares with and the old
// roots drift suggest weighs.
type OldRoot struct {
	// Name is the entry's name in old_roots; Path is relative to the top
	// level ("old_roots/2026-11-5_09:03:07").
	Name string `json:"name"`
	Path string `json:"path"`
	Kind Kind   `json:"kind"`
	// ID is the subvolume id (KindSubvolume only).
	ID uint64 `json:"id,omitempty"`
	// Parsed is true when Name is an old-root name (ParseName); Seq is then
	// its collision suffix.
	Parsed bool `json:"parsed"`
	Seq    int  `json:"seq,omitempty"`
	// Time orders old roots: the time in the name, else the subvolume's
	// creation time, else its mtime.
	Time time.Time `json:"time"`
	// Age is the moment the age is counted from: when drift retired it
	// (RetiredAt) for a root drift retired, else the seed's `find -mtime`
	// rule — the time in the name (the root's mtime at retirement), else the
	// entry's mtime. Never before the time in the name: a retirement
	// recorded earlier than the root's last change was made by a clock that
	// was behind. A timestamp, hence "ageFrom" in JSON (the age in days is
	// Decision.AgeDays).
	Age time.Time `json:"ageFrom"`
	// MTime is the entry's own mtime (lstat), OTime its creation time (zero
	// unless a subvolume).
	MTime time.Time `json:"mtime"`
	OTime time.Time `json:"otime"`
	// Nested lists the subvolumes inside it, deepest first.
	Nested []Subvolume `json:"nested,omitempty"`
	// Mounted lists mount points in this namespace that show it or one of
	// its nested subvolumes.
	Mounted []string `json:"mounted,omitempty"`
	// RetiredBoot is the boot_id in XattrRetired, "" without one.
	RetiredBoot string `json:"retiredBoot,omitempty"`
	// RetiredFrom is the subvolume (--subvol) XattrRetired says it was
	// retired from, "" when the mark does not say.
	RetiredFrom string `json:"retiredFrom,omitempty"`
	// NotRoot, for an entry with an old-root name, says why it does not
	// look like a root (rootLike: no drift mark, none of the directories
	// every booted root has, and files of its own — a home snapshot named
	// by its date); "" when it does. Such an entry is neither deleted by
	// drift wipe nor ever the previous boot's root (PastBoot).
	NotRoot string `json:"notRoot,omitempty"`
	// RetiredAt is when XattrRetired says drift retired it (second
	// resolution, in the location names are read in); zero for a root drift
	// did not retire, or retired before drift recorded the time.
	RetiredAt time.Time `json:"retiredAt,omitzero"`
	// Dir is the absolute directory it is read through while drift runs:
	// Path joined to the detached top level's mount (LazyTop.Join) for a
	// root found in the top level, else Path. "" until the finder of old
	// roots (internal/audit) sets it.
	Dir string `json:"-"`
	// From, when set, is what drift restore --from takes to read it (a
	// directory named with --old-roots DIR); "" means Name (RestoreFrom).
	From string `json:"-"`
}

// RestoreFrom is the --from value that makes drift restore read r: its
// From when set, else its name.
func (r *OldRoot) RestoreFrom() string {
	if r.From != "" {
		return r.From
	}
	return r.Name
}

// managed reports whether r is an old root drift manages: a subvolume whose
// name is an old-root name (ParseName). Any other entry of old_roots is left
// alone by wipe, and never picked as the latest or previous root.
func (r OldRoot) managed() bool { return r.Kind == KindSubvolume && r.Parsed }

// resolveTime fills Parsed, Seq, Time and Age from Name, OTime, MTime and
// RetiredAt.
func (r *OldRoot) resolveTime(loc *time.Location) {
	if n, err := ParseName(r.Name, loc); err == nil {
		r.Parsed, r.Seq, r.Time, r.Age = true, n.Seq, n.Time, n.Time
	} else {
		r.Time, r.Age = r.OTime, r.MTime
		if r.Time.IsZero() {
			r.Time = r.MTime
		}
	}
	if r.RetiredAt.After(r.Age) {
		r.Age = r.RetiredAt
	}
}

// SortOldRoots orders roots oldest first by real time (OldRoot.Time), then
// by collision suffix, then by name; never by name alone (2026-11-10 comes
// after 2026-11-9).
func SortOldRoots(roots []OldRoot) {
	slices.SortStableFunc(roots, compareOldRoots)
}

func compareOldRoots(a, b OldRoot) int {
	if c := a.Time.Compare(b.Time); c != 0 {
		return c
	}
	if a.Seq != b.Seq {
		return a.Seq - b.Seq
	}
	return strings.Compare(a.Name, b.Name)
}

// OldRoots lists the entries of the directory dir (relative to the top
// level) in chronological order (SortOldRoots), with subvolumes verified
// against subs (as from Subvolumes) and mounts (as from MountedIDs). A
// missing dir is no error: it yields nothing. Names are parsed in loc.
func (t *Top) OldRoots(dir string, subs []Subvolume, mounted map[uint64][]string, loc *time.Location) ([]OldRoot, error) {
	dir = strings.Trim(path.Clean("/"+dir), "/")
	ents, err := os.ReadDir(filepath.Join(t.Dir, dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	byPath := map[string]Subvolume{}
	for _, s := range subs {
		byPath[s.Path] = s
	}
	var out []OldRoot
	for _, e := range ents {
		r := OldRoot{Name: e.Name(), Path: dir + "/" + e.Name()}
		full := filepath.Join(t.Dir, r.Path)
		ino, err := r.lstat(full, loc)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if s, ok := byPath[r.Path]; ok && r.Kind == KindDir && ino == RootIno {
			r.Kind, r.ID, r.OTime = KindSubvolume, s.ID, s.OTime.In(loc)
			r.Nested = Nested(subs, r.Path)
			r.Mounted = append(r.Mounted, mounted[s.ID]...)
			for _, n := range r.Nested {
				r.Mounted = append(r.Mounted, mounted[n.ID]...)
			}
			r.RetiredBoot, r.RetiredFrom, r.RetiredAt = parseRetiredMark(getxattr(full, XattrRetired), loc)
		}
		r.resolveTime(loc)
		r.judgeRootLike(full)
		out = append(out, r)
	}
	SortOldRoots(out)
	return out, nil
}

// judgeRootLike sets r.NotRoot (rootLike of full, r read through full) for
// an entry with an old-root name that is a subvolume (what a wipe retires;
// a plain directory named with --old-roots DIR is taken as it is).
func (r *OldRoot) judgeRootLike(full string) {
	if r.Parsed && r.Kind == KindSubvolume {
		r.NotRoot = rootLike(full)
	}
}

// lstat sets r's Kind (KindDir, KindSymlink or KindOther) and MTime (in
// loc) from an lstat of full, and returns its inode number (RootIno at the root
// of a subvolume). Errors are *os.PathError; one that is fs.ErrNotExist
// means the entry vanished since it was listed.
func (r *OldRoot) lstat(full string, loc *time.Location) (ino uint64, err error) {
	var st unix.Stat_t
	if err := unix.Lstat(full, &st); err != nil {
		return 0, &os.PathError{Op: "lstat", Path: full, Err: err}
	}
	r.MTime = time.Unix(st.Mtim.Unix()).In(loc)
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		r.Kind = KindSymlink
	case unix.S_IFDIR:
		r.Kind = KindDir
	default:
		r.Kind = KindOther
	}
	return st.Ino, nil
}

// getxattr returns the value of the extended attribute name of path (not
// following a symlink), or "".
func getxattr(p, name string) string {
	buf := make([]byte, 128)
	n, err := unix.Lgetxattr(p, name, buf)
	if err != nil || n < 0 {
		return ""
	}
	return string(buf[:n])
}

// retiredMark is the value of XattrRetired for a root retired by the boot
// bootID from the subvolume from at the moment at.
func retiredMark(bootID, from string, at time.Time) string {
	return bootID + "\n" + from + "\n" + strconv.FormatInt(at.Unix(), 10)
}

// parseRetiredMark reads a value of XattrRetired (retiredMark, or what
// older drift wrote: the boot alone, or the boot and the subvolume). A time
// that is not a decimal number of seconds is left zero.
func parseRetiredMark(v string, loc *time.Location) (boot, from string, at time.Time) {
	boot, rest, _ := strings.Cut(v, "\n")
	from, secs, ok := strings.Cut(rest, "\n")
	if ok && isDigits(secs) && len(secs) <= 12 {
		n, _ := strconv.ParseInt(secs, 10, 64)
		at = time.Unix(n, 0).In(loc)
	}
	return boot, from, at
}
