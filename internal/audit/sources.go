package audit

import (
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nix-drift/drift/internal/mounts"
)

// sourceUses are the files the declarations were read from (Sources that
// lie inside Root, as paths of the audited system), in use: drift itself
// reads them, so they are never stray data. When the declarations were
// discovered (no --persist, no --flake), the directory of each file read
// is in use too: it is the configuration (/nix/persist/etc/nixos with its
// hardware-configuration.nix), not only the files declaring persistence.
func (m *Model) sourceUses() []Use {
	root, err := filepath.Abs(m.Root)
	if err != nil {
		return nil
	}
	var out []Use
	for _, s := range m.Sources {
		if strings.HasPrefix(s, "--flake ") || s == "-" {
			continue
		}
		abs, err := filepath.Abs(s)
		if err != nil {
			continue
		}
		rel, err := filepath.Rel(root, abs)
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			continue
		}
		p := mounts.Clean("/" + filepath.ToSlash(rel))
		out = append(out, Use{Path: p, Kind: UseReferenced, By: "the declarations drift reads (" + p + ")"})
		if m.discovered {
			if dir := path.Dir(p); dir != "/" {
				out = append(out, Use{Path: dir, Kind: UseReferenced, By: "the configuration drift reads (" + p + ")"})
			}
		}
	}
	return out
}

// mountPointUses are the mount points (MountPoints: mounted now, or by the
// next boot) strictly below the storage paths storages, in use: a mount
// point there holds another filesystem's data (or a bind mount's), never
// stray data of the storage path, and a directory holding one is on the
// way to it (drift never moves or walks across a mount).
func (m *Model) mountPointUses(storages []string) []Use {
	var out []Use
	for _, mp := range m.mountPoints {
		if slices.ContainsFunc(storages, func(sp string) bool { return mp != sp && mounts.HasPrefix(mp, sp) }) {
			out = append(out, Use{Path: mp, Kind: UseMounted, By: "a mount point (drift never crosses a mount)"})
		}
	}
	return out
}
