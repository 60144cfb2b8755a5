package restore

import (
	"encoding/binary"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The fiemap ioctl (linux/fiemap.h, linux/fs.h).
const (
	fsIocFiemap        = 0xC020660B
	fiemapExtentLast   = 0x1
	fiemapExtentShared = 0x2000
	// Extents whose physical address does not name the blocks alone.
	fiemapExtentVague = 0x2 | 0x4 | 0x100 | 0x200 | 0x400 | 0x800 // unknown, delalloc, not aligned, inline, tail, unwritten
	fiemapHeader      = 32
	fiemapExtentSize  = 56
	fiemapBatch       = 64
)

// extent is one fiemap extent: logical and physical offsets, length, flags.
type extent struct {
	logical, physical, length uint64
	flags                     uint32
}

// extents lists fd's extents (at most max; ok false when there are more,
// or fiemap is not supported).
func extents(fd int, max int) (out []extent, ok bool) {
	buf := make([]byte, fiemapHeader+fiemapBatch*fiemapExtentSize)
	le := binary.LittleEndian // the kernel's byte order on the platforms drift runs on
	var start uint64
	for len(out) <= max {
		clear(buf)
		le.PutUint64(buf[0:], start)
		le.PutUint64(buf[8:], ^uint64(0)-start)
		le.PutUint32(buf[16:], 0) // no FIEMAP_FLAG_SYNC: a delayed extent is vague, and then the copy is read back
		le.PutUint32(buf[24:], fiemapBatch)
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), fsIocFiemap, uintptr(unsafe.Pointer(&buf[0]))); e != 0 {
			return nil, false
		}
		n := int(le.Uint32(buf[20:]))
		if n == 0 {
			return out, true
		}
		for i := 0; i < n; i++ {
			b := buf[fiemapHeader+i*fiemapExtentSize:]
			x := extent{logical: le.Uint64(b[0:]), physical: le.Uint64(b[8:]), length: le.Uint64(b[16:]), flags: le.Uint32(b[40:])}
			out = append(out, x)
			if x.flags&fiemapExtentLast != 0 {
				return out, len(out) <= max
			}
			start = x.logical + x.length
		}
	}
	return nil, false
}

// sharedBlocks says whether the copy dfd is made of the very blocks of its
// source sfd (a reflink: copy_file_range on btrfs): the same extents at the
// same logical and physical offsets, each marked shared, none inline,
// delayed or of unknown place. Then the copy holds the source's bytes by
// construction (and the filesystem's checksums guard the blocks), with no
// need to read them back.
func sharedBlocks(sfd, dfd int) bool {
	const max = 4096
	s, ok := extents(sfd, max)
	if !ok || len(s) == 0 {
		return false
	}
	d, ok := extents(dfd, max)
	if !ok || len(d) != len(s) {
		return false
	}
	for i := range s {
		a, b := s[i], d[i]
		if a.logical != b.logical || a.physical != b.physical || a.length != b.length || a.physical == 0 ||
			(a.flags|b.flags)&fiemapExtentVague != 0 || b.flags&fiemapExtentShared == 0 {
			return false
		}
	}
	return true
}
