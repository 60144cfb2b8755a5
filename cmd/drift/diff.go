package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/report"
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
  M  changed   a regular file whose content differs (size, else its bytes,
               compared side by side); its mode or owner may differ too
  T  meta      same content, but the type, mode, owner (uid/gid) or symlink
               target differ
  !  error     could not be compared (unreadable, replaced during the walk)

Paths that are the same are counted, not listed. Symlinks are never
followed; files are read only when their sizes match, by as many workers as
walk, holes of sparse files skipped. With --quick a file of the same size
and mtime in both trees counts as the same without being read (a rewrite
that restores the mtime is then missed). Each walk stays on its tree's
filesystem: a mount point or nested subvolume is compared as a directory,
not read. Directory sizes and times, inode numbers and link counts are not
compared.

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
	for _, d := range []string{opts.A, opts.B} {
		if fi, err := os.Stat(d); err != nil {
			return err
		} else if !fi.IsDir() {
			return fmt.Errorf("%s: not a directory", d)
		}
	}
	c, err := diff.Compare(ctx, opts.A, opts.B, diff.CompareOptions{Quick: opts.Quick, Ignore: ig, Workers: opts.Workers})
	if err != nil {
		return err
	}
	if err := report.WriteComparison(st.Out, c, opts.Format); err != nil {
		return err
	}
	switch {
	case c.Counts[diff.Failed] > 0:
		return withHint(fmt.Errorf("%w (%s)", errDiffFailed, report.Plural(c.Counts[diff.Failed], "error", "errors")), "run as root to read every file")
	case c.Differ():
		return errLost
	}
	return nil
}
