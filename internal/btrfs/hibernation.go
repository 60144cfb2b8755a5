package btrfs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"

	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/safefile"
)

// HibernationCheck says where drift wipe looks for a hibernation image
// that was not resumed.
type HibernationCheck struct {
	// Device is --resume-device: a device, "auto" (resume= of Cmdline;
	// none there: nothing to check) or "none" ("" too: no check).
	Device string
	// Offset is --resume-offset: a number of pages, or "auto" ("" too:
	// resume_offset= of Cmdline, else 0).
	Offset string
	// Cmdline is the kernel command line file ("": /proc/cmdline).
	Cmdline string
}

// CmdlineError is a resume_offset= of the kernel command line that is not
// a number (ParseResume), with no --resume-offset given: drift wipe does
// not know where the swap header is.
type CmdlineError struct{ Err error }

func (e *CmdlineError) Error() string { return e.Err.Error() }
func (e *CmdlineError) Unwrap() error { return e.Err }

// CheckHibernation looks for a hibernation image on the resume device c
// names (Hibernated). image names the device, and the page of the swap
// header when not 0 ("/dev/sda2 (swap header at page 8: resume_offset=8)",
// escaped for a message), "" when there is no image. warnings say why
// hibernation was not checked: resume= names no device drift can read, or
// the device is not there (the kernel cannot resume from it either).
// Errors: the command line unreadable, *CmdlineError, --resume-offset not a
// number, reading the device.
func CheckHibernation(c HibernationCheck) (image string, warnings []string, err error) {
	if c.Device == "none" || c.Device == "" {
		return "", nil, nil
	}
	cmdline := c.Cmdline
	if cmdline == "" {
		cmdline = "/proc/cmdline"
	}
	var r Resume
	// No command line (not Linux, no /proc): nothing names a resume
	// device, and the offset is 0.
	b, err := safefile.ReadFile(context.Background(), cmdline, 1<<20)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", nil, fmt.Errorf("kernel command line: %w", err)
	}
	if err == nil {
		if r, err = ParseResume(string(b)); err != nil && c.Offset == "auto" {
			return "", nil, &CmdlineError{Err: fmt.Errorf("%s: %w", escape.Name(cmdline), err)}
		}
	}
	dev, from := c.Device, "--resume-device"
	if dev == "auto" {
		if r.Device == "" {
			if r.Spec != "" {
				warnings = append(warnings, fmt.Sprintf("resume=%s of %s names no device drift can read: hibernation not checked (pass --resume-device)", r.Spec, cmdline))
			}
			return "", warnings, nil
		}
		dev, from = r.Device, "resume="+r.Spec+" of "+cmdline
		if _, err := os.Stat(dev); err != nil {
			return "", append(warnings, fmt.Sprintf("%s (%s) is not there: hibernation not checked", dev, from)), nil
		}
	}
	offset := r.Offset
	if c.Offset != "auto" && c.Offset != "" {
		n, err := strconv.ParseInt(c.Offset, 10, 64)
		if err != nil || n < 0 {
			return "", nil, fmt.Errorf("--resume-offset %q: expected a number of pages (0 or more) or auto", c.Offset)
		}
		offset = n
	}
	hib, page, err := Hibernated(dev, offset)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", escape.Name(from), err)
	}
	if !hib {
		return "", nil, nil
	}
	if page == 0 {
		return escape.Name(dev), nil, nil
	}
	return fmt.Sprintf("%s (swap header at page %d: resume_offset=%d)", escape.Name(dev), page, page), nil, nil
}
