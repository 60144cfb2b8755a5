package audit

import (
	"context"
	"time"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/mounts"
)

// RootsOptions are drift roots': where the top level is, and the wipe
// whose plan says what happens to each old root.
type RootsOptions struct {
	// Device is --device: a block device, or a path on a mounted btrfs
	// filesystem, whose top level is mounted privately (btrfs.OpenTop);
	// else Top, --top, is a top level the user mounted (btrfs.OpenTopDir).
	Device, Top string
	// Wipe are the wipe's options (--subvol, --old-roots, --keep-days,
	// --keep-min, --now); the plan is always a preview of the next boot's
	// wipe (btrfs.Options.Preview).
	Wipe btrfs.Options
}

// Roots is what drift roots lists: the old roots of a top level.
type Roots struct {
	// OldRoots are the entries of old_roots oldest first by real time,
	// with the root the next boot retires, each with what the next wipe
	// does to it (btrfs.Plan.OldRoots).
	OldRoots []btrfs.Decision
	// Now is the time ages are counted at.
	Now time.Time
	// Warnings are the plan's (of kind old-roots): what makes it keep
	// something.
	Warnings []diff.Warning
}

// ListRoots opens the top level (OpenTop), lists its old roots and plans
// the next boot's wipe over them. Nothing is walked or changed. Errors:
// opening the top level, btrfs.Top.Plan's.
func ListRoots(ctx context.Context, o RootsOptions) (*Roots, error) {
	table, err := LoadMounts("/", "")
	if err != nil {
		return nil, err
	}
	top, err := OpenTop(ctx, o.Device, o.Top, table)
	if err != nil {
		return nil, err
	}
	defer top.Close()
	o.Wipe.Preview = true
	plan, err := top.Plan(o.Wipe)
	if err != nil {
		return nil, err
	}
	r := &Roots{OldRoots: plan.OldRoots, Now: plan.Options.Now}
	for _, w := range plan.Warnings {
		r.Warnings = append(r.Warnings, diff.Warning{Kind: diff.WarnOldRoots, Message: w})
	}
	return r, top.Close()
}

// OpenTop opens the top level (subvolid=5) of a btrfs filesystem: with
// device (a block device, or a path on the filesystem), mounted privately
// on a temporary directory (btrfs.OpenTop, as the Model's top level is);
// else the one mounted at dir (btrfs.OpenTopDir). table is the live mount
// table (LoadMounts of /), read once by the caller; nil: read here. Close
// it when done.
func OpenTop(ctx context.Context, device, dir string, table *mounts.Table) (*btrfs.Top, error) {
	if device != "" {
		return btrfs.OpenTop(ctx, device, table)
	}
	return btrfs.OpenTopDir(dir, table)
}
