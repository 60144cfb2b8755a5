package audit

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/pathx"
	"golang.org/x/sys/unix"
)

// sourceUses are the files the declarations were read from (Sources that
// lie inside Root, as paths of the audited system), in use: drift itself
// reads them, so they are never stray data. When the declarations were
// discovered (no --persist, no --flake), the directory of each file read
// is in use too: it is the configuration (/nix/persist/etc/nixos with its
// hardware-configuration.nix), not only the files declaring persistence.
func (m *Model) sourceUses() []Use {
	var out []Use
	for _, p := range m.sourcePaths() {
		out = append(out, Use{Path: p, Kind: UseReferenced, By: "the declarations drift reads (" + p + ")"})
		if m.discovered {
			if dir := path.Dir(p); dir != "/" {
				out = append(out, Use{Path: dir, Kind: UseReferenced, By: "the configuration drift reads (" + p + ")"})
			}
		}
	}
	return out
}

// sourcePaths are the files the declarations were read from (Sources)
// that lie inside Root, as paths of the audited system, in order.
func (m *Model) sourcePaths() []string {
	root, err := filepath.Abs(m.Root)
	if err != nil {
		return nil
	}
	var out []string
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
		out = append(out, pathx.Clean("/"+filepath.ToSlash(rel)))
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
		if slices.ContainsFunc(storages, func(sp string) bool { return mp != sp && pathx.HasPrefix(mp, sp) }) {
			out = append(out, Use{Path: mp, Kind: UseMounted, By: "a mount point (drift never crosses a mount)"})
		}
	}
	return out
}

// resolvedUses are the uses of us that the configuration references,
// followed through the symlinks on their way inside Root (each component,
// never out of Root: openat2 RESOLVE_IN_ROOT), where that leads elsewhere:
// a host key named as /nix/persist/keys/ssh.key, with /nix/persist/keys a
// link to realkeys, uses /nix/persist/realkeys/ssh.key too. A path whose
// end does not exist resolves as far as it does.
func (m *Model) resolvedUses(us []Use) []Use {
	rootFD, err := fsys.OpenRoot(m.Root)
	if err != nil {
		return nil
	}
	defer unix.Close(rootFD)
	rootReal, err := filepath.EvalSymlinks(m.Root)
	if err != nil {
		return nil
	}
	var out []Use
	for _, u := range us {
		if u.Kind != UseReferenced {
			continue
		}
		if r, ok := resolveIn(rootFD, rootReal, u.Path); ok && r != u.Path {
			out = append(out, Use{Path: r, Kind: u.Kind, By: fmt.Sprintf("%s, through the link on the way of %s", u.By, u.Path)})
		}
	}
	return out
}

// resolveIn resolves the absolute path p inside the root rootFD (whose
// real path is rootReal): its longest existing prefix, links followed in
// the root, and the rest joined. ok is false when nothing resolves.
func resolveIn(rootFD int, rootReal, p string) (string, bool) {
	rest := ""
	for cur := p; ; {
		name := strings.TrimPrefix(cur, "/")
		if name == "" {
			name = "."
		}
		fd, err := fsys.OpenInRoot(rootFD, name, unix.O_PATH)
		if err == nil {
			real, rerr := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
			unix.Close(fd)
			if rerr != nil {
				return "", false
			}
			rel, ok := pathx.Rel(rootReal, real)
			if !ok {
				return "", false
			}
			return pathx.Clean(path.Join("/", rel, rest)), true
		}
		if cur == "/" || (!errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.ENOTDIR)) {
			return "", false
		}
		rest = path.Join(path.Base(cur), rest)
		cur = path.Dir(cur)
	}
}

// declaredUses are the persistent copies the system's configuration
// declares in modules whose declarations the command was not given
// (persist.Config.Declared): --persist naming one module of the
// configuration, or a file outside it, is not all that is declared, and a
// copy that any module declares is never stray.
func (m *Model) declaredUses() []Use {
	if m.Decls == nil || m.Decls.Config == nil {
		return nil
	}
	var out []Use
	for _, e := range m.Decls.Config.Declared {
		if e.StoragePath == "/" {
			continue
		}
		at := "the system's configuration"
		if p := e.Pos.String(); p != "" {
			at = p
		}
		out = append(out, Use{Path: e.Source(), Kind: UseDeclared, By: fmt.Sprintf("declared for %s at %s (a module of the system's configuration whose declarations drift was not given)", e.Path, at)})
	}
	return out
}

// stringUses are the paths under a persistent storage path of the
// declarations that a string literal of the configuration holds
// (persist.Config.Strings: "token:/nix/persist/secrets/token", a tmpfiles
// rule, an `or` default), each once, those an option names already (refs)
// left out: for a command that removes data, any literal naming a path is
// a use of it, whether or not the option it sets can be read.
func (m *Model) stringUses(refs []Use) []Use {
	if m.Decls == nil || m.Decls.Config == nil {
		return nil
	}
	storages := m.storagePaths()
	var out []Use
	seen := map[string]bool{}
	for _, u := range refs {
		seen[u.Path] = true
	}
	for _, r := range m.Decls.Config.Strings {
		if seen[r.Path] || !slices.ContainsFunc(storages, func(sp string) bool { return r.Path != sp && pathx.HasPrefix(r.Path, sp) }) {
			continue
		}
		seen[r.Path] = true
		at := ""
		if p := r.Pos.String(); p != "" {
			at = " (" + p + ")"
		}
		out = append(out, Use{Path: r.Path, Kind: UseReferenced, By: "a string of the configuration" + at})
	}
	return out
}
