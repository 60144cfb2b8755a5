package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/report"
	"github.com/spf13/cobra"
)

// CheckOptions are the flags of drift check.
type CheckOptions struct {
	declFlags
	auditFlags
	Format     string
	All        bool
	CPUProfile string
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
                     (not mounted or linked from persistent storage)
  unmounted          bind-mounted from persistent storage but no longer
                     declared (nor in fileSystems or /etc/fstab): gone from
                     view at the next boot
  shadowed           on the ephemeral filesystem under a mount point: hidden
                     now, deleted with the root (needs root; not with --mountinfo)
  covered            declared, on another persistent filesystem (a /home
                     subvolume) but not mounted from its persistent copy: the
                     next boot mounts the copy over it (hidden, not deleted);
                     or on the root below a mount point of fileSystems or
                     /etc/fstab not mounted now (hidden, then deleted)
  ignored            lost, but matched --ignore/--ignore-file (hidden unless --all)
  copied             not lost: inside a declaration that is not mounted yet, or
                     shadowed under a mount from persistent storage, but
                     its persistent copy is the same (type; bytes; symlink
                     target): the next boot's mount shows it. Counted. A path
                     whose copy has other bytes is declared-unbacked: the stale
                     copy comes back in its place
  recreated          not lost: re-made at boot (NixOS activation output such as
                     /bin/sh, /usr/bin/env, /etc/static and /etc links into it;
                     home-manager's links into its home-files in a home;
                     parents of mount points, declared paths and those links)

On the running system (--root /, the live mount table) drift first checks
that the wipe ran at this boot: when / is a btrfs subvolume created before
the boot (its creation time against /proc/stat's btime, a minute of slack),
the report starts with a warning. Everything listed has then been surviving
reboots, and will all go at once on the day the wipe starts working.
A failed wipe that the NixOS module let the boot go on from
(services.drift.wipe.onFailure = "continue") leaves /run/drift/wipe-failed,
which drift check reports as a warning.

What lies on the root under mount points (shadowed) is read through a
detached clone of the root mount (open_tree(2)); where that is unavailable,
through a private mount of the filesystem's top level. --root-subvol PATH
reads the subvolume PATH of the top level (/root, /@), which must be the one
mounted at /; --root-subvol none does not look.

--old-roots auto finds old_roots next to the root subvolume in the top level
and names the newest old root by real time (never the live root) as the
previous boot's root (--verbose; previousRoot in JSON); --old-roots DIR reads
a directory of old roots; none skips. Not finding it is a warning.

With a previous root, the report starts with what changed since then:
an SSH host key on the ephemeral root that differs from the previous root's
(regenerated at every boot: exit 1), and a persisted path whose numeric
owner or group names another user or group now than in the previous root's
/etc/passwd, /etc/group or /var/lib/nixos maps (ownership drift: a warning).
Each lost path gets a history (HISTORY; "history" in JSON): new (not in the
previous root), changed (there, different: lost at every boot) or same
(identical: regenerated at every boot). drift also walks the previous root
and lists, after the table ("vanished" in JSON), what the last reboot
destroyed that nothing declares now, with the days left before the cleanup
deletes that old root and the drift restore command that gets it back;
--old-roots none skips that walk.

While the walk runs for longer than a second, a progress line (files
scanned, files/s, bytes) is drawn on stderr when stderr is a terminal, and
erased when it ends; never on stdout, a pipe or a file. --color colours the
table's CATEGORY and WHY cells: auto (the default) only when stdout is a
terminal and NO_COLOR is unset; always; never.

--format prom writes Prometheus text for node_exporter's textfile collector:
drift_lost_files and drift_lost_bytes by category, drift_declared_unbacked,
drift_old_roots, drift_last_wipe_timestamp_seconds and more (README).

Declarations come from --persist (repeatable: a .nix file read statically,
nix eval JSON, a raw environment.persistence entry as JSON, or - for stdin)
and --flake REF#HOST (evaluated with nix). Without either, drift reads
ROOT/etc/drift/declarations.json when it exists (the evaluated declarations
the services.drift NixOS module writes), else the .nix files under
ROOT/etc/nixos that declare persistence; when those declare nothing (a
rescue mount of a root whose /etc/nixos is itself persisted), the
persisted copy ROOT/STORAGE/etc/nixos (/nix/persist, /persist, … or any
directory under ROOT or ROOT/nix holding etc/nixos). Finding none, drift
says where it looked.

EXIT STATUS
  0  nothing would be lost
  1  something would be lost, or a directory on the ephemeral side could not
     be read (what it holds is unknown, and goes with the root), or an SSH
     host key changed since the previous root
  2  error (bad input, unreadable root, not an impermanent root)
  130, 143  interrupted by SIGINT or SIGTERM before the report was complete
            (a second signal exits at once)`,
		Example: `  drift check
  drift check --persist /etc/nixos/impermanence.nix
  drift check --flake /etc/nixos#myhost --format json
  drift check --root /mnt --persist decl.json --format paths0 | xargs -0 -I{} ls -ld /mnt{}
  drift check --ignore '/var/cache' --ignore '*.tmp' --ignore-file ~/.config/drift/ignore
  drift check --root-subvol /@ --old-roots none
  drift check --format prom > drift.prom.tmp; [ $? -le 1 ] && mv drift.prom.tmp drift.prom`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCheck(cmd.Context(), opts, st) },
	}
	f := cmd.Flags()
	opts.declFlags.add(cmd, "audit the system mounted at this directory as its /")
	formatFlag(cmd, &opts.Format, "table", report.Formats)
	f.BoolVar(&opts.All, "all", false, "include ignored paths in the output")
	opts.auditFlags.add(cmd, "the previous boot's root: auto (the newest in old_roots next to the root subvolume), a `DIR` of old roots, or none")
	f.StringVar(&opts.CPUProfile, "cpuprofile", "", "write a Go CPU profile to `FILE` (for performance reports)")
	_ = f.MarkHidden("cpuprofile")
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
	if opts.CPUProfile != "" {
		f, err := os.Create(opts.CPUProfile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	o, err := opts.auditFlags.options(&opts.declFlags, st)
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
	var endProgress func()
	o.Progress, endProgress = opts.progress(st, opts.ProgressAfter)
	m, err := audit.Build(ctx, o)
	endProgress()
	if err != nil {
		return err
	}
	defer m.Close()
	a := m.Audit
	if o.Mountinfo == "" && m.Root == "/" {
		// The running system: did the NixOS module's stage-1 wipe fail?
		if w, ok := wipeFailureWarning(wipeFailedMark); ok {
			a.Warnings = append([]diff.Warning{w}, a.Warnings...)
		}
	}
	warn := func(w diff.Warning) {
		if !opts.Quiet {
			printWarning(st, w)
		}
	}
	if msg := a.Wipe.Warning(); msg != "" && opts.Format != "table" {
		warn(diff.Warning{Kind: diff.WarnWipe, Path: "/", Message: msg}) // the table starts with it
	}
	if opts.Format != "table" {
		for _, al := range a.Alerts {
			warn(diff.Warning{Kind: diff.WarnHistory, Path: al.Path, Message: al.Message}) // the table starts with them too
		}
	}
	for _, w := range a.Warnings[:len(a.Warnings)-m.SaidWarnings] {
		warn(w)
	}
	for i, e := range a.Errors {
		if i == 10 && !opts.Verbose {
			warn(diff.Warning{Kind: diff.WarnUnreadable, Message: fmt.Sprintf("%d more unreadable paths (--verbose lists them)", len(a.Errors)-10)})
			break
		}
		warn(diff.Warning{Kind: diff.WarnUnreadable, Path: e.Path, Message: fmt.Sprintf("cannot read %s: %v (what it holds is unknown and not in the report)", e.Path, e.Err)})
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
