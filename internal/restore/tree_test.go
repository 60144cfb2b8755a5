package restore

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/testutil"
)

// The fixtures: a literal tree created under t.TempDir().

type node interface{ create(t *testing.T, p string) }

// Dir is a directory with entries, created with Mode, owned by UID:GID.
type Dir struct {
	Mode     os.FileMode
	UID, GID int
	MTime    time.Time
	Entries  map[string]node
}

// File is a regular file. Xattrs are user.* attributes (skipped where the
// filesystem refuses them: see xattrsWork).
type File struct {
	Content  string
	Mode     os.FileMode
	UID, GID int
	MTime    time.Time
	Xattrs   map[string]string
}

// Symlink is a symlink to Target.
type Symlink struct{ Target string }

// Hardlink is another name of the file at Of (relative to the link's
// directory, created earlier: entries are created in name order).
type Hardlink struct{ Of string }

// Fifo is a named pipe.
type Fifo struct{}

// Socket is a unix socket's name, bound by no process.
type Socket struct{}

var fixedTime = time.Date(2026, 11, 5, 9, 3, 7, 123456789, time.UTC)

func (d Dir) create(t *testing.T, p string) {
	t.Helper()
	if err := os.Mkdir(p, 0o700); err != nil {
		t.Fatal(err)
	}
	d.fill(t, p)
}

// fill creates d's entries in the directory p, then gives p d's owner,
// mode and time.
func (d Dir) fill(t *testing.T, p string) {
	t.Helper()
	names := make([]string, 0, len(d.Entries))
	for n := range d.Entries {
		names = append(names, n)
	}
	slices.Sort(names) // hard links after their targets: name them so
	for _, n := range names {
		d.Entries[n].create(t, filepath.Join(p, n))
	}
	testutil.Must(t, os.Lchown(p, d.UID, d.GID))
	testutil.Must(t, os.Chmod(p, orDefault(d.Mode, 0o755)))
	setTime(t, p, d.MTime)
}

func (f File) create(t *testing.T, p string) {
	t.Helper()
	testutil.Must(t, os.WriteFile(p, []byte(f.Content), 0o600))
	testutil.Must(t, os.Lchown(p, f.UID, f.GID))
	testutil.Must(t, os.Chmod(p, orDefault(f.Mode, 0o644)))
	for k, v := range f.Xattrs {
		testutil.Must(t, unix.Lsetxattr(p, k, []byte(v), 0))
	}
	setTime(t, p, f.MTime)
}

func (s Symlink) create(t *testing.T, p string) { testutil.Must(t, os.Symlink(s.Target, p)) }

func (h Hardlink) create(t *testing.T, p string) {
	testutil.Must(t, os.Link(filepath.Join(filepath.Dir(p), h.Of), p))
}

func (Fifo) create(t *testing.T, p string) { testutil.Must(t, unix.Mkfifo(p, 0o644)) }

func (Socket) create(t *testing.T, p string) { testutil.Must(t, unix.Mknod(p, unix.S_IFSOCK|0o644, 0)) }

func orDefault(m, d os.FileMode) os.FileMode {
	if m == 0 {
		return d
	}
	return m
}

func setTime(t *testing.T, p string, mt time.Time) {
	if mt.IsZero() {
		mt = fixedTime
	}
	ts := []unix.Timespec{unix.NsecToTimespec(mt.Add(-time.Hour).UnixNano()), unix.NsecToTimespec(mt.UnixNano())}
	testutil.Must(t, unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW))
}

// xattrsWork says whether dir's filesystem keeps user.* attributes.
func xattrsWork(t *testing.T, dir string) bool {
	p := filepath.Join(dir, ".xattr-probe")
	testutil.Must(t, os.WriteFile(p, nil, 0o600))
	defer os.Remove(p)
	return unix.Lsetxattr(p, "user.probe", []byte("1"), 0) == nil
}

// snapshot describes every object under top: what a restore must keep.
type object struct {
	Type     string
	Mode     uint32
	UID, GID uint32
	Size     int64
	MTime    int64
	ATime    int64
	Content  string
	Target   string
	Xattrs   string
	LinkedTo string // for the second and later names of a file: the first
}

func snapshot(t *testing.T, top string) map[string]object {
	t.Helper()
	out := map[string]object{}
	first := map[[2]uint64]string{}
	err := filepath.WalkDir(top, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(top, p)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		o := object{Mode: st.Mode, UID: st.Uid, GID: st.Gid, MTime: st.Mtim.Nano()}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			o.Type = "dir"
		case unix.S_IFLNK:
			o.Type = "symlink"
			o.Target, _ = os.Readlink(p)
		case unix.S_IFREG:
			o.Type = "file"
			o.Size = st.Size
			o.ATime = st.Atim.Nano()
			if st.Size < 1<<16 {
				b, _ := os.ReadFile(p)
				o.Content = string(b)
			}
			if st.Nlink > 1 {
				k := [2]uint64{uint64(st.Dev), st.Ino}
				if f, ok := first[k]; ok {
					o.LinkedTo = f
				} else {
					first[k] = rel
				}
			}
			buf := make([]byte, 4096)
			if n, err := unix.Llistxattr(p, buf); err == nil && n > 0 {
				var kv []string
				for _, name := range strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00") {
					v := make([]byte, 4096)
					m, _ := unix.Lgetxattr(p, name, v)
					kv = append(kv, name+"="+string(v[:max(m, 0)]))
				}
				slices.Sort(kv)
				o.Xattrs = strings.Join(kv, ",")
			}
		default:
			o.Type = "other"
		}
		out[rel] = o
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return out
}
