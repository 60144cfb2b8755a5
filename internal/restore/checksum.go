package restore

import (
	"context"
	"errors"
	"fmt"
	"path"

	"github.com/zeebo/xxh3"
	"golang.org/x/sys/unix"
)

// ErrCopyDiffers is returned (wrapped) when a file's copy, read back once
// flushed, does not hold the bytes read from the source (Request.Verify).
var ErrCopyDiffers = errors.New("the copy read back does not hold the bytes read from the source")

// beforeReadBack, set by tests only, is called with the temporary copy
// (tmp under the directory dir) just before it is read back.
var beforeReadBack func(dir int, tmp string)

// sum is the digest of the bytes a file's copy was written from, checked
// against the copy once it is flushed (Request.Verify). A clone has none:
// it is the source's blocks.
type sum struct {
	// comps name the copy beneath copier.tmpParent (the temporary name
	// first); live is the source path, for errors.
	comps []string
	live  string
	size  int64
	xxh3  uint64
}

// hashFD is the xxh3 (64-bit) of the size bytes of fd from offset 0, read
// with buf; fewer bytes than size is an error, and so is ctx cancelled
// (its error, between two reads).
func hashFD(ctx context.Context, fd int, size int64, buf []byte) (uint64, error) {
	h := xxh3.New()
	var off int64
	for off < size {
		n, err := readFull(fd, buf[:min(int64(len(buf)), size-off)], off)
		if err != nil {
			return 0, err
		}
		if n == 0 {
			return 0, fmt.Errorf("%d bytes read, %d expected", off, size)
		}
		h.Write(buf[:n])
		off += int64(n)
		if err := ctx.Err(); err != nil {
			return 0, err
		}
	}
	return h.Sum64(), nil
}

// checkSums reads back every copy copier.data hashed (after the flush),
// from the disk (its pages, clean once flushed, are dropped from the page
// cache first, so the bytes compared are the ones stored, not the ones
// written), and compares its digest with the source's: ErrCopyDiffers
// wrapped with the paths when one differs.
func (c *copier) checkSums() error {
	if c.buf == nil {
		c.buf = make([]byte, 1<<20)
	}
	b := &beneath{fd: c.tmpParent, dir: ".", side: "destination"}
	for _, s := range c.sums {
		name := s.comps[len(s.comps)-1]
		pfd, n, err := b.openDirs(s.comps[:len(s.comps)-1])
		if err == nil && n < len(s.comps)-1 {
			err = unix.ENOENT
		}
		if err != nil {
			if pfd >= 0 {
				unix.Close(pfd)
			}
			return fmt.Errorf("read back the copy of %s: %w", s.live, err)
		}
		fd, err := unix.Openat(pfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
		unix.Close(pfd)
		if err != nil {
			return fmt.Errorf("read back the copy of %s: %w", s.live, err)
		}
		_ = unix.Fadvise(fd, 0, 0, unix.FADV_DONTNEED) // where it is refused, the page cache is read
		d, err := hashFD(c.ctx, fd, s.size, c.buf)
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("read back the copy of %s: %w", s.live, err)
		}
		if d != s.xxh3 {
			return fmt.Errorf("%s (%s): %w", s.live, path.Join(s.comps...), ErrCopyDiffers)
		}
	}
	return nil
}
