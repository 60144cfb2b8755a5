package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/escape"
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
	Quiet       bool
	Workers     int
	// NoOpenTree (hidden flag) makes open_tree(2) fail, as before Linux
	// 5.2: a tree is read beneath its mounts through the top level (tests).
	NoOpenTree bool
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
There is no --root: the two trees are the arguments. A system mounted
elsewhere (a rescue system's /mnt) is B itself: drift diff
/mnt/top/old_roots/NAME /mnt.

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
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.A, opts.B = args[0], args[1]
			return runDiff(cmd.Context(), opts, st)
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		if strings.Contains(err.Error(), "--root") {
			return withHint(err, "drift diff has no --root: its two arguments are the trees; pass the mounted system as B: drift diff OLDROOT /mnt (its mounts are read beneath, as / is)")
		}
		return err
	})
	f := cmd.Flags()
	formatFlag(cmd, &opts.Format, "table", report.DiffFormats)
	f.StringArrayVar(&opts.Ignore, "ignore", nil, "skip paths matching `GLOB` in both trees (/-anchored path, or a name pattern; repeatable)")
	f.StringArrayVar(&opts.IgnoreFiles, "ignore-file", nil, "read ignore globs from `FILE`, one per line, # comments (repeatable; - for stdin)")
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "print no warnings or notes on stderr (errors still)")
	f.BoolVar(&opts.Quick, "quick", false, "same size and mtime count as the same content (read only when the mtime differs)")
	f.IntVar(&opts.Workers, "workers", 0, fmt.Sprintf("walking and comparing threads (0: automatic; at most %d)", maxWorkers))
	f.BoolVar(&opts.NoOpenTree, "no-open-tree", false, "act as if open_tree(2) were missing (tests)")
	_ = f.MarkHidden("no-open-tree")
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
	if err := stdinOnce(flagInputs("--ignore-file", opts.IgnoreFiles...)); err != nil {
		return err
	}
	ig, err := ignoreRules(ctx, opts.Ignore, opts.IgnoreFiles, st.In)
	if err != nil {
		return err
	}
	c, err := audit.Compare(ctx, audit.CompareOptions{A: opts.A, B: opts.B, Compare: diff.CompareOptions{Quick: opts.Quick, Ignore: ig, Workers: opts.Workers}, NoOpenTree: opts.NoOpenTree,
		Say: func(s audit.Said) {
			if !opts.Quiet {
				fmt.Fprintf(st.Err, "drift: %s\n", escape.Name(s.Message))
			}
		}})
	var be *audit.BeneathError
	if errors.As(err, &be) {
		return withHint(err, report.BeneathHint(be.A, be.B, be.Side, be.Root))
	}
	if err != nil {
		return err
	}
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
