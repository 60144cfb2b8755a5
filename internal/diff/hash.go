package diff

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/zeebo/xxh3"
	"golang.org/x/sys/unix"

	ifsys "github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/scan"
)

// hashBuf is the read buffer of one hashing worker.
const hashBuf = 256 << 10

// errReplacedFile: the file opened is not the one the walk saw.
var errReplacedFile = errors.New("file replaced during the comparison; not compared")

// openFunc opens a regular file below an open root directory; a seam for
// tests (an unreadable file as root).
type openFunc func(rootFD int, rel string) (int, error)

// hasher hashes regular files with xxh3-128; one per worker, its buffer
// reused for every file.
type hasher struct {
	open openFunc
	buf  []byte
	h    *xxh3.Hasher
	// read, when set (tests), runs on the file's descriptor once it has
	// been read and before it is checked unchanged.
	read func(fd int)
	// ctx stops a file being hashed at its next piece once it is done
	// (its error is returned); context.Background() from newHasher.
	ctx context.Context
}

func newHasher(open openFunc) *hasher {
	if open == nil {
		open = ifsys.OpenRead
	}
	return &hasher{open: open, buf: make([]byte, hashBuf), h: xxh3.New(), ctx: context.Background()}
}

// digest is the content hash of one file: its data extents (SEEK_DATA /
// SEEK_HOLE), so holes cost nothing to read, cut into pieces (mapping
// windows, read buffers: the same extent is always cut at the same
// offsets), each piece hashed on its own with xxh3-128 and the outer hash
// taking every piece's offset, length and hash in turn. Equal digests mean
// the same bytes at the same offsets (holes are zeros on both sides: the
// files compared have the same size). A piece is hashed with the one-shot
// xxh3.Hash128 because the streaming Hasher of github.com/zeebo/xxh3 takes
// its fast path only for the first write after a Reset and copies every
// later block through its buffer (hasher.go, v1.1.0): hashing a 16-byte
// extent header before the bytes halved BenchmarkHashFile. dense is false
// when the file has a hole: two files with the same bytes but different
// hole layouts have different digests, and sameFiles then compares their
// full contents (holes read as zeros).
type digest struct {
	sum   xxh3.Uint128
	dense bool
}

// sameFiles reports whether a (below rootA) and b (below rootB), regular
// files of the same size, have the same bytes.
func (hs *hasher) sameFiles(rootA int, a *scan.Entry, rootB int, b *scan.Entry) (bool, error) {
	da, err := hs.file(rootA, a, true)
	if err != nil {
		return false, err
	}
	db, err := hs.file(rootB, b, true)
	if err != nil {
		return false, err
	}
	if da.sum == db.sum {
		return true, nil
	}
	if da.dense && db.dense {
		return false, nil
	}
	// Different hole layouts can hold the same bytes: read both in full.
	if da, err = hs.file(rootA, a, false); err != nil {
		return false, err
	}
	if db, err = hs.file(rootB, b, false); err != nil {
		return false, err
	}
	return da.sum == db.sum, nil
}

// errChangedFile: the file changed (its ctime moved) while it was read.
var errChangedFile = errors.New("file changed while it was compared; not compared")

// file opens and hashes e below root: extents when sparse, else every byte
// (holes as zeros). The file opened must be the regular file the walk saw:
// same inode and size; and it must not change while it is read (its size
// and ctime are the same after as before, else errChangedFile: a rewrite
// or a truncation meanwhile would make the digest describe no version of
// the file). A kernel that keeps coarse timestamps may leave the ctime of
// a write in the same clock tick as the first fstat unchanged; filesystems
// with multigrain timestamps (Linux 6.13 on) move it.
func (hs *hasher) file(root int, e *scan.Entry, sparse bool) (digest, error) {
	fd, err := hs.open(root, e.Path[1:])
	if err != nil {
		return digest{}, err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return digest{}, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Ino != e.Ino || st.Size != e.Size {
		return digest{}, errReplacedFile
	}
	d, err := hs.digest(fd, &st, sparse)
	if err != nil {
		return digest{}, err
	}
	if hs.read != nil {
		hs.read(fd)
	}
	var after unix.Stat_t
	if err := unix.Fstat(fd, &after); err != nil {
		return digest{}, err
	}
	if after.Size != st.Size || after.Ctim != st.Ctim {
		return digest{}, errChangedFile
	}
	return d, nil
}

// digest hashes the open regular file fd, which st describes (see file).
func (hs *hasher) digest(fd int, st *unix.Stat_t, sparse bool) (digest, error) {
	hs.h.Reset()
	d := digest{dense: true}
	// A file with as many bytes allocated as its size has no hole worth
	// looking for (SEEK_DATA would cost two system calls for nothing).
	if !sparse || st.Blocks*512 >= st.Size || st.Size <= hashBuf {
		if err := hs.extent(fd, 0, st.Size); err != nil {
			return digest{}, err
		}
		d.sum = hs.h.Sum128()
		return d, nil
	}
	// A file of holes only has no extent: not dense either.
	d.dense = false
	for off := int64(0); off < st.Size; {
		data, err := unix.Seek(fd, off, unix.SEEK_DATA)
		if err == unix.ENXIO { // only a hole from off to the end
			break
		}
		if err != nil {
			return digest{}, fmt.Errorf("seek data: %w", err)
		}
		hole, err := unix.Seek(fd, data, unix.SEEK_HOLE)
		if err != nil {
			return digest{}, fmt.Errorf("seek hole: %w", err)
		}
		hole = min(hole, st.Size)
		d.dense = data == 0 && hole == st.Size
		if err := hs.extent(fd, data, hole); err != nil {
			return digest{}, err
		}
		off = hole
	}
	d.sum = hs.h.Sum128()
	return d, nil
}

// extent hashes [from, to) of fd in pieces: mapping windows from mmapMin
// bytes on, else read buffers of hashBuf bytes, each filled whole (a short
// read does not move where a piece ends).
func (hs *hasher) extent(fd int, from, to int64) error {
	if to-from >= mmapMin {
		return hs.mapped(fd, from, to)
	}
	for off := from; off < to; {
		if err := hs.ctx.Err(); err != nil {
			return err
		}
		piece := hs.buf[:min(int64(len(hs.buf)), to-off)]
		for got := 0; got < len(piece); {
			n, err := unix.Pread(fd, piece[got:], off+int64(got))
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return fmt.Errorf("read: %w", err)
			}
			if n == 0 {
				return fmt.Errorf("read: %w (the file shrank)", io.ErrUnexpectedEOF)
			}
			got += n
		}
		hs.piece(off, piece)
		off += int64(len(piece))
	}
	return nil
}

// piece adds the bytes at offset off to the digest (see digest).
func (hs *hasher) piece(off int64, data []byte) {
	sum := xxh3.Hash128(data)
	var rec [32]byte
	binary.LittleEndian.PutUint64(rec[0:], uint64(off))
	binary.LittleEndian.PutUint64(rec[8:], uint64(len(data)))
	binary.LittleEndian.PutUint64(rec[16:], sum.Hi)
	binary.LittleEndian.PutUint64(rec[24:], sum.Lo)
	hs.h.Write(rec[:])
}

// Extents of mmapMin bytes or more are hashed through a read-only mapping
// of mmapWindow bytes at a time: the bytes are hashed where they lie in
// the page cache, not copied into the buffer first (BenchmarkHashFile on a
// 2-core VM, 64 MiB: 6.4 GB/s with pread, 8.4 GB/s mapped when hashed
// through the streaming Hasher, 23 GB/s mapped as one piece;
// BenchmarkXXH3Memory on the same bytes: 19 GB/s).
const (
	mmapMin    = 1 << 20
	mmapWindow = 64 << 20
)

// mapped hashes [from, to) of fd through mappings (mapWindows).
func (hs *hasher) mapped(fd int, from, to int64) error {
	off := from
	return mapWindows(hs.ctx, from, to, func(m [][]byte) bool {
		hs.piece(off, m[0])
		off += int64(len(m[0]))
		return true
	}, fd)
}

// mapWindows reads [from, to) of the files fds (one, or a pair A and B)
// through read-only mappings of mmapWindow bytes at a time, each from a
// page boundary, calling fn with the bytes of each window from its offset
// on (m[i] of fds[i]); fn returning false ends it early, and so does ctx,
// checked before each window is mapped (its error is returned). Errors of a pair
// name the side ("A: mmap: …"). A file truncated while mapped faults
// (SIGBUS): with SetPanicOnFault that is a panic recovered into an error,
// not a crash.
func mapWindows(ctx context.Context, from, to int64, fn func(m [][]byte) bool, fds ...int) (err error) {
	maps, views := make([][]byte, len(fds)), make([][]byte, len(fds))
	side := func(i int) string {
		if len(fds) == 1 {
			return ""
		}
		return string(rune('A'+i)) + ": "
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("read: fault reading a mapping (the file shrank?): %v", r)
		}
		for _, m := range maps {
			if m != nil {
				unix.Munmap(m)
			}
		}
	}()
	page := int64(unix.Getpagesize())
	for off := from; off < to; {
		if err := ctx.Err(); err != nil {
			return err
		}
		start := off &^ (page - 1)
		n := min(to-start, mmapWindow)
		for i, fd := range fds {
			if maps[i], err = unix.Mmap(fd, start, int(n), unix.PROT_READ, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
				maps[i] = nil
				return fmt.Errorf("%smmap: %w", side(i), err)
			}
			_ = unix.Madvise(maps[i], unix.MADV_SEQUENTIAL)
			views[i] = maps[i][off-start:]
		}
		more := fn(views)
		for i, m := range maps {
			if e := unix.Munmap(m); e != nil && err == nil {
				err = fmt.Errorf("%smunmap: %w", side(i), e)
			}
			maps[i] = nil
		}
		if !more {
			return nil
		}
		if err != nil {
			return err
		}
		off = start + n
	}
	return nil
}
