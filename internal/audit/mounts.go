package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
)

// LoadMounts reads the mount table (file, --mountinfo; "" for the live
// /proc/self/mountinfo) and keeps what lies at or below root, relative to
// it. An explicit file none of whose mounts is at or below root is taken to
// describe the system at root already (fixtures). Errors are
// mounts.ReadFile's, those of an explicit file prefixed with --mountinfo
// unless they are a *mounts.ParseError (which names file and line).
func LoadMounts(root, file string) (*mounts.Table, error) {
	t, _, err := loadMounts(context.Background(), root, file, "", nil)
	return t, err
}

// stdinName names standard input in messages, as persist does.
const stdinName = "<stdin>"

// loadMounts is LoadMounts, also returning the live mount table whole
// (nil with file): what btrfs.OpenTop looks the filesystem up in, so that
// a command reads the table once. The live table is read from livePath
// ("": mounts.DefaultPath; Options.LiveMountinfo). A file "-" is read from
// stdin (os.Stdin when nil), named <stdin>, giving up with ctx's error
// even while a read is blocked (mounts.ReadStream).
func loadMounts(ctx context.Context, root, file, livePath string, stdin io.Reader) (t, live *mounts.Table, err error) {
	switch file {
	case "":
		if livePath == "" {
			livePath = mounts.DefaultPath
		}
		t, err = mounts.ReadFileContext(ctx, livePath)
	case "-":
		if stdin == nil {
			stdin = os.Stdin
		}
		t, err = mounts.ReadStream(ctx, stdin, stdinName)
	default:
		t, err = mounts.ReadFileContext(ctx, file)
	}
	if err != nil {
		var pe *mounts.ParseError
		if file != "" && !errors.As(err, &pe) && ctx.Err() == nil {
			return nil, nil, fmt.Errorf("--mountinfo: %w", err)
		}
		return nil, nil, err
	}
	if file == "" {
		live = t
	}
	if root == "/" {
		return t, live, nil
	}
	if file != "" {
		below := false
		for _, m := range t.Mounts {
			if pathx.Contains(root, m.MountPoint) {
				below = true
				break
			}
		}
		if !below {
			return t, nil, nil
		}
	}
	return t.Relative(root), live, nil
}

// ephemeralMounts are the mounts the next boot wipes, classified as the
// walk classifies them (diff.Check with MountsOnly: nothing walked); none
// when the system is not impermanent (no declarations, no --ephemeral).
func (m *Model) ephemeralMounts(ctx context.Context, o Options) []mounts.Mount {
	cfg := diff.Config{Root: m.Root, Mounts: m.Mounts, Decls: m.Decls, Ephemeral: append(slices.Clone(o.Ephemeral), m.configuredTmpfs()...), MountsOnly: true}
	cfg.Remounted, cfg.Homes, cfg.HomeManagerHomes = m.remounted(), m.homeDirs(), m.homeManagerHomes()
	a, err := diff.Check(ctx, cfg)
	if err != nil {
		return nil
	}
	return a.Ephemeral
}

// remounted lists the mount points the next boot mounts again besides the
// declared persistence: the configuration's fileSystems and /etc/fstab.
func (m *Model) remounted() []string {
	var out []string
	if m.Decls.Config != nil {
		for _, f := range m.Decls.Config.FileSystems {
			out = append(out, f.MountPoint)
		}
	}
	for _, e := range m.Fstab {
		out = append(out, e.Point)
	}
	return out
}

// configuredTmpfs lists the mount points (other than /) where the
// configuration's fileSystems or /etc/fstab mount a tmpfs and a tmpfs is
// mounted now: ephemeral without --ephemeral (a tmpfs starts empty at every
// boot).
func (m *Model) configuredTmpfs() []string {
	var points []string
	if m.Decls.Config != nil {
		for _, f := range m.Decls.Config.FileSystems {
			if f.FSType == "tmpfs" {
				points = append(points, f.MountPoint)
			}
		}
	}
	for _, e := range m.Fstab {
		if e.FSType == "tmpfs" {
			points = append(points, e.Point)
		}
	}
	var out []string
	for _, p := range points {
		if mt := m.Mounts.At(p); p != "/" && mt != nil && mt.FSType == "tmpfs" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// KeptAt is the mount point of the filesystem that shows the live path p
// when it is a disk-backed one the next boot keeps as it is: not one of
// the ephemeral mounts the audit classifies (the wiped root, a tmpfs the
// configuration mounts, --ephemeral), nor a tmpfs or kernel filesystem
// made anew at boot. A path there survives the wipe and needs no
// declaration (drift adopt has nothing to adopt; drift restore --to live
// of it is not lost again). "" otherwise, or when no mount shows p. The
// classification is the walk's (diff.Audit.Ephemeral), made without the
// walk for the models of drift adopt and drift restore.
func (m *Model) KeptAt(p string) string {
	if m.Mounts == nil {
		return ""
	}
	mt := m.Mounts.Shows(p)
	if mt == nil || !mt.DiskBacked() || slices.ContainsFunc(m.ephemeral, func(e mounts.Mount) bool { return e.ID == mt.ID }) {
		return ""
	}
	return mt.MountPoint
}
