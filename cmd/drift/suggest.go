package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/mounts"
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

Symlinks into a persistent storage path (a systemd-tmpfiles L rule:
/etc/machine-id -> /nix/persist/etc/machine-id) are your own persistence,
not candidates. Every unpersisted path ends in a suggestion or in a
counted "left to you" line saying why none stands for it.

Caches (/var/cache, ~/.cache, /tmp) and regenerated files are suggested as
drift check --ignore rules. Stray data under the persistent storage path is
listed read-only with its size as "declare-or-remove" (what a live symlink
points at is in use, not stray): drift never deletes it and never follows a
symlink there.

--format nix prints a NixOS module for the impermanence module:
environment.persistence."<storage path>" with directories and files (paths
in a home under users.<name>), in the attrset form with user, group and
mode when the live directory is not root:root 0755 (in a home: the home's
owner, 0755). The flags naming the system, its declarations, mounts and old
roots are drift check's.

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
	f.StringVar(&opts.StoragePath, "storage-path", "", "persistent storage `PATH` of the suggested declarations (default: the one most declared paths use, else /nix/persist; a warning when it is on no persistent mount)")
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
	loaded, err := opts.declFlags.load(ctx, st)
	if err != nil {
		return err
	}
	root, decls := loaded.Root, loaded.Set
	homes, _ := parseHomes(opts.Homes) // checked by load
	for _, name := range slices.Sorted(maps.Keys(homes)) {
		if err := suggest.CheckHome(homes[name]); err != nil {
			return fmt.Errorf("--home %s=%s: %w", name, homes[name], err)
		}
	}
	table, ig, err := opts.prepare(root)
	if err != nil {
		return err
	}
	var warnings []string
	warn := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		warnings = append(warnings, msg)
		if !opts.Quiet {
			fmt.Fprintf(st.Err, "drift: warning: %s\n", report.Escape(msg))
		}
	}
	if opts.Verbose {
		for _, s := range loaded.Sources {
			fmt.Fprintf(st.Err, "drift: declarations from %s\n", report.Escape(s))
		}
	}
	loaded.printDiagnostics(st, opts.Verbose, opts.Quiet)
	cfg := diff.Config{Root: root, Mounts: table, Decls: decls, Ephemeral: opts.Ephemeral, Ignore: ig, Workers: opts.Workers, Now: now}
	top := btrfs.NewLazyTop(ctx, root)
	defer top.Close()
	if opts.Mountinfo == "" {
		if cfg.Under, err = rootSubvolUnder(opts.RootSubvol, btrfs.ViewOptions{Root: root, Table: table, Top: top}); err != nil {
			return err
		}
	}
	recent, inTop, note, err := recentRoots(opts.OldRoots, root, table, opts.Mountinfo == "", top, opts.Boots)
	if err != nil {
		warn("cannot find the old roots: %v", err)
	}
	opts.sayOldRoots(st, warn, note, err == nil && len(recent) == 0)
	if err := top.Detach(); err != nil {
		return err
	}
	if len(recent) > 0 {
		cfg.PreviousRoot = asPreviousRoot(recent[0], inTop, top)
	}
	for i := range recent {
		if inTop {
			recent[i].Path = top.Join(recent[i].Path)
		}
	}
	var endProgress func()
	cfg.Progress, endProgress = opts.progress(st, report.ProgressDelay)
	audit, err := diff.Check(ctx, cfg)
	endProgress()
	if errors.Is(err, diff.ErrNotImpermanent) {
		return withHint(err, "point drift at the declarations (--persist FILE, --flake REF#HOST), at the system (--root DIR), or name the wiped filesystem (--ephemeral MOUNTPOINT)")
	}
	if err != nil {
		return err
	}
	if msg := audit.Wipe.Warning(); msg != "" {
		warn("%s", msg)
	}
	for _, al := range audit.Alerts {
		warn("%s", al.Message)
	}
	for _, w := range audit.Warnings {
		warn("%s", w)
	}
	if n := len(audit.Errors); n > 0 {
		warn("%d paths on the ephemeral side could not be read (drift check --verbose lists them): what they hold is not weighed", n)
	}
	dirs := make([]suggest.RootDir, 0, len(recent))
	var names []string
	for _, r := range recent {
		dirs = append(dirs, suggest.RootDir{Name: r.Name, Dir: r.Path})
	}
	old, histWarnings, err := suggest.Histories(ctx, audit, root, dirs, opts.Workers)
	if err != nil {
		return err
	}
	for _, w := range histWarnings {
		warn("%s", w)
	}
	for _, o := range old {
		names = append(names, o.Name)
	}
	ids, idWarnings := diff.ReadIDNames(root)
	if opts.Verbose {
		for _, w := range idWarnings {
			warn("%s", w)
		}
	}
	if sp == "" {
		sp = suggest.MainStoragePath(decls.Entries)
	}
	if msg := suggest.StorageWarning(audit, table, sp); msg != "" {
		warn("%s", msg)
	}
	in := suggest.Input{Audit: audit, Root: root, Old: old, Knowledge: suggest.Builtin(), Homes: homes, StoragePath: sp, Now: now, IDs: ids}
	out, left := suggest.Suggest(in)
	linked := suggest.LinkedTargets(audit, suggest.Storages(audit, sp))
	stray, strayWarnings := suggest.Stray(ctx, root, decls, linked, opts.Workers)
	for _, w := range strayWarnings {
		warn("%s", w)
	}
	out = append(out, stray...)
	suggest.SortSuggestions(out)
	return report.WriteSuggest(st.Out, &report.SuggestReport{
		Root: root, StoragePath: sp, Boots: opts.Boots, OldRoots: names, Suggestions: out, Left: left, Warnings: warnings,
	}, opts.Format)
}

// recentRoots finds the old roots of the last n boots for --old-roots, as
// previousRoot finds the previous one: none; auto (a btrfs root with the
// live mount table: old_roots next to the root subvolume, paths relative
// to the top level: inTop); DIR. note says what was found (--verbose).
// Errors are for warnings.
func recentRoots(spec, root string, table *mounts.Table, liveMounts bool, top *btrfs.LazyTop, n int) (roots []btrfs.OldRoot, inTop bool, note string, err error) {
	if n == 0 {
		return nil, false, "--boots 0: no old root compared", nil
	}
	if spec == "none" {
		return nil, false, "--old-roots none: no old root compared", nil
	}
	auto, dir, skip, err := oldRootsWhere(spec, table, liveMounts)
	if skip != "" || err != nil {
		return nil, false, skip, err
	}
	if auto {
		roots, dir, source, err := btrfs.RecentRootsInTop(top, root, n)
		if err != nil {
			return nil, false, "", oldRootsError(true, err)
		}
		return roots, true, recentNote(roots, source+":/"+dir), nil
	}
	if roots, err = btrfs.RecentRootsIn(dir, root, n); err != nil {
		return nil, false, "", oldRootsError(false, err)
	}
	return roots, false, recentNote(roots, dir), nil
}

func recentNote(roots []btrfs.OldRoot, where string) string {
	if len(roots) == 0 {
		return "no old root in " + where
	}
	var names []string
	for _, r := range roots {
		names = append(names, r.Name)
	}
	return fmt.Sprintf("comparing with %d old roots in %s, newest first: %s", len(roots), where, strings.Join(names, ", "))
}
