package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/report"
	"github.com/spf13/cobra"
)

// WipeOptions are the flags of drift wipe.
type WipeOptions struct {
	Device   string
	Subvol   string
	OldRoots string
	KeepDays int
	KeepMin  int
	Blank    string
	DryRun   bool
	Format   string
	Quiet    bool
	Resume   string
	// ResumeOffset is --resume-offset: a number of pages, or "auto".
	ResumeOffset string
	// Now, BootID and Cmdline (hidden flags) stand in for the clock,
	// /proc/sys/kernel/random/boot_id and /proc/cmdline in tests.
	Now     string
	BootID  string
	Cmdline string
	// SubvolIsRoot is --subvol-is-root; Fstab the hidden --fstab (tests).
	SubvolIsRoot bool
	Fstab        string
}

func newWipeCmd(st Streams) *cobra.Command {
	opts := &WipeOptions{}
	cmd := &cobra.Command{
		Use:   "wipe --device DEV",
		Short: "Roll the root back at boot: retire it to old_roots, delete expired old roots, create a fresh root",
		Long: `Wipe the root at boot, safely, on the btrfs filesystem behind --device (a
block device, or a path on the mounted filesystem), through its top level
mounted detached (in no mount namespace; gone when drift exits, kill -9
included):

  1. retire the root subvolume (--subvol) to OLD_ROOTS/<its mtime>
  2. create a fresh empty root (or a writable snapshot of --blank)
  3. delete the old roots more than --keep-days old, keeping the newest
     --keep-min, and never one mounted or retired at this boot

drift refuses to retire a mounted root, or a --subvol that is not a root
(it holds a Nix store, the fstab mounts it, a subvolume in it or the one
holding it elsewhere, one of them is mounted, or it is named and laid out
as persistent storage), an --old-roots that is persistent storage by the
same facts (or is named so and holds what is no old root), and does nothing (exit 0) while the
resume device holds a hibernation image. Interrupted at any point, running
drift wipe again (at this boot or the next) ends as an uninterrupted run
would. --dry-run prints the plan, on a mounted root too (saying why the
real run would refuse).

More, with examples: docs/wipe.md in drift's repository.

EXIT STATUS
  0  done (or, with --dry-run, planned)
  2  error: an unsafe target (nothing changed), or a step that failed (the
     steps before it are done; run again to complete)
  130, 143  interrupted by SIGINT or SIGTERM: the step in progress finished,
            the steps before are done; run again to complete`,
		Example: `  drift wipe --device /dev/disk/by-partlabel/disk-main-root --dry-run
  drift wipe --device /dev/vda2 --keep-days 14 --keep-min 3
  drift wipe --device /dev/vda2 --blank root-blank --format json
  drift wipe --device /dev/vda2 --resume-device /dev/vda2 --resume-offset 533760 --dry-run`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runWipe(cmd.Context(), opts, st) },
	}
	f := cmd.Flags()
	f.StringVar(&opts.Device, "device", "", "the btrfs filesystem: a block `DEV`, or a path on it (required)")
	f.StringVar(&opts.Subvol, "subvol", "root", "the root subvolume, relative to the top level")
	f.StringVar(&opts.OldRoots, "old-roots", "old_roots", "the directory old roots are kept in, relative to the top level")
	f.IntVar(&opts.KeepDays, "keep-days", 30, "delete old roots older than this many whole days (find -mtime +N)")
	f.IntVar(&opts.KeepMin, "keep-min", 1, "always keep this many of the newest old roots")
	f.StringVar(&opts.Blank, "blank", "", "make the fresh root a snapshot of this `SUBVOLUME` (relative to the top level)")
	f.BoolVar(&opts.DryRun, "dry-run", false, "print the plan and change nothing")
	f.BoolVar(&opts.SubvolIsRoot, "subvol-is-root", false, "retire --subvol though its name is persistent storage's (persist, nix, home…) and it holds nothing of a booted root")
	formatFlag(cmd, &opts.Format, "table", report.WipeFormats)
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "print no warnings on stderr")
	f.StringVar(&opts.Resume, "resume-device", "auto", "do nothing when this swap `DEV` holds a hibernation image (auto: resume= of /proc/cmdline; none: do not check)")
	f.StringVar(&opts.ResumeOffset, "resume-offset", "auto", "also read the swap header this many `PAGES` into the resume device, as the kernel's resume_offset= (a swap file; auto: resume_offset= of /proc/cmdline, else 0)")
	f.StringVar(&opts.Now, "now", "", "the current time, RFC 3339 (tests)")
	f.StringVar(&opts.BootID, "boot-id", "", "this boot's id (tests; default /proc/sys/kernel/random/boot_id)")
	f.StringVar(&opts.Cmdline, "cmdline", "/proc/cmdline", "the kernel command line `FILE` (tests)")
	f.StringVar(&opts.Fstab, "fstab", "/etc/fstab", "the fstab `FILE` naming subvolumes mounted elsewhere than / (tests)")
	_ = f.MarkHidden("fstab")
	_ = f.MarkHidden("now")
	_ = f.MarkHidden("boot-id")
	_ = f.MarkHidden("cmdline")
	completeKeywords(cmd, "resume-device", []string{"auto", "none"}, pathFile)
	completeKeywords(cmd, "resume-offset", []string{"auto"}, pathNone)
	return cmd
}

// btrfsOptions turns the shared flags into btrfs.Options.
func btrfsOptions(subvol, oldRoots string, keepDays, keepMin int, now string) (btrfs.Options, error) {
	o := btrfs.DefaultOptions()
	o.Subvol, o.OldRoots, o.KeepDays, o.KeepMin = subvol, oldRoots, keepDays, keepMin
	if keepDays < 0 {
		return o, fmt.Errorf("--keep-days %d: expected 0 or more", keepDays)
	}
	if keepMin < 0 {
		return o, fmt.Errorf("--keep-min %d: expected 0 or more", keepMin)
	}
	if now != "" {
		t, err := time.Parse(time.RFC3339, now)
		if err != nil {
			return o, fmt.Errorf("--now: %w", err)
		}
		o.Now = t
	}
	return o, nil
}

func runWipe(ctx context.Context, opts *WipeOptions, st Streams) error {
	if opts.Format != "table" && opts.Format != "json" {
		return fmt.Errorf("--format %q: expected table or json", opts.Format)
	}
	if opts.Device == "" {
		return withHint(fmt.Errorf("--device is required"), "name the btrfs partition, e.g. --device /dev/disk/by-partlabel/disk-main-root")
	}
	bo, err := btrfsOptions(opts.Subvol, opts.OldRoots, opts.KeepDays, opts.KeepMin, opts.Now)
	if err != nil {
		return err
	}
	bo.BootID = opts.BootID
	if bo.BootID == "" {
		bo.BootID = btrfs.BootID()
	}
	bo.Blank, bo.SubvolIsRoot, bo.Fstab, bo.DryRun = opts.Blank, opts.SubvolIsRoot, opts.Fstab, opts.DryRun
	hib, warnings, err := btrfs.CheckHibernation(btrfs.HibernationCheck{Device: opts.Resume, Offset: opts.ResumeOffset, Cmdline: opts.Cmdline})
	for _, w := range warnings {
		if !opts.Quiet {
			fmt.Fprintf(st.Err, "drift: warning: %s\n", escape.Name(w))
		}
	}
	var ce *btrfs.CmdlineError
	if errors.As(err, &ce) {
		return withHint(err, "drift wipe does not know where the swap header is: fix the kernel command line, or pass --resume-offset")
	}
	if err != nil {
		return err
	}
	if hib != "" {
		// The hibernated kernel still has the filesystem mounted: a resume after
		// a wipe would write its stale view of it over the new root.
		fmt.Fprintf(st.Err, "drift: %s holds a hibernation image that was not resumed: the filesystem is left untouched (a wipe now would corrupt it)\n", hib)
		return nil
	}
	// Not unmounted on a signal: the step in progress finishes, and Apply
	// stops before the next (ctx); the deferred Close unmounts.
	top, err := btrfs.OpenTop(context.WithoutCancel(ctx), opts.Device, nil)
	if err != nil {
		return withHint(err, "drift wipe needs root and the btrfs partition itself (or a path on it)")
	}
	defer top.Close()
	if err := stopAfterHook(ctx, top, st); err != nil {
		return err
	}
	plan, err := top.Plan(bo)
	if errors.Is(err, btrfs.ErrNotRoot) {
		return withHint(err, "the root is the subvolume the system mounts at / (subvol= of fileSystems.\"/\"); nothing was changed")
	}
	if errors.Is(err, btrfs.ErrStorage) {
		return withHint(err, "old roots belong in a directory of their own on the top level, such as old_roots (services.drift.wipe.oldRoots); nothing was changed")
	}
	if err != nil {
		return err
	}
	warn := func(from int) {
		for _, w := range plan.Warnings[from:] {
			if opts.Quiet {
				return
			}
			fmt.Fprintf(st.Err, "drift: warning: %s\n", escape.Name(w))
		}
	}
	warn(0)
	var applyErr error
	if !opts.DryRun {
		planned := len(plan.Warnings)
		applyErr = top.Apply(ctx, plan)
		warn(planned) // an old root kept as it changed since the plan
	}
	// A failed step outranks a failed write (a reader gone: EPIPE).
	writeErr := report.WritePlan(st.Out, plan, opts.Format, opts.DryRun)
	if applyErr == nil && writeErr != nil {
		return writeErr
	}
	if applyErr != nil {
		return withHint(applyErr, "the steps before a failed one are done, and an old root that could not be deleted did not stop the others; run drift wipe again to complete the wipe")
	}
	return top.Close()
}

// envStopAfter is the kill-point hook of the wipe tests
// (test/e2e/wipekill_test.go): "N" or "N:TERM" makes drift wipe send itself
// SIGKILL (SIGTERM with :TERM) right after its Nth change to the
// filesystem, and log every change on stderr ("drift: test: step S change
// N: …"); N = 0 only logs. Never set outside tests.
const envStopAfter = "DRIFT_TEST_STOP_AFTER"

// stopAfterHook sets top.AfterMutation as envStopAfter asks.
func stopAfterHook(ctx context.Context, top *btrfs.Top, st Streams) error {
	v := os.Getenv(envStopAfter)
	if v == "" {
		return nil
	}
	num, sigName, _ := strings.Cut(v, ":")
	n, err := strconv.Atoi(num)
	sig := syscall.SIGKILL
	if sigName == "TERM" {
		sig = syscall.SIGTERM
	} else if sigName != "" {
		err = fmt.Errorf("signal %q", sigName)
	}
	if err != nil || n < 0 {
		return fmt.Errorf("%s=%q: expected N or N:TERM", envStopAfter, v)
	}
	count := 0
	top.AfterMutation = func(step int, what string) {
		count++
		fmt.Fprintf(st.Err, "drift: test: step %d change %d: %s\n", step, count, escape.Name(what))
		if count != n {
			return
		}
		syscall.Kill(os.Getpid(), sig)
		select { // the signal is handled before the next step starts
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
	return nil
}
