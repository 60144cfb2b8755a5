package audit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nix-drift/drift/internal/btrfs"
)

// fromHint says what --from takes.
const fromHint = "--from latest, an old root's name in old_roots (--from 2026-11-5_09:03:07), or its directory under a mount of the top level (mount -o subvolid=5 DEV /mnt/top; --from /mnt/top/old_roots/2026-11-5_09:03:07)"

// findFrom sets m.From (and m.FromName) to the old root o.From names:
//
//   - latest, or an old-root name (btrfs.ParseName: 2026-11-5_09:03:07[.N],
//     or one denoting the same time, 2026-11-05_09:03:07): the top level of
//     the filesystem behind o.FromDevice, else of the one mounted at Root,
//     is mounted privately (m.top, released by Close); the entry of
//     o.FromOldRoots by that name, or the newest subvolume there by real
//     time, is the old root, named DEV:/old_roots/NAME in FromName.
//   - anything else: the old root's directory itself (an old root seen
//     through a mount of the top level, /mnt/top/old_roots/2026-11-5_09:03:07).
//
// Errors name --from; those the user can act on are HintErrors.
func (m *Model) findFrom(ctx context.Context, o Options) error {
	from := o.From
	if from == btrfs.Latest || isOldRootName(from) {
		if o.FromDevice != "" {
			m.top = btrfs.NewLazyTop(ctx, o.FromDevice, m.live)
		}
		top, err := m.top.Get()
		if err != nil {
			hint := "drift needs root and the btrfs partition itself (or a path on it)"
			if o.FromDevice == "" {
				hint = "old roots are found on the btrfs filesystem mounted at --root; name its partition with --device DEV, or pass the old root's directory to --from"
			}
			return &HintError{Err: fmt.Errorf("--from %s: %w", from, err), Hint: hint}
		}
		r, err := top.FindOldRoot(o.FromOldRoots, from, time.UTC, time.Now())
		if err != nil {
			return fmt.Errorf("--from %s: %w", from, err)
		}
		r.Dir = filepath.Join(top.Dir, r.Path)
		m.From, m.FromName = &r, top.Source+":/"+r.Path
		return nil
	}
	dir, err := filepath.Abs(from)
	if err != nil {
		return err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		if !strings.Contains(from, "/") {
			return &HintError{Err: fmt.Errorf("--from %s: not a directory, nor latest or an old-root name (YYYY-MM-D_hh:mm:ss[.N])", from), Hint: fromHint}
		}
		return fmt.Errorf("--from: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("--from %s: not a directory", from)
	}
	m.From = &btrfs.OldRoot{Name: filepath.Base(dir), Dir: dir, From: from, Time: fi.ModTime()}
	if info, ok := btrfs.SubvolumeRoot(dir); ok {
		m.From.OTime = info.OTime // when the boot made it (diff.MountedThen)
	}
	if t, err := btrfs.ParseName(m.From.Name, time.UTC); err == nil {
		m.From.Time, m.From.Parsed, m.From.Seq = t.Time, true, t.Seq
	}
	return nil
}

// ErrNoFrom is Build's error for Options.Need NeedFacts without Options.From:
// drift restore must be told which old root to read.
var ErrNoFrom = &HintError{Err: errors.New("--from: name the old root to restore from"), Hint: fromHint}

func isOldRootName(s string) bool {
	_, err := btrfs.ParseName(s, time.UTC)
	return err == nil
}
