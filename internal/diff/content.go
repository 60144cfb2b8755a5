package diff

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"golang.org/x/sys/unix"

	ifsys "github.com/nix-drift/drift/internal/fsys"
)

// cmpBuf is the size of each of a worker's two read buffers.
const cmpBuf = 256 << 10

// contentCmp compares the bytes of two open regular files of the same
// size; one per worker, its buffers reused for every pair.
type contentCmp struct {
	fs   ifsys.FS
	a, b []byte
	// ctx ends a comparison at its next chunk or window once it is done
	// (its error is returned): Compare's; context.Background() from
	// newContentCmp.
	ctx context.Context
}

func newContentCmp(fs ifsys.FS) *contentCmp {
	return &contentCmp{fs: fs, a: make([]byte, cmpBuf), b: make([]byte, cmpBuf), ctx: context.Background()}
}

// same reports whether the regular files open as fa (A's) and fb (B's),
// both size bytes long as their fstat said (sta, stb), hold the same bytes.
// It reads both side by side and stops at the first chunk that differs:
// no hash, as each byte is read once anyway and comparing is cheaper than
// hashing twice. A small file costs one pread per side, of exactly size
// bytes. When either file has fewer bytes allocated than its size (a
// sparse file, st_blocks*512 < size), their data extents are walked with
// SEEK_DATA/SEEK_HOLE in step: while the layouts agree only data is read
// (a hole reads as zeros on both sides); at the first disagreement the rest
// is compared byte for byte, holes read as zeros.
func (c *contentCmp) same(fa, fb int, size int64, sta, stb *unix.Stat_t) (bool, error) {
	if size == 0 {
		return true, nil
	}
	if size <= cmpBuf || sta.Blocks*512 >= size && stb.Blocks*512 >= size {
		return c.rangeEqual(fa, fb, 0, size)
	}
	for off := int64(0); off < size; {
		da, erra := unix.Seek(fa, off, unix.SEEK_DATA)
		db, errb := unix.Seek(fb, off, unix.SEEK_DATA)
		if erra == unix.ENXIO && errb == unix.ENXIO { // holes to the end on both
			return true, nil
		}
		if erra != nil || errb != nil || da != db {
			return c.rangeEqual(fa, fb, off, size)
		}
		ha, erra := unix.Seek(fa, da, unix.SEEK_HOLE)
		hb, errb := unix.Seek(fb, db, unix.SEEK_HOLE)
		if erra != nil || errb != nil || ha != hb {
			return c.rangeEqual(fa, fb, off, size)
		}
		ha = min(ha, size)
		if eq, err := c.rangeEqual(fa, fb, da, ha); !eq || err != nil {
			return eq, err
		}
		off = ha
	}
	return true, nil
}

// rangeEqual compares [from, to) of fa and fb: through read-only mappings
// for mmapMin bytes or more (no copy out of the page cache), else pread
// into the two buffers.
func (c *contentCmp) rangeEqual(fa, fb int, from, to int64) (bool, error) {
	if to-from >= mmapMin {
		return mappedEqual(c.ctx, fa, fb, from, to)
	}
	for off := from; off < to; {
		if err := c.ctx.Err(); err != nil {
			return false, err
		}
		n := min(int64(len(c.a)), to-off)
		if err := c.full(fa, c.a[:n], off, "A"); err != nil {
			return false, err
		}
		if err := c.full(fb, c.b[:n], off, "B"); err != nil {
			return false, err
		}
		if !bytes.Equal(c.a[:n], c.b[:n]) {
			return false, nil
		}
		off += n
	}
	return true, nil
}

// full reads len(buf) bytes of fd at off: one pread unless the kernel
// returns fewer (then again, until the file ends early: an error).
func (c *contentCmp) full(fd int, buf []byte, off int64, side string) error {
	for len(buf) > 0 {
		n, err := c.fs.Pread(fd, buf, off)
		if err != nil {
			return fmt.Errorf("%s: read: %w", side, err)
		}
		if n == 0 {
			return fmt.Errorf("%s: read: %w (the file shrank)", side, io.ErrUnexpectedEOF)
		}
		buf, off = buf[n:], off+int64(n)
	}
	return nil
}

// mappedEqual compares [from, to) of fa and fb through mappings
// (mapWindows, which ctx stops).
func mappedEqual(ctx context.Context, fa, fb int, from, to int64) (bool, error) {
	eq := true
	err := mapWindows(ctx, from, to, func(m [][]byte) bool {
		eq = bytes.Equal(m[0], m[1])
		return eq
	}, fa, fb)
	return eq && err == nil, err
}
