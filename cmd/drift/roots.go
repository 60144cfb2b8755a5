package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/report"
	"github.com/spf13/cobra"
)

// RootsOptions are the flags of drift roots.
type RootsOptions struct {
	Device   string
	Top      string
	Subvol   string
	OldRoots string
	KeepDays int
	KeepMin  int
	Format   string
	Now      string
	Quiet    bool
}

func newRootsCmd(st Streams) *cobra.Command {
	opts := &RootsOptions{}
	cmd := &cobra.Command{
		Use:   "roots (--device DEV | --top DIR)",
		Short: "List old roots in chronological order, with age and what the next wipe does",
		Long: `List the entries of old_roots oldest first by real time (the time in the
name, else the subvolume's creation time; never string order), each with its
age, whether the next drift wipe (with the same --keep-days/--keep-min)
deletes it and why, and its nested subvolumes. The root the next boot retires
is listed too. --device mounts the top level detached (needs root); --top
reads a top level you mounted yourself (mount -o subvolid=5).

More, with examples: docs/roots.md in drift's repository.

EXIT STATUS
  0  listed
  2  error
  130, 143  interrupted by SIGINT or SIGTERM before the report was complete
            (a second signal exits at once)`,
		Example: `  drift roots --device /dev/vda2
  drift roots --top /mnt/btrfs-top --format json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRoots(cmd.Context(), opts, st) },
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		if strings.Contains(err.Error(), "--root") {
			return withHint(err, "drift roots has no --root: it reads the btrfs filesystem's top level, not a mounted system; name the filesystem: --device DEV (the partition, or any path on it, the mounted system's too) or --top DIR (its top level, mounted with subvolid=5)")
		}
		return err
	})
	f := cmd.Flags()
	f.StringVar(&opts.Device, "device", "", "the btrfs filesystem: a block `DEV`, or a path on it")
	f.StringVar(&opts.Top, "top", "", "a `DIR` where the top level (subvolid=5) is mounted")
	f.StringVar(&opts.Subvol, "subvol", "root", "the root subvolume, relative to the top level")
	f.StringVar(&opts.OldRoots, "old-roots", "old_roots", "the directory old roots are kept in, relative to the top level")
	f.IntVar(&opts.KeepDays, "keep-days", 30, "as for drift wipe")
	f.IntVar(&opts.KeepMin, "keep-min", 1, "as for drift wipe")
	formatFlag(cmd, &opts.Format, "table", report.WipeFormats)
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "print no warnings on stderr")
	f.StringVar(&opts.Now, "now", "", "the current time, RFC 3339 (tests)")
	_ = f.MarkHidden("now")
	cmd.MarkFlagsMutuallyExclusive("device", "top")
	return cmd
}

func runRoots(ctx context.Context, opts *RootsOptions, st Streams) error {
	if opts.Format != "table" && opts.Format != "json" {
		return fmt.Errorf("--format %q: expected table or json", opts.Format)
	}
	if (opts.Device == "") == (opts.Top == "") {
		return withHint(fmt.Errorf("exactly one of --device and --top is required"), "drift roots --device /dev/vda2")
	}
	bo, err := btrfsOptions(opts.Subvol, opts.OldRoots, opts.KeepDays, opts.KeepMin, opts.Now)
	if err != nil {
		return err
	}
	roots, err := audit.ListRoots(ctx, audit.RootsOptions{Device: opts.Device, Top: opts.Top, Wipe: bo})
	if err != nil {
		return err
	}
	for _, w := range roots.Warnings {
		if !opts.Quiet {
			printWarning(st, w)
		}
	}
	return report.WriteRoots(st.Out, roots.OldRoots, roots.Now, opts.Format)
}
