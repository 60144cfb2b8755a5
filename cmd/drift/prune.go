package main

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/prune"
	"github.com/nix-drift/drift/internal/report"
	"github.com/spf13/cobra"
)

// PruneOptions are the flags of drift prune and drift prune empty.
type PruneOptions struct {
	declFlags
	auditFlags
	Format      string
	DryRun      bool
	List        bool
	Undo        string
	StoragePath string
	OlderThan   string
	// Now (hidden, RFC 3339) stands in for the current time (tests).
	Now string
}

var pruneFormats = []string{"table", "json"}

const pruneLong = `Move the stray data of the persistent storage path (what drift suggest lists
as declare-or-remove: covered by no declaration, used by nothing) into a
quarantine on the same filesystem, <storage path>/.drift-quarantine/ID, by
one rename each: nothing copied, nothing deleted. A manifest is written and
flushed first, so an interrupted prune leaves every object in place or in
the quarantine and listed. What is in use (mounted, named by the
configuration, a live symlink's target) or holds a mount point is never
moved; no symlink is followed and no mount crossed.

  drift prune --dry-run      what would move
  drift prune                move the strays
  drift prune --list         the batches, and what of each is in quarantine
  drift prune --undo ID|all  put them back where they were (never over
                             something new: that object stays, refused)
  drift prune empty --older-than 30d
                             delete the batches older than 30 days: the only
                             deletion drift does outside the wipe

The flags naming the system, its declarations and mounts are drift check's.

More, with examples: docs/prune.md in drift's repository.

EXIT STATUS
  0  done (nothing refused)
  1  done, but something was refused (listed on stderr and in the output)
  2  error (bad input, unreadable storage path, no such batch)`

func newPruneCmd(st Streams) *cobra.Command {
	opts := &PruneOptions{}
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Move stray data of the persistent storage path into a quarantine (undoable; deletes nothing)",
		Long:  pruneLong,
		Example: `  drift prune --dry-run
  drift prune && drift prune --list
  drift prune --undo 20261207T055230Z
  drift prune empty --older-than 30d`,
		Args: func(cmd *cobra.Command, args []string) error {
			if err := undoID(opts.Undo); err != nil {
				return err // before the arguments: "--undo --root /mnt" leaves /mnt one
			}
			return noArgs(cmd, args)
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return runPrune(cmd.Context(), opts, st) },
	}
	f := cmd.Flags()
	opts.declFlags.add(cmd, "prune the system mounted at this directory as its /")
	opts.auditFlags.add(cmd, "old roots: unused by drift prune (auto, a `DIR`, or none)")
	formatFlag(cmd, &opts.Format, "table", pruneFormats)
	f.BoolVarP(&opts.DryRun, "dry-run", "n", false, "say what would move (or, with --undo, be put back) and move nothing")
	f.BoolVar(&opts.List, "list", false, "list the batches in the quarantine and which of their objects are there")
	f.StringVar(&opts.Undo, "undo", "", "put the objects of the batch `ID` (or all) back where they were")
	f.StringVar(&opts.StoragePath, "storage-path", "", "only this persistent storage `PATH` of the declarations (default: every one they name)")
	f.StringVar(&opts.Now, "now", "", "the current time, RFC 3339 (tests)")
	_ = f.MarkHidden("now")
	cmd.AddCommand(newPruneEmptyCmd(st))
	return cmd
}

func newPruneEmptyCmd(st Streams) *cobra.Command {
	opts := &PruneOptions{}
	cmd := &cobra.Command{
		Use:   "empty --older-than AGE",
		Short: "Delete the quarantine's batches older than AGE (the only deletion drift does outside the wipe)",
		Long: `Delete, objects and all, the batches of drift prune's quarantine made more
than AGE ago (the manifest's created time): 30d, 12h, 90m. Never follows a
symlink and never crosses a mount while deleting. --dry-run says what would
go. EXIT STATUS: 0 done, 1 a batch could not be deleted whole, 2 error.`,
		Example: `  drift prune empty --older-than 30d --dry-run`,
		Args:    noArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return runPruneEmpty(cmd.Context(), opts, st) },
	}
	f := cmd.Flags()
	opts.declFlags.add(cmd, "the system mounted at this directory as its /")
	formatFlag(cmd, &opts.Format, "table", pruneFormats)
	f.BoolVarP(&opts.DryRun, "dry-run", "n", false, "say what would be deleted and delete nothing")
	f.StringVar(&opts.OlderThan, "older-than", "", "delete batches made more than `AGE` ago: 30d, 12h, 90m; 0d: all (required)")
	f.StringVar(&opts.StoragePath, "storage-path", "", "only this persistent storage `PATH`")
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "print no warnings on stderr")
	f.StringVar(&opts.Now, "now", "", "the current time, RFC 3339 (tests)")
	_ = f.MarkHidden("now")
	return cmd
}

// check validates the flags common to prune and prune empty.
func (o *PruneOptions) check() (time.Time, error) {
	if !slices.Contains(pruneFormats, o.Format) {
		return time.Time{}, fmt.Errorf("--format %q: expected one of %s", o.Format, strings.Join(pruneFormats, ", "))
	}
	if sp := o.StoragePath; sp != "" {
		if sp = path.Clean(sp); !strings.HasPrefix(sp, "/") || sp == "/" {
			return time.Time{}, fmt.Errorf("--storage-path %q: expected an absolute path other than /", o.StoragePath)
		}
		o.StoragePath = sp
	}
	if o.Now == "" {
		return time.Now(), nil
	}
	t, err := time.Parse(time.RFC3339, o.Now)
	if err != nil {
		return t, fmt.Errorf("--now: %w", err)
	}
	return t, nil
}

// storagePaths are where the quarantines are: --storage-path, or every
// storage path the declarations name.
func (o *PruneOptions) storagePaths(ctx context.Context, st Streams) (string, []string, error) {
	root, homes, err := o.declFlags.resolve()
	if err != nil {
		return "", nil, err
	}
	if o.StoragePath != "" {
		return root, []string{o.StoragePath}, nil
	}
	sps, warnings := prune.StoragePaths(ctx, audit.Options{Root: root, Persist: o.Persist, Flake: o.Flake, Stdin: st.In, Homes: homes}, "")
	o.warn(st, warnings)
	return root, sps, nil
}

func runPrune(ctx context.Context, opts *PruneOptions, st Streams) error {
	now, err := opts.check()
	if err != nil {
		return err
	}
	if opts.List && opts.Undo != "" {
		return fmt.Errorf("--list and --undo: choose one")
	}
	if opts.List || opts.Undo != "" {
		root, sps, err := opts.storagePaths(ctx, st)
		if err != nil {
			return err
		}
		if opts.List {
			batches, warnings := prune.List(root, sps)
			opts.warn(st, warnings)
			if err := report.WritePruneList(st.Out, batches, opts.Format); err != nil {
				return err
			}
			return notRead(sps, warnings, "the list above leaves out what is quarantined there")
		}
		undone, warnings, err := prune.Undo(root, sps, opts.Undo, opts.DryRun)
		opts.warn(st, warnings)
		if err != nil {
			if nr := notRead(sps, warnings, "what is quarantined there was not looked at"); nr != nil {
				return fmt.Errorf("%w; %w", err, nr)
			}
			return err
		}
		refused, err := report.WriteUndo(st.Out, st.Err, undone, opts.Format, opts.DryRun)
		if err == nil && refused {
			err = errLost
		}
		return err
	}
	if opts.Mountinfo != "" {
		return fmt.Errorf("--mountinfo: drift prune moves data, so it reads the live mount table")
	}
	o, err := opts.auditFlags.options(ctx, &opts.declFlags, st)
	if err != nil {
		return err
	}
	// The previous boot's root, found (not compared): a stray mounted until
	// the last boot says so (audit.Model.MountedUntilAt).
	o.Paths, o.Now, o.OldRoots, o.Previous, o.Uncompared = true, now, "auto", true, true
	m, err := audit.Build(ctx, o)
	if err != nil {
		return err
	}
	defer m.Close()
	res, err := prune.Run(ctx, m, prune.Options{StoragePath: opts.StoragePath, DryRun: opts.DryRun, Workers: opts.Workers, Now: now, Moved: prune.TestHook()})
	if res != nil {
		opts.warn(st, res.Warnings)
		if err != nil && len(res.Batches) == 0 && len(res.Refused) == 0 {
			return err // refused before anything was planned: no "no stray data to move" beside the error
		}
		if werr := report.WritePruneResult(st.Out, st.Err, res, opts.Format, opts.DryRun); err == nil {
			err = werr
		}
	}
	if err == nil && res != nil && len(res.Refused) > 0 {
		return errLost
	}
	return err
}

func runPruneEmpty(ctx context.Context, opts *PruneOptions, st Streams) error {
	now, err := opts.check()
	if err != nil {
		return err
	}
	if opts.OlderThan == "" {
		return fmt.Errorf("--older-than: required (drift deletes only batches older than an age you give: 30d)")
	}
	age, err := parseAge(opts.OlderThan)
	if err != nil {
		return err
	}
	root, sps, err := opts.storagePaths(ctx, st)
	if err != nil {
		return err
	}
	out, warnings, err := prune.Empty(root, sps, age, now, opts.DryRun)
	opts.warn(st, warnings)
	if err != nil {
		return err
	}
	failed, err := report.WritePruneEmpty(st.Out, st.Err, out, opts.Format, opts.DryRun, opts.OlderThan)
	if err != nil {
		return err
	}
	if err := notRead(sps, warnings, "nothing quarantined there was emptied"); err != nil {
		return err
	}
	if failed {
		return errLost
	}
	return nil
}

// parseAge reads an age: a number and d (days), h, m or s; 0d (or 0h…)
// is every batch, however recent.
func parseAge(s string) (time.Duration, error) {
	bad := fmt.Errorf("--older-than %q: expected an age such as 30d, 12h or 90m (0d: every batch)", s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if _, err := fmt.Sscanf(n, "%d", &days); err != nil || days < 0 || fmt.Sprint(days) != n {
			return 0, bad
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, bad
	}
	return d, nil
}

// notRead is the error (exit 2) when a storage path's quarantine could not
// be read (prune.Unreadable): the answer printed is not the whole one, and
// consequence says what it leaves out; nil when every one was read.
func notRead(sps []string, warnings []diff.Warning, consequence string) error {
	bad := prune.Unreadable(sps, warnings)
	if len(bad) == 0 {
		return nil
	}
	what := "path"
	if len(bad) > 1 {
		what = "paths"
	}
	return fmt.Errorf("could not read the persistent storage %s %s (see the warning above): %s", what, strings.Join(bad, ", "), consequence)
}

func (o *PruneOptions) warn(st Streams, ws []diff.Warning) {
	for _, w := range ws {
		if !o.Quiet {
			printWarning(st, w)
		}
	}
}

// undoID refuses an --undo value that is a flag ("--undo --root /mnt":
// --undo took the next flag for its ID), naming the ID it expects.
func undoID(id string) error {
	if !strings.HasPrefix(id, "-") {
		return nil
	}
	return withHint(fmt.Errorf("--undo %q: expected a batch ID (such as 20261207T055230Z) or all, not a flag", id),
		"give the ID right after --undo: drift prune --undo ID; drift prune --list shows the batches' IDs, and drift prune prints the --undo command of each batch it makes")
}
