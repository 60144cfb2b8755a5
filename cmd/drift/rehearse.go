package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/jsonschema"
	"github.com/nix-drift/drift/internal/rehearse"
	"github.com/nix-drift/drift/internal/suggest"
	"github.com/nix-drift/drift/internal/units"
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

var rehearseFormats = []string{"table", "json", "prom"}

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
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRehearse(cmd.Context(), opts, st) },
	}
	f := cmd.Flags()
	opts.declFlags.add(cmd, "the system mounted at this directory as its /")
	opts.auditFlags.add(cmd, "old roots: auto (old_roots next to the root subvolume), a `DIR` of old roots, or none")
	formatFlag(cmd, &opts.Format, "table", rehearseFormats)
	f.StringVar(&opts.Reports, "reports", "", "the shutdown reports' `DIR` (default: <persistent storage path>/var/lib/drift/shutdown in --root, as services.drift.auditOnShutdown keeps them)")
	f.IntVar(&opts.Boots, "boots", defaultReportBoots, "read the last `N` shutdown reports")
	f.IntVar(&opts.MinBoots, "min-boots", rehearse.DefaultMinBoots, "the verdict needs at least `N` reports")
	return cmd
}

func runRehearse(ctx context.Context, opts *RehearseOptions, st Streams) error {
	if !slices.Contains(rehearseFormats, opts.Format) {
		return fmt.Errorf("--format %q: expected one of %s", opts.Format, strings.Join(rehearseFormats, ", "))
	}
	if opts.Boots < 1 || opts.MinBoots < 1 {
		return fmt.Errorf("--boots %d, --min-boots %d: expected positive numbers", opts.Boots, opts.MinBoots)
	}
	o, err := opts.auditFlags.options(&opts.declFlags, st)
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
	res, err := rehearse.Run(ctx, m, rehearse.Options{Dir: opts.Reports, Boots: opts.Boots, MinBoots: opts.MinBoots, Suggest: suggest.Options{Homes: o.Homes, Now: now, Workers: opts.Workers}})
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
	if err := writeRehearsal(st.Out, res, opts.Format); err != nil {
		return err
	}
	if !res.Ready {
		return errLost
	}
	return nil
}

// rehearsalJSON is drift rehearse --format json (docs/schema/rehearse.json).
type rehearsalJSON struct {
	Schema    string           `json:"$schema"`
	Version   int              `json:"version"`
	Rehearsal *rehearse.Result `json:"rehearsal"`
}

func writeRehearsal(w io.Writer, r *rehearse.Result, format string) error {
	switch format {
	case "json":
		for _, l := range []*[]string{&r.Reports, &r.Persist, &r.Ignore, &r.Adopt, &r.Decide, &r.Redeclare} {
			if *l == nil {
				*l = []string{}
			}
		}
		if r.Left == nil {
			r.Left = []rehearse.Left{}
		}
		if r.Paths == nil {
			r.Paths = []rehearse.Path{}
		}
		return writeJSON(w, rehearsalJSON{jsonschema.ID("rehearse"), 1, r})
	case "prom":
		ready := 0
		if r.Ready {
			ready = 1
		}
		fmt.Fprintf(w, "# HELP drift_rehearsal_ready Whether the wipe may be turned on (drift rehearse's verdict): 1 ready, 0 not.\n# TYPE drift_rehearsal_ready gauge\ndrift_rehearsal_ready %d\n", ready)
		fmt.Fprintf(w, "# HELP drift_rehearsal_reports Shutdown reports the verdict read.\n# TYPE drift_rehearsal_reports gauge\ndrift_rehearsal_reports %d\n", len(r.Reports))
		fmt.Fprintf(w, "# HELP drift_rehearsal_paths Paths lost at the latest shutdown that need a step before the wipe.\n# TYPE drift_rehearsal_paths gauge\n")
		fmt.Fprintf(w, "drift_rehearsal_paths{step=\"persist\"} %d\ndrift_rehearsal_paths{step=\"ignore\"} %d\ndrift_rehearsal_paths{step=\"adopt\"} %d\n", len(r.Persist), len(r.Ignore), len(r.Adopt))
		fmt.Fprintf(w, "drift_rehearsal_paths{step=\"decide\"} %d\ndrift_rehearsal_paths{step=\"redeclare\"} %d\ndrift_rehearsal_paths{step=\"left\"} %d\n", len(r.Decide), len(r.Redeclare), len(r.Left))
		return nil
	}
	fmt.Fprintf(w, "%s read\n\n", units.Plural(int64(len(r.Reports)), "shutdown report", "shutdown reports"))
	if len(r.Paths) > 0 {
		fmt.Fprintf(w, "%-6s %-10s %-18s %-9s %10s  %s\n", "LOST", "KIND", "NOW", "STEP", "SIZE", "PATH")
	}
	for _, p := range r.Paths {
		step := p.Step
		if step == "" {
			step = "-"
		}
		fmt.Fprintf(w, "%-6s %-10s %-18s %-9s %10s  %s\n", fmt.Sprintf("%d/%d", p.Lost, len(r.Reports)), p.Kind, p.Now, step, units.Bytes(p.Bytes), escape.Name(p.Path))
	}
	verdict := "NOT READY"
	if r.Ready {
		verdict = "READY"
	}
	fmt.Fprintf(w, "\nverdict: %s: %s\nnext: %s\n", verdict, r.Reason, escape.Name(r.Next))
	return nil
}
