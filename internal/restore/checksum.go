package restore

import (
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

// sum is a copied file's source digest, checked against its copy once the
// copy is flushed (Request.Verify).
type sum struct {
	// comps name the copy beneath copier.tmpParent (the temporary name
	// first); live is the source path, for errors.
	comps []string
	live  string
	size  int64
	xxh3  uint64
}

// hashFD is the xxh3 (64-bit) of the size bytes of fd from offset 0, read
// with buf; fewer bytes than size is an error.
func hashFD(fd int, size int64, buf []byte) (uint64, error) {
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
	}
	return h.Sum64(), nil
}

// hashSource records the digest of the source file sfd (st.Size bytes),
// copied to dest, for checkSums.
func (c *copier) hashSource(sfd int, st *unix.Stat_t, dest, live string) error {
	if c.buf == nil {
		c.buf = make([]byte, 1<<20)
	}
	d, err := hashFD(sfd, st.Size, c.buf)
	if err != nil {
		return fmt.Errorf("read %s: %w", live, err)
	}
	rel := components(dest)[len(components(c.dest)):]
	c.sums = append(c.sums, sum{comps: append([]string{c.tmp}, rel...), live: live, size: st.Size, xxh3: d})
	return nil
}

// checkSums reads back every copy hashSource recorded (after the flush)
// and compares its digest with the source's: *ErrCopyDiffers wrapped with
// the paths when one differs.
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
		d, err := hashFD(fd, s.size, c.buf)
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
