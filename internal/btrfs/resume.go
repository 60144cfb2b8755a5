package btrfs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// hibernationSigs are the signatures a hibernation image leaves in the last
// 10 bytes of the first page of its swap area (struct swsusp_header in the
// kernel's kernel/power/swap.c: HIBERNATE_SIG "S1SUSPEND"; "ULSUSPEND" of
// uswsusp, "S2SUSPEND" and "LINHIB0001" of older and out-of-tree
// implementations, as util-linux's libblkid swsuspend probe lists them). A
// plain swap area has "SWAPSPACE2" there.
var hibernationSigs = [][]byte{[]byte("S1SUSPEND"), []byte("S2SUSPEND"), []byte("ULSUSPEND"), []byte("LINHIB0001")}

// Hibernated reports whether the swap area on dev holds a hibernation image
// that has not been resumed yet (a wipe before the resume corrupts btrfs:
// the resumed kernel writes its stale view of the filesystem). It looks at the swap header in page 0 of dev (a swap
// partition) and, when offset > 0, in page offset (a swap file: offset is
// the kernel's resume_offset=, in PAGE_SIZE units from the start of dev);
// in each the signature lies PAGE_SIZE-10 bytes into the page. page is the
// first page holding one (0 or offset). Errors are those of opening and
// reading dev; a header past the end of dev holds no image.
func Hibernated(dev string, offset int64) (found bool, page int64, err error) {
	if offset < 0 {
		return false, 0, fmt.Errorf("resume offset %d: expected 0 or more pages", offset)
	}
	f, err := os.Open(dev)
	if err != nil {
		return false, 0, err
	}
	defer f.Close()
	size := int64(os.Getpagesize())
	pages := []int64{0}
	if offset > 0 {
		pages = append(pages, offset)
	}
	buf := make([]byte, 10)
	for _, p := range pages {
		if p > (1<<62)/size {
			return false, 0, fmt.Errorf("resume offset %d: past any device", p)
		}
		n, err := f.ReadAt(buf, p*size+size-10)
		if err != nil && !errors.Is(err, io.EOF) {
			return false, 0, fmt.Errorf("read the swap header of %s at page %d: %w", dev, p, err)
		}
		for _, sig := range hibernationSigs {
			if bytes.HasPrefix(buf[:n], sig) {
				return true, p, nil
			}
		}
	}
	return false, 0, nil
}

// Resume is the hibernation resume target named on a kernel command line.
type Resume struct {
	// Spec is resume= as written ("" when there is none).
	Spec string
	// Device is the path Spec names: /dev/… as is; UUID=, PARTUUID=,
	// LABEL= and PARTLABEL= as their /dev/disk/by-* links; MAJ:MIN as
	// /dev/block/MAJ:MIN (udev's link). "" when Spec is empty or none of
	// these.
	Device string
	// Offset is resume_offset=: where the swap header lies on Device, in
	// PAGE_SIZE units (the kernel's swsusp_resume_block, used for a swap
	// file); 0 when not given.
	Offset int64
	// HasOffset tells whether resume_offset= was given.
	HasOffset bool
}

// ParseResume reads resume= and resume_offset= of the kernel command line
// cmdline (the contents of /proc/cmdline). As for the kernel's own
// __setup parameters, the last occurrence of each counts. An error names a
// resume_offset= that is not a decimal number of pages (the kernel would
// ignore it; drift does not guess); the Resume returned with it has the
// rest (Spec and Device) all the same.
func ParseResume(cmdline string) (Resume, error) {
	var r Resume
	var bad error
	for _, f := range strings.Fields(cmdline) {
		if v, ok := strings.CutPrefix(f, "resume="); ok {
			r.Spec, r.Device = v, resumePath(v)
		}
		if v, ok := strings.CutPrefix(f, "resume_offset="); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				bad = fmt.Errorf("resume_offset=%s: expected a decimal number of pages", v)
				continue
			}
			r.Offset, r.HasOffset, bad = n, true, nil
		}
	}
	return r, bad
}

// resumePath is the path of the device a resume= value names, "" when it
// names none drift can open.
func resumePath(v string) string {
	for _, p := range []struct{ prefix, dir string }{{"UUID=", "by-uuid"}, {"PARTUUID=", "by-partuuid"}, {"LABEL=", "by-label"}, {"PARTLABEL=", "by-partlabel"}} {
		if rest, ok := strings.CutPrefix(v, p.prefix); ok && rest != "" {
			return "/dev/disk/" + p.dir + "/" + rest
		}
	}
	if strings.HasPrefix(v, "/") {
		return v
	}
	if maj, min, ok := strings.Cut(v, ":"); ok && isDigits(maj) && isDigits(min) {
		return "/dev/block/" + v
	}
	return ""
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
