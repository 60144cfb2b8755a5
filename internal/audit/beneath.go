package audit

import (
	"bytes"
	"context"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/scan"
	"golang.org/x/sys/unix"
)

// Was the persistent copy mounted over a declared path at an old root's
// boot? Its birth time before that boot ended says only that it existed
// then: a copy that exists is bind-mounted at every boot by impermanence
// and preservation when the declaration is active, but a declaration not
// yet switched to, or a mount that failed, leaves the declared path on the
// root (check's declared-unbacked), and the wipe takes what the boot wrote
// there. The old root tells the two apart. A bind mount hides the root's
// directory at the declared path and sends every write to the copy, and
// the root is made anew at every boot, so at a boot that showed the copy
// the old root holds at the declared path only the mount point the boot
// made: an empty directory, or an empty file. Anything more there was
// written while the copy was not mounted over it: the copy was not in use
// (or only from part-way through the boot, when a switch mounted it). So:
//
//   - the old root holds at the declared path nothing but the mount point:
//     the copy was mounted; refused (that boot's data is in the copy);
//   - it holds data there, and the copy lacks the path restored (or holds
//     only an empty file or directory there): restored, nothing is
//     overwritten and nothing duplicated;
//   - it holds data there and the copy holds the path too: refused when
//     the copy's holds the same bytes (Same) or was changed no earlier
//     than the old root's (Newer: the newest modification time at or below
//     the path on each side, so data a mount made part-way through the
//     boot took in is never replaced by what lay beneath it; a tie, as
//     coarse file timestamps give, refuses); else the old root's is the
//     newer, and drift restore --force replaces the older copy.

// mountedThen is pe, the refusal the birth time of a copy that existed
// before the old root's boot ended gives, when the old root and the copy
// confirm it (above); nil when the old root holds data at the declared
// path and restoring pe.Path replaces nothing newer and duplicates
// nothing. With no old root to look at, pe.
func (m *Model) mountedThen(pe *PersistedError) *PersistedError {
	if m.From == nil || m.From.Dir == "" {
		return pe
	}
	if kind, empty := emptyAt(m.From.Dir, pe.Decl.Path); kind == "" || empty {
		return pe // only what a mount point leaves
	}
	return m.unmountedThen(pe)
}

// unmountedThen is pe for a declared path whose copy was not mounted over
// it at the old root's boot, so that what the old root holds at pe.Path is
// that boot's data: nil (restore it) when the copy lacks it or holds
// older, other data (ReplacesCopy); pe, Unmounted, when the copy holds
// the same bytes (Same) or data changed no earlier (Newer).
func (m *Model) unmountedThen(pe *PersistedError) *PersistedError {
	pe.Unmounted = true
	pe.Dest = path.Join(pe.Copy, strings.TrimPrefix(pe.Path, pe.Decl.Path))
	if kind, empty := emptyAt(m.Root, pe.Dest); kind == "" || empty {
		return nil // the copy lacks it: the wipe took it
	}
	if sameFile(m.From.Dir, pe.Path, m.Root, pe.Dest) {
		pe.Same = true
		return pe
	}
	old, cp := newestIn(m.From.Dir, pe.Path), newestIn(m.Root, pe.Dest)
	if !diff.ReplacesCopy(old, cp) { // a tie (timestamps are coarse) is no proof the old root's is newer
		pe.Newer, pe.OldAt = cp, old
		return pe
	}
	return nil
}

// newestIn is the latest modification time of p beneath root and of
// everything below it when it is a directory (never through a symlink);
// zero when p cannot be read.
func newestIn(root, p string) time.Time {
	st, err := fsys.StatIn(root, p)
	if err != nil {
		return time.Time{}
	}
	latest := atomic.Int64{}
	latest.Store(st.Mtim.Nano())
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		fd, err := fsys.OpenDirIn(root, p)
		if err != nil {
			return time.Unix(0, latest.Load())
		}
		defer unix.Close(fd)
		// The directory opened without a symlink on the way, walked from
		// its descriptor: Walk follows nothing below it.
		_, _ = scan.Walk(context.Background(), "/proc/self/fd/"+strconv.Itoa(fd), scan.Options{}, func(_ any, e *scan.Entry) (any, bool) {
			for cur := latest.Load(); e.Mtime > cur && !latest.CompareAndSwap(cur, e.Mtime); cur = latest.Load() {
			}
			return nil, e.Mode&unix.S_IFMT == unix.S_IFDIR
		})
	}
	return time.Unix(0, latest.Load())
}

// sameFile reports whether pa beneath ra and pb beneath rb are regular
// files of the same size and bytes (never through a symlink).
func sameFile(ra, pa, rb, pb string) bool {
	fa, sa := openRegular(ra, pa)
	if fa == nil {
		return false
	}
	defer fa.Close()
	fb, sb := openRegular(rb, pb)
	if fb == nil {
		return false
	}
	defer fb.Close()
	if sa != sb {
		return false
	}
	ba, bb := make([]byte, 64<<10), make([]byte, 64<<10)
	for {
		na, ea := io.ReadFull(fa, ba)
		nb, eb := io.ReadFull(fb, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return false
		}
		if ea == io.EOF || ea == io.ErrUnexpectedEOF {
			return eb == ea
		}
		if ea != nil || eb != nil {
			return false
		}
	}
}

// openRegular opens p beneath root for reading when it is a regular file,
// with its size; nil otherwise.
func openRegular(root, p string) (*os.File, int64) {
	rfd, err := fsys.OpenRoot(root)
	if err != nil {
		return nil, 0
	}
	defer unix.Close(rfd)
	fd, err := fsys.OpenRead(rfd, strings.TrimPrefix(path.Clean(p), "/"))
	if err != nil {
		return nil, 0
	}
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, 0
	}
	return os.NewFile(uintptr(fd), p), st.Size
}
