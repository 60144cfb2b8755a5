package safefile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/units"
	"golang.org/x/sys/unix"
)

// Flags are the open flags of every input: read-only, not inherited by a
// child (O_CLOEXEC), never made the controlling terminal (O_NOCTTY), and
// O_NONBLOCK, so that opening a FIFO returns at once instead of waiting for
// a writer (the file type is then checked by FromFD).
const Flags = unix.O_RDONLY | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC

// NotRegularError is an input that is not a regular file.
type NotRegularError struct {
	Name string // as given, unescaped
	Type string // "fifo", "socket", "character device", "block device", "directory", "symlink"
}

// Error is "NAME: a fifo, not a regular file", NAME escaped (escape.Name).
func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s: a %s, not a regular file", escape.Name(e.Name), e.Type)
}

// TypeName names the file type in mode (st_mode) as messages say it.
func TypeName(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return "regular file"
	case unix.S_IFDIR:
		return "directory"
	case unix.S_IFLNK:
		return "symlink"
	case unix.S_IFIFO:
		return "fifo"
	case unix.S_IFSOCK:
		return "socket"
	case unix.S_IFCHR:
		return "character device"
	case unix.S_IFBLK:
		return "block device"
	}
	return "file of unknown type"
}

// Open opens the regular file name for reading with Flags and extra (say
// O_NOFOLLOW), then checks it (FromFD). Errors: *os.PathError from open(2)
// (its Path escaped), *NotRegularError.
func Open(name string, extra int) (*os.File, unix.Stat_t, error) {
	var fd int
	var err error
	for {
		fd, err = unix.Open(name, Flags|extra, 0)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if errors.Is(err, unix.ENXIO) {
		// A socket cannot be opened: say what it is (O_PATH can).
		fd, err = unix.Open(name, unix.O_PATH|unix.O_CLOEXEC|extra, 0)
	}
	if err != nil {
		return nil, unix.Stat_t{}, &os.PathError{Op: "open", Path: escape.Name(name), Err: err}
	}
	return FromFD(fd, name)
}

// FromFD takes over fd, an input the caller opened (with Flags, beneath a
// directory say): it returns it as a file named name when fstat(2) says it
// is a regular file, with that stat; otherwise it closes fd and returns
// *NotRegularError (or fstat's error).
func FromFD(fd int, name string) (*os.File, unix.Stat_t, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, st, &os.PathError{Op: "fstat", Path: escape.Name(name), Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, st, &NotRegularError{Name: name, Type: TypeName(st.Mode)}
	}
	return os.NewFile(uintptr(fd), name), st, nil
}

// TooLargeError is an input longer than the limit its reader sets.
type TooLargeError struct {
	Name  string
	Limit int64  // bytes
	What  string // what the input should be ("a declaration file"), or ""
}

// Error is "NAME: larger than 64 MiB[: not WHAT]", NAME escaped.
func (e *TooLargeError) Error() string {
	size := units.Bytes(e.Limit)
	if e.Limit%(1<<20) == 0 {
		size = fmt.Sprintf("%d MiB", e.Limit>>20)
	}
	msg := fmt.Sprintf("%s: larger than %s", escape.Name(e.Name), size)
	if e.What != "" {
		msg += ": not " + e.What
	}
	return msg
}

// ReadFile opens name (Open) and reads it whole (ReadAll): at most limit
// bytes, else *TooLargeError.
func ReadFile(ctx context.Context, name string, limit int64) ([]byte, error) {
	f, _, err := Open(name, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAll(ctx, f, Limit{Name: name, Max: limit})
}

// Limit names an input and bounds it, for ReadAll.
type Limit struct {
	Name string // the input's name in errors
	Max  int64  // bytes
	What string // what it should be, for *TooLargeError ("" for nothing)
}

// chunk is how much ReadAll reads between two looks at its context.
const chunk = 256 << 10

// ReadAll reads r (named l.Name in errors) to its end, at most l.Max bytes
// (more is *TooLargeError), and gives up with ctx's error once ctx is done,
// even while a read is blocked (standard input that a writer keeps open
// and silent, a stalled network file system): the reads run on their own
// goroutine, which a blocked read leaves behind until it returns. Read
// errors are "NAME: error".
func ReadAll(ctx context.Context, r io.Reader, l Limit) ([]byte, error) {
	name, limit := l.Name, l.Max
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	stop := make(chan struct{})
	// A regular file is read into one buffer of its size (and room to see
	// its end), not grown into: 20 MB read make no 80 MB of garbage.
	var size int64 = -1
	if st, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := st.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() <= limit {
			size = fi.Size()
		}
	}
	go func() {
		var buf []byte
		if size >= 0 {
			buf = make([]byte, 0, size+chunk/4+1)
		}
		for {
			select {
			case <-stop:
				done <- result{nil, context.Canceled}
				return
			default:
			}
			if int64(len(buf)) > limit {
				done <- result{nil, &TooLargeError{Name: name, Limit: limit, What: l.What}}
				return
			}
			if cap(buf)-len(buf) < chunk/4 {
				buf = append(buf, make([]byte, chunk)...)[:len(buf)]
			}
			want := min(cap(buf)-len(buf), chunk, int(limit+1-int64(len(buf))))
			n, err := r.Read(buf[len(buf) : len(buf)+want])
			buf = buf[:len(buf)+n]
			if errors.Is(err, io.EOF) {
				if int64(len(buf)) > limit {
					done <- result{nil, &TooLargeError{Name: name, Limit: limit, What: l.What}}
					return
				}
				done <- result{buf, nil}
				return
			}
			if err != nil && !errors.Is(err, unix.EINTR) {
				done <- result{nil, fmt.Errorf("%s: %w", escape.Name(name), err)}
				return
			}
		}
	}()
	select {
	case res := <-done:
		return res.data, res.err
	case <-ctx.Done():
		close(stop)
		return nil, ctx.Err()
	}
}

// Reader wraps r so that a Read returns ctx's error once ctx is done (for
// readers that parse as they read: a signal stops them between two reads).
func Reader(ctx context.Context, r io.Reader) io.Reader { return &ctxReader{ctx, r} }

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// ReadBeneath reads the regular file rel (relative to dirFD, no leading
// "/") whole, at most limit bytes: opened beneath dirFD with no symlink
// followed on the way or at the end, without blocking on a fifo and
// leaving its access time as it was (fsys.OpenRead), checked to be a
// regular file (FromFD), read by ReadAll (no context: a regular file's
// read ends). Errors: fsys.OpenRead's unix.Errno, unwrapped (ENOENT: it
// is missing); *NotRegularError and *TooLargeError naming rel; read
// errors "REL: error".
func ReadBeneath(dirFD int, rel string, limit int64) ([]byte, error) {
	fd, err := fsys.OpenRead(dirFD, rel)
	if err != nil {
		return nil, err
	}
	f, _, err := FromFD(fd, rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAll(context.Background(), f, Limit{Name: rel, Max: limit})
}

// ReadIn is ReadBeneath of p (absolute inside root, "/etc/machine-id")
// beneath the directory root (fsys.OpenRoot). Errors: fsys.OpenRoot's,
// ReadBeneath's (naming p without its leading "/").
func ReadIn(root, p string, limit int64) ([]byte, error) {
	fd, err := fsys.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	return ReadBeneath(fd, strings.TrimPrefix(p, "/"), limit)
}
