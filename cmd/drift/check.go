package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/report"
	"github.com/spf13/cobra"
)

// CheckOptions are the flags of drift check.
type CheckOptions struct {
	declFlags
	auditFlags
	Format string
	All    bool
	// BootTime (RFC 3339) and BootID (hidden flags) stand in for this
	// boot's time and id in the wipe check (tests: a root created before a
	// real boot cannot be made).
	BootTime string
	BootID   string
	// NoOpenTree (hidden flag) makes open_tree(2) fail with ENOSYS, as
	// before Linux 5.2 (tests of --root-subvol auto's fallback).
	NoOpenTree bool
	// Color is --color: auto, always or never (report.UseColor).
	Color string
	// ProgressAfter (hidden flag) is how long the walk runs before the
	// progress line appears (tests: 0).
	ProgressAfter time.Duration
}

func newCheckCmd(st Streams) *cobra.Command {
	opts := &CheckOptions{}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Pre-reboot check: list what the next boot would lose",
		Long: `Walk the root, classify every path on the ephemeral side, and report what the
next boot loses. Categories (lost unless noted):

  unpersisted        on the ephemeral root, covered by no declaration
  declared-unbacked  declared, but the live data is on the ephemeral root
                     (drift adopt keeps it)
  unmounted          bind-mounted from persistent storage, no longer declared
  shadowed           under a mount point on the ephemeral filesystem
  covered            declared, on another persistent filesystem, but not
                     mounted from its persistent copy
  ignored            matched --ignore or --ignore-file (hidden unless --all)
  copied, recreated  not lost: the same in persistent storage; re-made at boot

A warning comes first when the wipe did not run at this boot. With the
previous boot's root (--old-roots auto) each lost path gets a history, and
what the last reboot destroyed is listed with the drift restore command that
brings it back. Declarations: --persist or --flake, else
ROOT/etc/drift/declarations.json (the module writes it), else ROOT/etc/nixos.

More, with examples: docs/check.md and docs/how-it-works.md in drift's
repository.

EXIT STATUS
  0  nothing would be lost
  1  something would be lost, a directory on the ephemeral side could not be
     read, or an SSH host key changed since the previous root
  2  error (bad input, unreadable root, not an impermanent root)
  130, 143  interrupted by SIGINT or SIGTERM before the report was complete`,
		Example: `  drift check
  drift check --persist /etc/nixos/impermanence.nix
  drift check --flake /etc/nixos#myhost --format json
  drift check --root /mnt --persist decl.json --format paths0 | xargs -0 -I{} ls -ld /mnt{}
  drift check --ignore '/var/cache' --ignore '*.tmp' --ignore-file ~/.config/drift/ignore
  drift check --root-subvol /@ --old-roots none
  drift check --format prom > drift.prom.tmp; [ $? -le 1 ] && mv drift.prom.tmp drift.prom`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCheck(cmd.Context(), opts, st) },
	}
	f := cmd.Flags()
	opts.declFlags.add(cmd, "audit the system mounted at this directory as its /")
	formatFlag(cmd, &opts.Format, "table", report.Formats)
	f.BoolVar(&opts.All, "all", false, "include ignored paths in the output")
	opts.auditFlags.add(cmd, "the previous boot's root: auto (the newest in old_roots next to the root subvolume), a `DIR` of old roots, or none")
	f.StringVar(&opts.BootTime, "boot-time", "", "this boot's time, RFC 3339 (tests; default /proc/stat btime)")
	f.StringVar(&opts.BootID, "boot-id", "", "this boot's id (tests; default /proc/sys/kernel/random/boot_id)")
	f.BoolVar(&opts.NoOpenTree, "no-open-tree", false, "act as if open_tree(2) were missing (tests)")
	_ = f.MarkHidden("no-open-tree")
	_ = f.MarkHidden("boot-time")
	_ = f.MarkHidden("boot-id")
	f.StringVar(&opts.Color, "color", "auto", "colour the table: auto (when stdout is a terminal and NO_COLOR is unset), always, never")
	f.DurationVar(&opts.ProgressAfter, "progress-after", report.ProgressDelay, "show progress once the walk has run this long (tests)")
	_ = f.MarkHidden("progress-after")
	completeValues(cmd, "color", report.ColorModes)
	return cmd
}

func runCheck(ctx context.Context, opts *CheckOptions, st Streams) error {
	if !slices.Contains(report.Formats, opts.Format) {
		return fmt.Errorf("--format %q: expected one of %s", opts.Format, strings.Join(report.Formats, ", "))
	}
	color, err := report.UseColor(opts.Color, st.OutIsTerminal, os.Getenv("NO_COLOR"), os.Getenv("TERM"))
	if err != nil {
		return err
	}
	stop, err := opts.profile()
	if err != nil {
		return err
	}
	defer stop()
	o, err := opts.auditFlags.options(ctx, &opts.declFlags, st)
	if err != nil {
		return err
	}
	if o.Boot, err = bootSource(opts.BootTime, opts.BootID); err != nil {
		return err
	}
	o.Previous, o.CheckWipe, o.NoOpenTree = true, true, opts.NoOpenTree
	o.Paths = opts.Format == "paths" || opts.Format == "paths0"
	// A progress line on the terminal after a second, erased when the walk
	// ends.
	m, err := opts.build(ctx, st, o, opts.ProgressAfter)
	if err != nil {
		return err
	}
	defer m.Close()
	a := m.Audit
	if !opts.Quiet {
		for _, w := range report.CheckWarnings(a, m.SaidWarnings, opts.Format, opts.Verbose) {
			printWarning(st, w)
		}
	}
	if err := report.Write(st.Out, a, report.Options{Format: opts.Format, All: opts.All, Color: color,
		Metrics: report.Metrics{OldRoots: m.OldRoots.Count}}); err != nil {
		return err
	}
	if a.LostTotal(false).Count > 0 || len(a.Errors) > 0 || a.Losing() {
		return errLost
	}
	return nil
}

// bootSource returns where the wipe check reads this boot from:
// diff.CurrentBoot, with the time and id replaced by --boot-time and
// --boot-id when given.
func bootSource(bootTime, bootID string) (func() (diff.Boot, error), error) {
	var at time.Time
	if bootTime != "" {
		t, err := time.Parse(time.RFC3339, bootTime)
		if err != nil {
			return nil, fmt.Errorf("--boot-time: %w", err)
		}
		at = t
	}
	return func() (diff.Boot, error) {
		b, err := diff.CurrentBoot()
		if !at.IsZero() {
			b.Time, err = at, nil
		}
		if bootID != "" {
			b.ID = bootID
		}
		return b, err
	}, nil
}
