package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

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
	Force  bool
	DryRun bool
	Quiet  bool
}

func newRestoreCmd(st Streams) *cobra.Command {
	opts := &RestoreOptions{}
	cmd := &cobra.Command{
		Use:   "restore PATH --from latest|NAME|DIR",
		Short: "Copy a file or directory back from an old root",
		Long: `Copy PATH (a path as the live system sees it) back from an old root, keeping
mode, owner, times, extended attributes, symlinks and hard links.

--from names the old root: latest (the newest by real time), its name in
old_roots (2026-11-5_09:03:07), or its directory under a mount of the top
level. The copy goes into the persistent storage that covers PATH per the
declarations, so it survives the next boot (a PATH no declaration covers is
refused); --to live puts it at PATH under --root instead.

No symlink is followed, on either side; an existing destination is replaced
only with --force. The copy is built beside the destination and renamed into
place: the destination is untouched or complete. --dry-run changes nothing.
Declarations are found as for drift check.

More, with examples: docs/restore.md in drift's repository.

EXIT STATUS
  0  restored (or, with --dry-run, the restore is possible)
  2  error (nothing restored: bad input, undeclared PATH, an existing
     destination without --force, a symlink in the way)
  130, 143  interrupted by SIGINT or SIGTERM: nothing restored`,
		Example: `  drift restore /etc/ssh --from latest --dry-run
  drift restore /var/lib/bluetooth --from 2026-11-5_09:03:07 --device /dev/disk/by-label/nixos
  drift restore /etc/ssh --from /mnt/top/old_roots/2026-11-5_09:03:07 --dry-run
  drift restore /var/lib/bluetooth --from /mnt/top/old_roots/2026-11-5_09:03:07
  drift restore /home/alice/notes.txt --from /mnt/top/old_roots/2026-11-5_09:03:07 --to live
  drift restore /etc/machine-id --from /mnt/top/old_roots/2026-11-5_09:03:07 --force`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Path = args[0]
			return runRestore(cmd.Context(), opts, st)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.From, "from", "", "the old root: latest, its `NAME` in old_roots (2026-11-5_09:03:07), or its top directory (/mnt/top/old_roots/2026-11-5_09:03:07)")
	f.StringVar(&opts.Device, "device", "", "with --from latest|NAME: the btrfs partition `DEV` holding old_roots (default: the filesystem mounted at --root)")
	f.StringVar(&opts.OldRoots, "old-roots", "old_roots", "with --from latest|NAME: where old roots are kept, relative to the top level")
	f.StringVar(&opts.To, "to", "persist", "where the copy goes: persist (the persistent storage covering PATH) or live (PATH under --root)")
	opts.declFlags.add(cmd, "the live system is mounted at this directory")
	f.BoolVar(&opts.Force, "force", false, "replace an existing destination (atomically)")
	f.BoolVar(&opts.DryRun, "dry-run", false, "print what would be copied and where; change nothing")
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "print no warnings on stderr")
	completeValues(cmd, "to", []string{"persist", "live"})
	completeKeywords(cmd, "from", []string{"latest"}, pathDir)
	return cmd
}

// oldRootDir maps a --from value to the directory holding the old root's
// top, and a function that releases what it took (the top-level mount).
//
//   - latest, or an old-root name (btrfs.ParseName: 2026-11-5_09:03:07[.N]):
//     resolved through internal/btrfs. The top level of the filesystem behind
//     --device, else of the one mounted at root, is mounted privately; the
//     entry of oldRoots by that name, or the newest subvolume there by real
//     time, is the old root.
//   - anything else: the old root's directory itself (an old root seen through
//     a mount of the top level, /mnt/top/old_roots/2026-11-5_09:03:07).
//
// label, when not "", names the old root for messages in place of the
// temporary mount ("/dev/vda2:/old_roots/2026-11-5_09:03:07").
func oldRootDir(ctx context.Context, from, device, oldRoots, root string) (dir string, release func(), label string, err error) {
	hint := "--from latest, an old root's name in old_roots (--from 2026-11-5_09:03:07), or its directory under a mount of the top level (mount -o subvolid=5 DEV /mnt/top; --from /mnt/top/old_roots/2026-11-5_09:03:07)"
	if from == "" {
		return "", nil, "", withHint(errors.New("--from: name the old root to restore from"), hint)
	}
	if from == btrfs.Latest || isOldRootName(from) {
		return findOldRoot(ctx, from, device, oldRoots, root)
	}
	dir, err = filepath.Abs(from)
	if err != nil {
		return "", nil, "", err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		if !strings.Contains(from, "/") {
			return "", nil, "", withHint(fmt.Errorf("--from %s: not a directory, nor latest or an old-root name (YYYY-MM-D_hh:mm:ss[.N])", from), hint)
		}
		return "", nil, "", fmt.Errorf("--from: %w", err)
	}
	if !fi.IsDir() {
		return "", nil, "", fmt.Errorf("--from %s: not a directory", from)
	}
	return dir, func() {}, "", nil
}

func isOldRootName(s string) bool {
	_, err := btrfs.ParseName(s, time.UTC)
	return err == nil
}

// findOldRoot mounts the top level behind device (else behind root) and
// picks the old root name (or latest) in oldRoots there.
func findOldRoot(ctx context.Context, name, device, oldRoots, root string) (string, func(), string, error) {
	source := device
	if source == "" {
		source = root
	}
	top, err := btrfs.OpenTop(ctx, source)
	if err != nil {
		if device == "" {
			return "", nil, "", withHint(fmt.Errorf("--from %s: %w", name, err),
				"old roots are found on the btrfs filesystem mounted at --root; name its partition with --device DEV, or pass the old root's directory to --from")
		}
		return "", nil, "", withHint(fmt.Errorf("--from %s: %w", name, err), "drift needs root and the btrfs partition itself (or a path on it)")
	}
	r, err := top.FindOldRoot(oldRoots, name, time.UTC)
	if err != nil {
		top.Close()
		return "", nil, "", fmt.Errorf("--from %s: %w", name, err)
	}
	return filepath.Join(top.Dir, r.Path), func() { top.Close() }, top.Source + ":/" + r.Path, nil
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
	loaded, err := opts.declFlags.load(ctx, st)
	if err != nil {
		return err
	}
	root, decls := loaded.Root, loaded.Set
	from, release, label, err := oldRootDir(ctx, opts.From, opts.Device, opts.OldRoots, root)
	if err != nil {
		return err
	}
	defer release()
	warn := func(format string, args ...any) {
		if !opts.Quiet {
			fmt.Fprintf(st.Err, "drift: warning: %s\n", escape.Text(fmt.Sprintf(format, args...)))
		}
	}
	loaded.printDiagnostics(st, false, opts.Quiet)
	dest, entry, declared, err := restore.Destination(decls, p, to)
	if errors.Is(err, restore.ErrUndeclared) {
		return withHint(fmt.Errorf("%s is not declared: no persistent storage path covers it", escape.Name(p)),
			"declare it, or it is lost again at the next boot; --to live copies it back to the live root for now")
	}
	if err != nil {
		return err
	}
	if !declared {
		warn("%s is not declared: declare it, or it is lost again at the next boot", escape.Name(p))
	}
	base := "" // --to live: mounts are crossed down to the live path's parent
	if sp := entry.StoragePath; to == restore.ToPersist && (sp == "/" || dest == sp || strings.HasPrefix(dest, sp+"/")) {
		base = sp // below the persistent storage path, none
	}
	if base != "" && base != "/" {
		// The storage path is to be a mount that is not mounted now: the
		// copy would land beneath it (audit.UnmountedError).
		var ue *audit.UnmountedError
		if err := audit.CheckStorageMounted(root, "", decls, base); errors.As(err, &ue) {
			return withHint(fmt.Errorf("%s: %w", escape.Name(p), ue), ue.Hint())
		} else if err != nil {
			return err
		}
	}
	res, err := restore.Run(ctx, restore.Request{From: from, FromName: label, Path: p, Root: root, Dest: dest, Base: base, Force: opts.Force, DryRun: opts.DryRun})
	var h *restore.HintError
	if errors.As(err, &h) {
		return withHint(h.Err, h.Hint)
	}
	if err != nil {
		return err
	}
	for _, s := range res.Skipped {
		warn("%s not copied: %s", escape.Name(s.Path), s.Reason)
	}
	for _, w := range res.Warnings {
		warn("%s", escape.Name(w))
	}
	if declared && to == restore.ToPersist && res.Replaced && dest == path.Clean(entry.Source()) {
		warn("%s is the persistent copy of a declared %s: a bind mount of it at %s goes on showing the replaced copy until it is mounted again (at the next boot)",
			escape.Name(path.Join(root, dest)), entry.Kind, escape.Name(entry.Path))
	}
	if opts.DryRun {
		report.WriteRestorePlan(st.Out, root, res, entry, declared)
		return nil
	}
	verb := "restored"
	if res.Replaced {
		verb = "replaced"
	}
	fmt.Fprintf(st.Out, "%s %s from %s: %s\n", verb, escape.Name(res.DestFull), escape.Name(res.Source), report.RestoreSummary(res))
	return nil
}
