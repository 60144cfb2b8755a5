package diff

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/safefile"
	"golang.org/x/sys/unix"
)

// Boot describes the running system's current boot.
type Boot struct {
	// Time is when it booted, on the wall clock: /proc/stat's btime (the
	// clock now minus the time since boot, whole seconds).
	Time time.Time
	// ID is the kernel's boot_id (/proc/sys/kernel/random/boot_id), "" when
	// unknown.
	ID string
}

// CurrentBoot reads the current boot's time from /proc/stat (btime) and its
// id from /proc/sys/kernel/random/boot_id (left "" when unreadable).
// Errors: /proc/stat unreadable or without a btime line.
func CurrentBoot() (Boot, error) {
	b, err := safefile.ReadFile(context.Background(), "/proc/stat", 16<<20)
	if err != nil {
		return Boot{}, err
	}
	var boot Boot
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "btime "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return Boot{}, fmt.Errorf("/proc/stat: btime %q: %w", v, err)
			}
			boot.Time = time.Unix(n, 0)
		}
	}
	if boot.Time.IsZero() {
		return Boot{}, errors.New("/proc/stat: no btime line")
	}
	boot.ID = btrfs.BootID()
	return boot, nil
}

// WipeSlack is how much earlier than the boot time the root may have been
// created and still count as created at this boot: /proc/stat's btime is
// whole seconds and moves with the clock, which NTP may step forward a
// little after the initrd's wipe ran.
const WipeSlack = time.Minute

// Wipe is the verdict on whether the ephemeral root was wiped at this boot
// (Audit.Wipe).
type Wipe struct {
	// RootCreated is when the root subvolume was created: the subvolume's
	// otime from BTRFS_IOC_GET_SUBVOL_INFO (btrfs.SubvolumeOf) on the audited
	// root, which for a snapshot (drift wipe --blank, the "blank snapshot"
	// setups) is when the snapshot was taken. statx(2)'s STATX_BTIME of the
	// root directory is not used: a snapshot's root inode keeps its
	// source's birth time.
	RootCreated time.Time
	// BootTime is when the running system booted (Boot.Time).
	BootTime time.Time
	// Marked is true when the root carries drift wipe's mark
	// (btrfs.XattrCreated) with this boot's id: it was created at this boot
	// whatever the clocks say (a board without a real-time clock).
	Marked bool
	// WipedThisBoot is Marked, or RootCreated no earlier than BootTime minus
	// WipeSlack.
	WipedThisBoot bool
}

// Warning is the report's first line when the wipe did not run at this
// boot; "" when it did.
func (w *Wipe) Warning() string {
	if w == nil || w.WipedThisBoot {
		return ""
	}
	return fmt.Sprintf("the root subvolume was created at %s, before this boot (%s): the wipe did not run; everything listed has been surviving reboots and will all go at once on the day the wipe starts working",
		w.RootCreated.UTC().Format(time.RFC3339), w.BootTime.UTC().Format(time.RFC3339))
}

// subvolumeOf and createdBoot read the root's subvolume and drift wipe's
// mark on it; tests replace them.
var (
	subvolumeOf = btrfs.SubvolumeOf
	createdBoot = func(dir string) string {
		buf := make([]byte, 128)
		n, err := unix.Getxattr(dir, btrfs.XattrCreated, buf)
		if err != nil || n < 0 {
			return ""
		}
		return string(buf[:n])
	}
)

// checkWipe compares the creation time of the btrfs subvolume behind the
// audited root with the boot. It returns nil, nil when there is nothing to
// compare: the root is not btrfs (a tmpfs is new at every boot).
func checkWipe(root string, rootMount *mounts.Mount, boot Boot) (*Wipe, error) {
	if rootMount.FSType != "btrfs" {
		return nil, nil
	}
	info, err := subvolumeOf(root)
	if err != nil {
		return nil, err
	}
	if info.OTime.IsZero() {
		return nil, fmt.Errorf("subvolume %d (%s) has no creation time (a filesystem made before btrfs recorded one)", info.ID, rootMount.Root)
	}
	w := &Wipe{RootCreated: info.OTime, BootTime: boot.Time}
	w.Marked = boot.ID != "" && createdBoot(root) == boot.ID
	w.WipedThisBoot = w.Marked || !info.OTime.Before(boot.Time.Add(-WipeSlack))
	return w, nil
}
