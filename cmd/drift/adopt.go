package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nix-drift/drift/internal/adopt"
	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/report"
	"github.com/nix-drift/drift/internal/restore"
	"github.com/spf13/cobra"
)

// AdoptOptions are the flags of drift adopt.
type AdoptOptions struct {
	declFlags
	auditFlags
	Format  string
	Prefer  string
	DryRun  bool
	Mount   bool
	Pending bool
	// AllowOpen is --allow-open: copy though running programs hold files
	// under the paths open.
	AllowOpen bool
}

func newAdoptCmd(st Streams) *cobra.Command {
	opts := &AdoptOptions{}
	cmd := &cobra.Command{
		Use:   "adopt PATH...",
		Short: "Move live data into its persistent copy before the next boot deletes it",
		Long: `Copy the live data at PATH (a path as the live system sees it) into its
persistent copy (the storage path of the declaration that covers PATH,
joined with PATH) before the next boot mounts an empty copy over it or the
wipe deletes it. Mode, owner, times, extended attributes, symlinks and hard
links are kept. The live data is never deleted; drift never goes through a
symlink or crosses a mount, on either side.

Each object is copied beside its place, flushed, checked (its length, an
unchanged source; a clone is the source's blocks, any other copy is read
back against its xxh3 digest) and renamed in: an
interrupted run leaves it as it was or complete; run it again to finish.
Where the persistent copy already holds other bytes or metadata, the whole
run is refused before anything is written, unless --prefer live or
--prefer persistent says which side wins. A PATH no declaration covers is
refused with the declaration to add.

--pending adopts every declared path whose live data has no persistent copy
yet; --dry-run plans and changes nothing; --mount bind-mounts the copy now.
Declarations are found as for drift check.

More, with examples: docs/adopt.md in drift's repository.

EXIT STATUS
  0  adopted (or, with --dry-run, the real run would adopt: no conflict,
     no file held open)
  2  error or refusal (nothing written for a refusal; --dry-run exits as
     the real run would)
  130, 143  interrupted by SIGINT or SIGTERM: each object is untouched or
            complete; run drift adopt again to finish`,
		Example: `  drift adopt --dry-run /var/lib/bluetooth
  drift adopt /var/lib/bluetooth /etc/ssh/ssh_host_ed25519_key
  drift adopt --prefer live /var/lib/postgresql
  drift adopt --mount /home/alice/.ssh
  drift adopt --pending --dry-run --format summary`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case opts.Pending && len(args) > 0:
				return errors.New("name the paths to adopt, or --pending (every declared path whose data has no persistent copy), not both")
			case !opts.Pending && len(args) == 0:
				return errors.New("no path to adopt: name the paths, or --pending (every declared path whose data has no persistent copy)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAdopt(cmd.Context(), args, opts, st)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Format, "format", "table", "output format: "+strings.Join(report.AdoptFormats, ", "))
	f.StringVar(&opts.Prefer, "prefer", "", "where the persistent copy holds other bytes: live (the live object replaces it) or persistent (it stays); default: refuse")
	f.BoolVar(&opts.DryRun, "dry-run", false, "print every object and where it would go; change nothing")
	f.BoolVar(&opts.Pending, "pending", false, "adopt every declared path whose live data has no persistent copy (declared-unbacked, covered, or shadowed below it)")
	f.BoolVar(&opts.Mount, "mount", false, "once copied, bind-mount the persistent copy over the declared path now, as the next boot will")
	f.BoolVar(&opts.AllowOpen, "allow-open", false, "copy (and mount) though running programs hold files under the paths open; default: refuse, naming them")
	opts.declFlags.add(cmd, "the live system is mounted at this directory")
	opts.auditFlags.add(cmd, "where old roots are (not read by adopt)")
	_ = f.MarkHidden("old-roots")
	completeValues(cmd, "format", report.AdoptFormats)
	completeValues(cmd, "prefer", []string{"live", "persistent"})
	return cmd
}

func runAdopt(ctx context.Context, args []string, opts *AdoptOptions, st Streams) error {
	if !slices.Contains(report.AdoptFormats, opts.Format) {
		return fmt.Errorf("--format %q: expected one of %s", opts.Format, strings.Join(report.AdoptFormats, ", "))
	}
	prefer, err := adopt.ParsePrefer(opts.Prefer)
	if err != nil {
		return err
	}
	for _, p := range args {
		if _, err := restore.CleanPath(p); err != nil {
			return err
		}
	}
	if opts.Mount && opts.DryRun {
		return errors.New("--mount with --dry-run: a dry run mounts nothing (say what it would copy without --mount)")
	}
	o, err := opts.auditFlags.options(ctx, &opts.declFlags, st)
	if err != nil {
		return err
	}
	o.OldRoots = "none" // adopt reads the live system only
	// Named paths are read by adopt itself: no walk of the whole root
	// (--pending needs it, to find the declared paths with live data).
	if !opts.Pending {
		o.Need = audit.NeedMounts
	}
	m, err := opts.build(ctx, st, o, report.ProgressDelay)
	if err != nil {
		return err
	}
	defer m.Close()
	if opts.Pending {
		args = adopt.Pending(m)
	}
	res, err := adopt.Run(ctx, m, adopt.Options{Paths: args, Prefer: prefer, DryRun: opts.DryRun, Mount: opts.Mount, AllowOpen: opts.AllowOpen, Copied: restore.TestHook()})
	var und *adopt.UndeclaredError
	if errors.As(err, &und) {
		hint := "declare it (then rebuild), and run drift adopt again"
		if decl, ok := report.AdoptDeclaration(und); ok {
			hint = "declare it, e.g. " + decl + " (then rebuild), and run drift adopt again"
		}
		return withHint(fmt.Errorf("%s", escape.Name(und.Error())), hint)
	}
	var link *adopt.LinkError
	if errors.As(err, &link) {
		return withHint(fmt.Errorf("%s", escape.Name(link.Error())), "declare the link's target instead (then rebuild), or replace the link with the directory it points at (move the data there), and run drift adopt again")
	}
	var etc *adopt.EtcLinkError
	if errors.As(err, &etc) {
		return withHint(fmt.Errorf("%s", escape.Name(etc.Error())), "remove the declaration of "+escape.Name(etc.Path)+" (then rebuild): NixOS makes it again at every boot")
	}
	var kind *adopt.KindError
	if errors.As(err, &kind) {
		return withHint(fmt.Errorf("%s", escape.Name(kind.Error())), "make it a file (move the directory aside), or declare it as a directory (then rebuild), and run drift adopt again")
	}
	var held *adopt.OpenError
	if errors.As(err, &held) {
		if held.DryRun { // the plan, then the refusal the real run would make
			if werr := report.WriteAdopt(st.Out, m.Root, m.Audit.Args, res, report.AdoptDryRun, opts.Format); werr != nil {
				return werr
			}
		}
		return withHint(err, "stop them (systemctl stop UNIT) and run drift adopt again; --allow-open copies anyway, and a file written meanwhile may be copied half-written (nothing was written)")
	}
	var conflict *restore.ConflictError
	if errors.As(err, &conflict) {
		if werr := report.WriteAdopt(st.Out, m.Root, m.Audit.Args, res, report.AdoptRefused, opts.Format); werr != nil {
			return werr
		}
		if !report.AdoptCopyLacks(res) {
			// diff.KeepCopyBack: --prefer persistent would change nothing.
			hint := "the persistent copy lacks nothing here: its objects stay and come back at the next boot, and the live ones go with the wiped filesystem; --prefer live replaces them with the live objects (nothing was written)"
			if newer := adopt.NewerInCopy(res); len(newer) > 0 {
				hint = "the persistent copy is NEWER at " + escape.Name(strings.Join(newer, ", ")) + "; " + hint
			}
			return withHint(err, hint)
		}
		if newer := adopt.NewerInCopy(res); len(newer) > 0 {
			// The newer side first: --prefer live would replace newer data.
			return withHint(err, "the persistent copy is NEWER at "+escape.Name(strings.Join(newer, ", "))+": --prefer persistent keeps the copy's objects, --prefer live replaces them with the live objects (nothing was written)")
		}
		return withHint(err, "--prefer live replaces them with the live objects, --prefer persistent keeps them (nothing was written)")
	}
	if err != nil {
		return adoptError(err)
	}
	if !opts.Quiet {
		for _, w := range res.Warnings {
			fmt.Fprintf(st.Err, "drift: warning: %s\n", escape.Name(w))
		}
		for _, n := range res.Notes {
			fmt.Fprintf(st.Err, "drift: note: %s\n", escape.Name(n))
		}
	}
	state := report.AdoptDone
	if opts.DryRun {
		state = report.AdoptDryRun
	}
	return report.WriteAdopt(st.Out, m.Root, m.Audit.Args, res, state, opts.Format)
}

// adoptError keeps restore's hints, and says what to do about a mount
// point or a btrfs subvolume (restore.MountError) in the way.
func adoptError(err error) error {
	var h *restore.HintError
	if errors.As(err, &h) {
		return withHint(err, h.Hint)
	}
	var me *restore.MountError
	if errors.As(err, &me) && me.Subvolume {
		return withHint(err, "it is a btrfs subvolume, not a mount point: drift never deletes or replaces one; adopt what is inside it, or move it aside yourself first (btrfs subvolume delete, once its data is safe)")
	}
	if errors.As(err, &me) {
		return withHint(err, "adopt what is below the mount point, or unmount it first")
	}
	return err
}
