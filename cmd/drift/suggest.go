package main

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

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

// defaultBoots is --boots' default: the old roots of the last five boots.
const defaultBoots = 5

func newSuggestCmd(st Streams) *cobra.Command {
	opts := &SuggestOptions{}
	cmd := &cobra.Command{
		Use:   "suggest",
		Short: "Which paths to persist, ranked with evidence, as a ready-to-paste Nix snippet",
		Long: `Run the audit of drift check, then turn what the next boot would lose into a
short ranked list: what to persist, what to ignore, and what lies in the
persistent storage path that no declaration covers any more.

Candidates are the unpersisted paths (declared-unbacked, shadowed and
unmounted paths are drift check's to report), rolled up to the
application's own root: /var/lib/APP, ~/.config/APP, ~/.local/share/APP,
the path drift's knowledge base names — never a whole /var, /etc, home or
~/.config. A single file stays a file. Each is weighed by:

  knowledge   drift's built-in knowledge base of known state (NixOS manual's
              necessary system state, impermanence and preservation docs,
              common services), with its source
  history     present in how many of the last --boots old roots, and changed
              in how many (state lost at every boot) or identical in all
              (regenerated at every boot: an ignore rule instead)
  size        bytes at stake
  recency     modified in the last day or week

Symlinks on the root into a persistent storage path
(/etc/machine-id -> /nix/persist/etc/machine-id) are counted apart: the data
is safe, but the link is lost at the wipe unless something re-creates it
(drift check lists it): declare it as an impermanence file or add a
systemd-tmpfiles L rule. Every unpersisted path ends in a suggestion or in a
counted "left to you" line saying why none stands for it.

Never suggested: paths on an API filesystem (/dev, /proc, /sys, /run) or
at, above or below the mount point of another filesystem (/boot), symlinks
(impermanence keeps a file's contents, never a link: make the link at boot
instead), and declarations drift lint rejects; each is counted in a "left
to you" line with the reason. What --format nix prints passes drift lint.

Caches (/var/cache, ~/.cache, /tmp) and regenerated files are suggested as
drift check --ignore rules. Stray data under the persistent storage path is
listed read-only with its size as "declare-or-remove". What is in use there
is never stray: what a live symlink points at; what is mounted now (a bind
mount's source) or named by the configuration (a hashedPasswordFile, host
keys, sops-nix and agenix key files, a fileSystems bind mount, /etc/fstab),
listed as "in-use" with what uses it. drift never deletes anything there
and never follows a symlink there.

--format nix prints a NixOS module for the impermanence module:
environment.persistence."<storage path>" with directories and files (paths
in a home under users.<name>), in the attrset form with user, group and
mode when the live directory is not root:root 0755 (in a home: the home's
owner, 0755). The flags naming the system, its declarations, mounts and old
roots are drift check's.

More, with examples: docs/suggest.md in drift's repository.

EXIT STATUS
  0  suggestions printed (or none to make)
  2  error (bad input — such as a --home that is / or /var —, unreadable
     root, not an impermanent root)
  130, 143  interrupted by SIGINT or SIGTERM before the report was complete
            (a second signal exits at once)`,
		Example: `  drift suggest
  drift suggest --boots 10 --format nix > /etc/nixos/persist-suggested.nix
  drift suggest --root /mnt --persist /mnt/etc/nixos/impermanence.nix --old-roots /mnt/top/old_roots
  drift suggest --format json | jq '.suggestions[] | select(.confidence == "high") | .path'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSuggest(cmd.Context(), opts, st) },
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
	if !slices.Contains(report.SuggestFormats, opts.Format) {
		return fmt.Errorf("--format %q: expected one of %s", opts.Format, strings.Join(report.SuggestFormats, ", "))
	}
	if err := checkWorkers(opts.Workers); err != nil {
		return err
	}
	if opts.Boots < 0 {
		return fmt.Errorf("--boots %d: expected 0 (no history) or a positive number", opts.Boots)
	}
	sp := opts.StoragePath
	if sp != "" {
		if sp = path.Clean(sp); !strings.HasPrefix(sp, "/") || sp == "/" {
			return fmt.Errorf("--storage-path %q: expected an absolute path other than /", opts.StoragePath)
		}
	}
	now := time.Now()
	if opts.Now != "" {
		t, err := time.Parse(time.RFC3339, opts.Now)
		if err != nil {
			return fmt.Errorf("--now: %w", err)
		}
		now = t
	}
	o, err := opts.auditFlags.options(&opts.declFlags, st)
	if err != nil {
		return err
	}
	o.Boots, o.Now, o.Paths = opts.Boots, now, true // suggestions weigh every path
	m, err := opts.build(ctx, st, o, report.ProgressDelay)
	if err != nil {
		return err
	}
	defer m.Close()
	res, err := suggest.Run(ctx, m, suggest.Options{StoragePath: sp, Homes: o.Homes, Now: now, Workers: opts.Workers})
	if err != nil {
		return err
	}
	said := m.Audit.Warnings[len(m.Audit.Warnings)-m.SaidWarnings:]
	warnings := slices.Clone(res.Warnings)
	if opts.Verbose {
		warnings = append(warnings, res.IDWarnings...)
	}
	for _, w := range warnings {
		if !opts.Quiet && !slices.Contains(said, w) {
			printWarning(st, w)
		}
	}
	return report.WriteSuggest(st.Out, &report.SuggestReport{
		Root: m.Root, Args: m.Audit.Args, StoragePath: res.StoragePath, Boots: opts.Boots, OldRoots: res.OldRoots, Suggestions: res.Suggestions, Left: res.Left, Warnings: warnings,
	}, opts.Format)
}
