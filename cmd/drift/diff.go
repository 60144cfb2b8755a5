package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/report"
	"github.com/nix-drift/drift/internal/units"
	"github.com/spf13/cobra"
)

// DiffOptions are the flags of drift diff.
type DiffOptions struct {
	A, B        string
	Format      string
	Ignore      []string
	IgnoreFiles []string
	Quick       bool
	Workers     int
}

func newDiffCmd(st Streams) *cobra.Command {
	opts := &DiffOptions{}
	cmd := &cobra.Command{
		Use:   "diff A B",
		Short: "Compare two trees (an old root and the live one, or any two) by content",
		Long: `Walk the directories A and B together and report every path that differs:

  +  added     only in B
  -  removed   only in A
  M  changed   a regular file whose content differs
  T  meta      same content, but the type, mode, owner or symlink target differ
  !  error     could not be compared

Paths that are the same are counted, not listed; symlinks are never
followed; with --quick a file of the same size and mtime counts as the same
unread. drift diff OLDROOT / answers "what changed on the root subvolume
since that old root": a tree with mounts below it is read beneath them, as
the old root is (needs root), and what is mounted there is not compared.

More, with examples: docs/diff.md in drift's repository.

EXIT STATUS
  0  A and B are the same
  1  they differ
  2  error (bad input, A or B unreadable), or a path could not be compared
  130, 143  interrupted by SIGINT or SIGTERM before the report was complete
            (a second signal exits at once)`,
		Example: `  drift diff /mnt/top/old_roots/2026-11-10_09:00:00 /
  drift diff A B --format paths | grep '^M '
  drift diff A B --quick --ignore /var/cache --ignore '*.log' --format json`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.A, opts.B = args[0], args[1]
			return runDiff(cmd.Context(), opts, st)
		},
	}
	f := cmd.Flags()
	formatFlag(cmd, &opts.Format, "table", report.DiffFormats)
	f.StringArrayVar(&opts.Ignore, "ignore", nil, "skip paths matching `GLOB` in both trees (/-anchored path, or a name pattern; repeatable)")
	f.StringArrayVar(&opts.IgnoreFiles, "ignore-file", nil, "read ignore globs from `FILE`, one per line, # comments (repeatable)")
	f.BoolVar(&opts.Quick, "quick", false, "same size and mtime count as the same content (read only when the mtime differs)")
	f.IntVar(&opts.Workers, "workers", 0, fmt.Sprintf("walking and comparing threads (0: automatic; at most %d)", maxWorkers))
	return cmd
}

// errDiffFailed: some path could not be compared (exit 2, after the report).
var errDiffFailed = fmt.Errorf("some paths could not be compared")

func runDiff(ctx context.Context, opts *DiffOptions, st Streams) error {
	if !slices.Contains(report.DiffFormats, opts.Format) {
		return fmt.Errorf("--format %q: expected one of %s", opts.Format, strings.Join(report.DiffFormats, ", "))
	}
	if err := checkWorkers(opts.Workers); err != nil {
		return err
	}
	ig := &diff.Ignore{}
	for _, g := range opts.Ignore {
		if err := ig.Add(g, "--ignore"); err != nil {
			return err
		}
	}
	for _, name := range opts.IgnoreFiles {
		if err := ig.AddFile(name); err != nil {
			return fmt.Errorf("--ignore-file: %w", err)
		}
	}
	table, err := mounts.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	var dirs [2]string
	for i, d := range []string{opts.A, opts.B} {
		b, err := btrfs.OpenBeneath(ctx, d, table)
		var be *btrfs.BeneathError
		if errors.As(err, &be) {
			return withHint(err, beneathHint(opts, i, os.Geteuid() == 0))
		}
		if err != nil {
			return err
		}
		defer b.Close()
		if len(b.Mounts) > 0 {
			fmt.Fprintf(st.Err, "drift: reading %s beneath the %s below it, as an old root is read: what is mounted there is not compared\n",
				escape.Name(d), escape.Name(btrfs.MountList(b.Mounts, 3)))
		}
		dirs[i] = b.Dir
	}
	c, err := diff.Compare(ctx, dirs[0], dirs[1], diff.CompareOptions{Quick: opts.Quick, Ignore: ig, Workers: opts.Workers})
	if err != nil {
		return err
	}
	c.A, c.B = opts.A, opts.B
	if err := report.WriteComparison(st.Out, c, opts.Format); err != nil {
		return err
	}
	switch {
	case c.Counts[diff.Failed] > 0:
		return withHint(fmt.Errorf("%w (%s)", errDiffFailed, units.Plural(c.Counts[diff.Failed], "error", "errors")), "run as root to read every file")
	case c.Differ():
		return errLost
	}
	return nil
}

// beneathHint is the command that compares side (0: A, 1: B) of opts
// beneath its mounts when drift could not: as root, a non-recursive bind
// mount of it, which shows it without the mounts below it; else the same
// drift diff as root.
func beneathHint(opts *DiffOptions, side int, root bool) string {
	args := []string{opts.A, opts.B}
	if !root {
		return fmt.Sprintf("reading it beneath its mounts needs root: sudo drift diff %s %s", report.ShellQuote(args[0]), report.ShellQuote(args[1]))
	}
	given := args[side]
	args[side] = "/mnt/beneath"
	return fmt.Sprintf("a bind mount without --rbind shows it without the mounts below it: mkdir -p /mnt/beneath && mount --bind %s /mnt/beneath && drift diff %s %s; umount /mnt/beneath",
		report.ShellQuote(given), report.ShellQuote(args[0]), report.ShellQuote(args[1]))
}
