package main

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/report"
	"github.com/nix-drift/drift/internal/suggest"
	"github.com/spf13/cobra"
)

// SuggestOptions are the flags of drift suggest.
type SuggestOptions struct {
	declFlags
	auditFlags
	Format      string
	Boots       int
	StoragePath string
	// Now (hidden flag, RFC 3339) stands in for the current time: recency
	// and old roots' ages (tests).
	Now string
}

// defaultBoots is --boots' default: the old roots of the last five boots,
// as many as drift check compares a path the same in the previous root
// with (audit.DefaultBoots).
const defaultBoots = audit.DefaultBoots

func newSuggestCmd(st Streams) *cobra.Command {
	opts := &SuggestOptions{}
	return suggestCommand(opts, func(ctx context.Context) error { return runSuggest(ctx, opts, st) })
}

// suggestCommand is drift suggest's command, its flags parsed into opts,
// running run.
func suggestCommand(opts *SuggestOptions, run func(context.Context) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "suggest",
		Short: "Which paths to persist, ranked with evidence, as a ready-to-paste Nix snippet",
		Long: `Run the audit of drift check, then turn what the next boot would lose into a
short ranked list: what to persist, what to ignore, and what lies in the
persistent storage path that no declaration covers any more.

Each unpersisted path is rolled up to its application's own directory
(/var/lib/APP, ~/.config/APP; never a whole /var, /etc, home or ~/.config)
and weighed by drift's knowledge base of known state (with its source), its
history across the last --boots old roots, its size and how recently it
changed. Caches and files regenerated at every boot become drift check
--ignore rules. Stray data in persistent storage is listed, read-only; what
a link, a mount or the configuration uses there is "in-use". A path with no
suggestion is counted in a "left to you" line with the reason.

--format nix prints a NixOS module for the module the declarations use
(impermanence's environment.persistence, or preservation.preserveAt) that
passes drift lint; table and json are the others. It names a new file to
save it as (persist-suggested-2.nix … when persist-suggested.nix exists);
redirect it elsewhere: a shell empties the file it writes before drift
reads it. The flags naming the system, its declarations, mounts and old
roots are drift check's.

More, with examples: docs/suggest.md in drift's repository.

EXIT STATUS
  0  suggestions printed (or none to make)
  2  error (bad input — such as a --home that is / or /var —, unreadable
     root, not an impermanent root)
  130, 143  interrupted by SIGINT or SIGTERM before the report was complete
            (a second signal exits at once)`,
		Example: `  drift suggest
  drift suggest --boots 10 --format nix > suggested.nix
  drift suggest --root /mnt --persist /mnt/etc/nixos/impermanence.nix --old-roots /mnt/top/old_roots
  drift suggest --format json | jq '.suggestions[] | select(.confidence == "high") | .path'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return run(cmd.Context()) },
	}
	f := cmd.Flags()
	opts.declFlags.add(cmd, "audit the system mounted at this directory as its /")
	formatFlag(cmd, &opts.Format, "table", report.SuggestFormats)
	opts.auditFlags.add(cmd, "old roots: auto (old_roots next to the root subvolume), a `DIR` of old roots, or none")
	f.IntVar(&opts.Boots, "boots", defaultBoots, "compare with the old roots of the last `N` boots (0: none)")
	f.StringVar(&opts.StoragePath, "storage-path", "", "persistent storage `PATH` of the suggested declarations (default: the one most declared paths use, else /nix/persist; refused when it is on no persistent mount)")
	f.StringVar(&opts.Now, "now", "", "the current time, RFC 3339 (tests)")
	_ = f.MarkHidden("now")
	return cmd
}

func runSuggest(ctx context.Context, opts *SuggestOptions, st Streams) error {
	stop, err := opts.profile()
	if err != nil {
		return err
	}
	defer stop()
	m, res, err := weighSuggest(ctx, opts, st)
	if err != nil {
		return err
	}
	defer m.Close()
	// The report is made of res alone: the lost set, most of the heap with
	// a million paths (near the memory limit, where every MB allocated
	// costs a collection), is let go before rendering.
	m.Audit.Lost = nil
	warnings, stderr := report.SuggestWarnings(res.Warnings, res.IDWarnings, m.Audit.Warnings[len(m.Audit.Warnings)-m.SaidWarnings:], opts.Verbose)
	if !opts.Quiet {
		for _, w := range stderr {
			printWarning(st, w)
		}
	}
	return report.WriteSuggest(st.Out, &report.SuggestReport{
		Root: m.Root, Args: m.Audit.Args, StoragePath: res.StoragePath, Module: res.Module, ModuleNote: res.ModuleNote, SaveAs: res.SaveAs, Boots: opts.Boots, OldRoots: res.OldRoots, Suggestions: res.Suggestions, Left: res.Left, Warnings: warnings,
	}, opts.Format)
}

// weighSuggest checks opts, builds the model of the machine and weighs it
// (suggest.Run). Close the Model when done.
func weighSuggest(ctx context.Context, opts *SuggestOptions, st Streams) (*audit.Model, *suggest.Result, error) {
	if !slices.Contains(report.SuggestFormats, opts.Format) {
		return nil, nil, fmt.Errorf("--format %q: expected one of %s", opts.Format, strings.Join(report.SuggestFormats, ", "))
	}
	if err := checkWorkers(opts.Workers); err != nil {
		return nil, nil, err
	}
	if opts.Boots < 0 {
		return nil, nil, fmt.Errorf("--boots %d: expected 0 (no history) or a positive number", opts.Boots)
	}
	sp := opts.StoragePath
	if sp != "" {
		if sp = path.Clean(sp); !strings.HasPrefix(sp, "/") || sp == "/" {
			return nil, nil, fmt.Errorf("--storage-path %q: expected an absolute path other than /", opts.StoragePath)
		}
	}
	now := time.Now()
	if opts.Now != "" {
		t, err := time.Parse(time.RFC3339, opts.Now)
		if err != nil {
			return nil, nil, fmt.Errorf("--now: %w", err)
		}
		now = t
	}
	o, err := opts.auditFlags.options(ctx, &opts.declFlags, st)
	if err != nil {
		return nil, nil, err
	}
	o.Boots, o.Now, o.Paths = opts.Boots, now, true // suggestions weigh every path
	m, err := opts.build(ctx, st, o, report.ProgressDelay)
	if err != nil {
		return nil, nil, err
	}
	res, err := suggest.Run(ctx, m, suggest.Options{StoragePath: sp, Now: now, Workers: opts.Workers})
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	return m, res, nil
}
