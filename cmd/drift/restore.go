package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/report"
	"github.com/nix-drift/drift/internal/restore"
	"github.com/spf13/cobra"
)

// RestoreOptions are the flags of drift restore.
type RestoreOptions struct {
	Path     string
	From     string
	Device   string
	OldRoots string
	To       string
	declFlags
	Force        bool
	BeneathMount bool
	DryRun       bool
	Quiet        bool
}

func newRestoreCmd(st Streams) *cobra.Command {
	opts := &RestoreOptions{}
	cmd := &cobra.Command{
		Use:   "restore PATH --from latest|NAME|DIR",
		Short: "Copy a file or directory back from an old root",
		Long: `Copy PATH (a path as the live system sees it) back from an old root, keeping
mode, owner, times, extended attributes, symlinks and hard links.

--from names the old root: latest (the newest by real time), its name in
old_roots (2026-11-05_09:03:07), or its directory under a mount of the top
level. The copy goes into the persistent storage that covers PATH per the
declarations, so it survives the next boot (a PATH no declaration covers is
refused); --to live puts it at PATH under --root instead.

A btrfs subvolume of the old root (PATH, or one inside it) comes back as a
subvolume with --to live where the live root is btrfs. Into persistent
storage it comes back as a plain directory, with a warning saying why: a
snapshot of the persistent subvolume (a btrbk or snapper backup) would leave
a nested subvolume out. Off btrfs it is a plain directory too, with a warning.

No symlink is followed, on either side; an existing destination is replaced
only with --force, never when it is or holds a mount or a btrfs subvolume.
The copy is built beside the destination and renamed into place: the
destination is untouched or complete. --dry-run changes nothing, and lists
what replacing would delete (what only the destination holds, and a count).
Declarations are found as for drift check.

More, with examples: docs/restore.md in drift's repository.

EXIT STATUS
  0  restored (or, with --dry-run, the restore is possible)
  2  error (nothing restored: bad input, undeclared PATH, an existing
     destination without --force, a symlink in the way, a declared PATH
     whose persistent copy was mounted over it at that boot)
  130, 143  interrupted by SIGINT or SIGTERM: nothing restored`,
		Example: `  drift restore /etc/ssh --from latest --dry-run
  drift restore /var/lib/bluetooth --from 2026-11-05_09:03:07 --device /dev/disk/by-label/nixos
  drift restore /etc/ssh --from /mnt/top/old_roots/2026-11-05_09:03:07 --dry-run
  drift restore /var/lib/bluetooth --from /mnt/top/old_roots/2026-11-05_09:03:07
  drift restore /home/alice/notes.txt --from /mnt/top/old_roots/2026-11-05_09:03:07 --to live
  drift restore /srv/app --from latest --force`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Path = args[0]
			return runRestore(cmd.Context(), opts, st)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.From, "from", "", "the old root: latest, its `NAME` in old_roots (2026-11-05_09:03:07), or its top directory (/mnt/top/old_roots/2026-11-05_09:03:07)")
	f.StringVar(&opts.Device, "device", "", "with --from latest|NAME: the btrfs partition `DEV` holding old_roots (default: the filesystem mounted at --root)")
	f.StringVar(&opts.OldRoots, "old-roots", "old_roots", "with --from latest|NAME: where old roots are kept, relative to the top level")
	f.StringVar(&opts.To, "to", "persist", "where the copy goes: persist (the persistent storage covering PATH) or live (PATH under --root)")
	opts.declFlags.add(cmd, "the live system is mounted at this directory")
	f.BoolVar(&opts.Force, "force", false, "replace an existing destination (atomically)")
	f.BoolVar(&opts.BeneathMount, "beneath-mount", false, "restore a declared path whose persistent copy was mounted over it at that boot (what lay beneath the mount), or holds the same or newer data there")
	f.BoolVar(&opts.DryRun, "dry-run", false, "print what would be copied and where; change nothing")
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "print no warnings on stderr (errors still, those in the declarations too)")
	completeValues(cmd, "to", []string{"persist", "live"})
	completeKeywords(cmd, "from", []string{"latest"}, pathDir)
	return cmd
}

func runRestore(ctx context.Context, opts *RestoreOptions, st Streams) error {
	p, err := restore.CleanPath(opts.Path)
	if err != nil {
		return err
	}
	to, err := restore.ParseTarget(opts.To)
	if err != nil {
		return err
	}
	if opts.OldRoots, err = btrfs.CleanRel("--old-roots", opts.OldRoots); err != nil {
		return err
	}
	root, homes, err := opts.declFlags.resolve()
	if err != nil {
		return err
	}
	if opts.From == "" {
		return audit.ErrNoFrom
	}
	m, err := audit.Build(ctx, audit.Options{Root: root, Persist: opts.Persist, Flake: opts.Flake, Stdin: st.In, Homes: homes,
		Need: audit.NeedFacts, From: opts.From, FromDevice: opts.Device, FromOldRoots: opts.OldRoots, Say: opts.say(st)})
	if err != nil {
		return err
	}
	defer m.Close()
	res, err := restore.FromModel(ctx, m, restore.Options{Path: p, To: to, Force: opts.Force, BeneathMount: opts.BeneathMount, DryRun: opts.DryRun, Copied: restore.TestHook()})
	if !opts.Quiet && res != nil {
		for _, w := range res.Warnings {
			printWarning(st, w)
		}
	}
	var h *restore.HintError
	if errors.As(err, &h) {
		return withHint(h.Err, h.Hint)
	}
	if err != nil {
		return err
	}
	if opts.DryRun {
		report.WriteRestorePlan(st.Out, root, res.Result, res.Entry, res.Declared)
		return nil
	}
	verb := "restored"
	if res.Replaced {
		verb = "replaced"
	}
	fmt.Fprintf(st.Out, "%s %s from %s: %s\n", verb, escape.Name(res.DestFull), escape.Name(res.Source), report.RestoreSummary(res.Result))
	if res.Replaced {
		fmt.Fprintf(st.Out, "deleted %s\n", report.ReplacedSummary(res.Result))
		report.WriteNewer(st.Out, root, res.Result)
	}
	return nil
}

// say renders what the model says on the way: the declarations'
// diagnostics of a warning or worse and warnings, unless --quiet (drift
// restore has no --verbose); their errors always (diagError).
func (opts *RestoreOptions) say(st Streams) func(audit.Said) {
	return func(s audit.Said) {
		switch {
		case s.Note:
		case diagError(s):
			printDiagnostic(st, *s.Diagnostic, false)
		case opts.Quiet:
		case s.Diagnostic != nil:
			printDiagnostic(st, *s.Diagnostic, false)
		default:
			printWarning(st, s.Warning)
		}
	}
}
