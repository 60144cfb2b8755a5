package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/rehearse"
	"github.com/nix-drift/drift/internal/report"
	"github.com/nix-drift/drift/internal/suggest"
	"github.com/spf13/cobra"
)

// RehearseOptions are the flags of drift rehearse.
type RehearseOptions struct {
	declFlags
	auditFlags
	Format   string
	Reports  string
	Boots    int
	MinBoots int
}

// defaultReportBoots is --boots' default: the shutdown reports the module
// keeps by default (auditOnShutdown.keep).
const defaultReportBoots = 10

func newRehearseCmd(st Streams) *cobra.Command {
	opts := &RehearseOptions{}
	cmd := &cobra.Command{
		Use:   "rehearse",
		Short: "Read the kept shutdown reports: what the wipe would have destroyed, and whether you are ready to turn it on",
		Long: `Say when a machine is ready to turn the wipe on. While
services.drift.wipe.rehearse = true wipes nothing and keeps a drift check
report at every shutdown, drift rehearse reads the last --boots of them and
lists, per path the wipe would have destroyed: LOST (in how many reports),
KIND (state, identical or once), NOW (drift check's word for it now) and
STEP (persist, ignore, adopt, decide, redeclare, or left to you: what it
needs before the wipe, each a step the named command accepts).

The verdict: not ready with fewer than --min-boots reports (default 3), or
while a path lost in the latest report is still lost now; else ready. The
last line is the exact next step. --format prom writes metrics for fleets.
The flags naming the system, its declarations, mounts and old roots are
drift check's.

More, with examples: docs/rehearse.md in drift's repository.

EXIT STATUS
  0  ready
  1  not ready
  2  error (no report directory, bad input)`,
		Example: `  drift rehearse
  drift rehearse --reports /persist/var/lib/drift/shutdown --boots 5
  drift rehearse --format prom > /var/lib/prometheus-node-exporter/textfile/drift-rehearsal.prom`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRehearse(cmd.Context(), opts, st) },
	}
	f := cmd.Flags()
	opts.declFlags.add(cmd, "the system mounted at this directory as its /")
	opts.auditFlags.add(cmd, "old roots: auto (old_roots next to the root subvolume), a `DIR` of old roots, or none")
	formatFlag(cmd, &opts.Format, "table", report.RehearseFormats)
	f.StringVar(&opts.Reports, "reports", "", "the shutdown reports' `DIR` (default: <persistent storage path>/var/lib/drift/shutdown in --root, as services.drift.auditOnShutdown keeps them)")
	f.IntVar(&opts.Boots, "boots", defaultReportBoots, "read the last `N` shutdown reports")
	f.IntVar(&opts.MinBoots, "min-boots", rehearse.DefaultMinBoots, "the verdict needs at least `N` reports")
	return cmd
}

func runRehearse(ctx context.Context, opts *RehearseOptions, st Streams) error {
	if !slices.Contains(report.RehearseFormats, opts.Format) {
		return fmt.Errorf("--format %q: expected one of %s", opts.Format, strings.Join(report.RehearseFormats, ", "))
	}
	if opts.Boots < 1 || opts.MinBoots < 1 {
		return fmt.Errorf("--boots %d, --min-boots %d: expected positive numbers", opts.Boots, opts.MinBoots)
	}
	o, err := opts.auditFlags.options(ctx, &opts.declFlags, st)
	if err != nil {
		return err
	}
	now := time.Now()
	o.Boots, o.Now, o.Paths = defaultBoots, now, true
	m, err := audit.Build(ctx, o)
	if err != nil {
		return err
	}
	defer m.Close()
	res, err := rehearse.Run(ctx, m, rehearse.Options{Dir: opts.Reports, Boots: opts.Boots, MinBoots: opts.MinBoots, Suggest: suggest.Options{Now: now, Workers: opts.Workers}})
	var re *rehearse.ReportsError
	if errors.As(err, &re) {
		return withHint(err, "point drift at the reports with --reports DIR (services.drift.auditOnShutdown.directory)")
	}
	if err != nil {
		return err
	}
	if !opts.Quiet {
		for _, w := range res.Warnings {
			printWarning(st, w)
		}
	}
	if err := report.WriteRehearsal(st.Out, res, opts.Format); err != nil {
		return err
	}
	if !res.Ready {
		return errLost
	}
	return nil
}
