package restore

import (
	"context"
	"errors"
	"fmt"

	"github.com/zeebo/xxh3"
	"golang.org/x/sys/unix"
)

// How a regular file's bytes are copied (copier.file): first as a clone
// (FICLONE: the copy is made of the source's very blocks, shared, as
// cp --reflink=auto does; btrfs, XFS, bcachefs), which needs no reading
// and no check of the bytes: they are the source's blocks by
// construction, guarded by the filesystem's own checksums. Where a clone
// is refused (another filesystem, one without reflinks), the bytes are
// copied data extent by data extent (holes stay holes): with
// Request.Verify, read and written by drift, hashed as they are read, so
// the copy can be read back against that digest once flushed; without
// it, by copy_file_range.

// tryClone is clone; tests replace it to take the copying path on a
// filesystem that makes clones.
var tryClone = clone

// clone makes dst a clone of all of src (FICLONE). ok false: not cloned,
// and dst is empty again (a refused clone writes nothing; any other
// failure is truncated away) for another way of copying.
func clone(dst, src int) (ok bool, err error) {
	err = unix.IoctlFileClone(dst, src)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.EXDEV), errors.Is(err, unix.EINVAL),
		errors.Is(err, unix.ENOTTY), errors.Is(err, unix.ENOSYS):
		return false, nil
	}
	return false, unix.Ftruncate(dst, 0)
}

// dataExtents calls f for each data extent of the size bytes of src, in
// order (SEEK_DATA/SEEK_HOLE; all of it where those are not supported):
// offset and length. Holes are not passed.
func dataExtents(src int, size int64, f func(off, n int64) error) error {
	for off := int64(0); off < size; {
		data, err := unix.Seek(src, off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			return nil // only a hole is left
		}
		if err != nil { // no SEEK_DATA here: all of it is data
			data = off
		}
		hole := size
		if err == nil {
			if h, err := unix.Seek(src, data, unix.SEEK_HOLE); err == nil && h < size {
				hole = h
			}
		}
		if data >= size {
			return nil
		}
		if err := f(data, hole-data); err != nil {
			return err
		}
		off = hole
	}
	return nil
}

// chunk is the most copied between two looks at the context: an
// interrupted copy of a large file stops within one chunk.
const chunk = 8 << 20

// afterChunk, set by tests only, is called after each chunk of a file's
// bytes is copied (copyRange, preadCopy, copyHashed).
var afterChunk func()

// chunkDone is called after each chunk: ctx's error once it is cancelled
// (a SIGINT, a SIGTERM), so a large file's copy stops between chunks.
func chunkDone(ctx context.Context) error {
	if afterChunk != nil {
		afterChunk()
	}
	return ctx.Err()
}

// copyData copies size bytes of src to dst, data extent by data extent,
// so holes stay holes, then sets dst's length. It stops with ctx's error
// between two chunks once ctx is cancelled.
func copyData(ctx context.Context, dst, src int, size int64) error {
	if err := dataExtents(src, size, func(off, n int64) error { return copyRange(ctx, dst, src, off, n) }); err != nil {
		return err
	}
	return unix.Ftruncate(dst, size)
}

// copyHashed copies size bytes of src to dst as copyData does, reading and
// writing them with buf, and returns the xxh3 (64-bit) of what it read,
// holes hashed as the zeros they read as: the digest of the bytes the copy
// was written from, for the read-back (checkSums). A source that ends
// early is hashed as far as it was read (verify then sees it changed).
// It stops with ctx's error between two reads once ctx is cancelled.
func copyHashed(ctx context.Context, dst, src int, size int64, buf []byte) (uint64, error) {
	h := xxh3.New()
	var at int64 // hashed up to here
	zeros := func(to int64) {
		for at < to {
			k := min(to-at, int64(len(zeroes)))
			h.Write(zeroes[:k])
			at += k
		}
	}
	short := false
	err := dataExtents(src, size, func(off, n int64) error {
		zeros(off)
		for n > 0 {
			k, err := readFull(src, buf[:min(n, int64(len(buf)))], off)
			if err != nil {
				return err
			}
			if k == 0 {
				short = true
				return errShort
			}
			h.Write(buf[:k])
			if err := writeFull(dst, buf[:k], off); err != nil {
				return err
			}
			at, off, n = off+int64(k), off+int64(k), n-int64(k)
			if err := chunkDone(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && !short {
		return 0, err
	}
	if !short {
		zeros(size)
	}
	return h.Sum64(), unix.Ftruncate(dst, size)
}

// errShort stops copyHashed where the source ends before its size.
var errShort = errors.New("short read")

// zeroes are the bytes a hole reads as, hashed by copyHashed.
var zeroes = make([]byte, 64<<10)

// writeFull pwrites all of b at off.
func writeFull(fd int, b []byte, off int64) error {
	for w := 0; w < len(b); {
		m, err := unix.Pwrite(fd, b[w:], off+int64(w))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		if m == 0 {
			return fmt.Errorf("write at %d: no progress", off+int64(w))
		}
		w += m
	}
	return nil
}

// copyRange copies n bytes at off from src to the same offset in dst:
// copy_file_range (a reflink on btrfs), else read and write; a chunk at a
// time, stopping with ctx's error between two once ctx is cancelled.
func copyRange(ctx context.Context, dst, src int, off, n int64) error {
	roff, woff := off, off
	for n > 0 {
		k, err := unix.CopyFileRange(src, &roff, dst, &woff, int(min(n, chunk)), 0)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if errors.Is(err, unix.EXDEV) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) {
				return preadCopy(ctx, dst, src, roff, n)
			}
			return err
		}
		if k == 0 {
			return nil // the file shrank; the length is set from the stat
		}
		n -= int64(k)
		if err := chunkDone(ctx); err != nil {
			return err
		}
	}
	return nil
}

// preadCopy copies n bytes at off from src to dst by read and write, a
// buffer at a time, stopping with ctx's error between two.
func preadCopy(ctx context.Context, dst, src int, off, n int64) error {
	buf := make([]byte, min(n, 1<<20))
	for n > 0 {
		k, err := readFull(src, buf[:min(n, int64(len(buf)))], off)
		if err != nil {
			return err
		}
		if k == 0 {
			return nil
		}
		if err := writeFull(dst, buf[:k], off); err != nil {
			return err
		}
		off += int64(k)
		n -= int64(k)
		if err := chunkDone(ctx); err != nil {
			return err
		}
	}
	return nil
}
