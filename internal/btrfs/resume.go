package btrfs

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
)

// hibernationSigs are the signatures a hibernation image leaves in the last
// 10 bytes of the swap header's first page (struct swsusp_header in the
// kernel's kernel/power/swap.c: HIBERNATE_SIG "S1SUSPEND"; uswsusp writes
// "ULSUSPEND"). A plain swap area has "SWAPSPACE2" there.
var hibernationSigs = [][]byte{[]byte("S1SUSPEND"), []byte("ULSUSPEND")}

// Hibernated reports whether the swap device or file at dev holds a
// hibernation image that has not been resumed yet: the signature at offset
// pagesize-10 (field case C11: a wipe before the resume corrupts btrfs).
// Errors are those of opening and reading dev; a device shorter than a page
// holds no image.
func Hibernated(dev string) (bool, error) {
	f, err := os.Open(dev)
	if err != nil {
		return false, err
	}
	defer f.Close()
	page := os.Getpagesize()
	buf := make([]byte, 10)
	if _, err := f.ReadAt(buf, int64(page-10)); err != nil {
		if err == io.EOF {
			return false, nil
		}
		return false, fmt.Errorf("read the swap header of %s: %w", dev, err)
	}
	for _, sig := range hibernationSigs {
		if bytes.HasPrefix(buf, sig) {
			return true, nil
		}
	}
	return false, nil
}

// ResumeDevice returns the device named by resume= on the kernel command
// line cmdline (the contents of /proc/cmdline), "" when there is none.
// UUID=, PARTUUID=, LABEL= and PARTLABEL= become their /dev/disk/by-*
// links; other non-path forms (MAJ:MIN) are returned as "".
func ResumeDevice(cmdline string) string {
	for _, f := range strings.Fields(cmdline) {
		v, ok := strings.CutPrefix(f, "resume=")
		if !ok {
			continue
		}
		for prefix, dir := range map[string]string{"UUID=": "by-uuid", "PARTUUID=": "by-partuuid", "LABEL=": "by-label", "PARTLABEL=": "by-partlabel"} {
			if rest, ok := strings.CutPrefix(v, prefix); ok {
				return "/dev/disk/" + dir + "/" + rest
			}
		}
		if strings.HasPrefix(v, "/") {
			return v
		}
		return ""
	}
	return ""
}
