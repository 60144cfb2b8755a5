package audit

import (
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/pathx"
	"golang.org/x/sys/unix"
)

// wipedSources is the warning, once, that files the declarations were
// read from (Sources inside Root, reached without a symlink) lie on the
// wiped root where the audit finds them lost (a.Lost, at the path or a
// directory lost whole above it) and no declaration covers them (a
// declared one is a row of its own, with the drift adopt that keeps it):
// after the next boot drift check does not find them. ok false when none does.
func (m *Model) wipedSources(a *diff.Audit) (w diff.Warning, ok bool) {
	rootFD, err := fsys.OpenRoot(m.Root)
	if err != nil {
		return w, false
	}
	defer unix.Close(rootFD)
	var gone []string
	for _, p := range m.sourcePaths() {
		if p == "/" || !lostIn(a.Lost, p) {
			continue
		}
		if _, declared := m.Decls.Covering(p); declared {
			continue // its row says what keeps it (drift adopt)
		}
		fd, err := fsys.OpenRead(rootFD, strings.TrimPrefix(p, "/")) // no symlink on the way
		if err != nil {
			continue
		}
		unix.Close(fd)
		gone = append(gone, p)
	}
	if len(gone) == 0 {
		return w, false
	}
	msg := fmt.Sprintf("the declarations drift read (%s) lie on the wiped root and nothing keeps them: after the next boot they are gone, and drift check will not find them; declare %s (or keep the configuration in persistent storage), or enable services.drift, which writes /etc/drift/declarations.json at every boot",
		strings.Join(gone, ", "), path.Dir(gone[0]))
	return diff.Warning{Kind: diff.WarnSetup, Path: gone[0], Message: msg}, true
}

// lostIn reports whether p is lost in lost (in pathx.Compare order): an
// item at p, or a directory above it that stands for its contents.
func lostIn(lost []*diff.Item, p string) bool {
	found := false
	pathx.Ancestors(p, func(q string) bool {
		i, ok := slices.BinarySearchFunc(lost, q, func(it *diff.Item, q string) int { return pathx.Compare(it.Path, q) })
		if ok && lost[i].Category.Lost() && (q == p || lost[i].Below().Count > 0) {
			found = true
		}
		return !found
	})
	return found
}

// oldNixosHint, when no declarations were found (discovered, none), says
// where a configuration is: the first of the newest old root's etc/nixos
// (the configuration lived on the wiped root) and, when the old roots are
// in the top level, the etc/nixos of a storage path there (a top-level
// entry, or a directory in one: persist/etc/nixos, nix/persist/etc/nixos)
// that holds a configuration.nix or flake.nix, a regular file with data;
// never an empty etc/nixos, which is only the mount point a bind mount of
// the persisted copy left on the root. With the top level mounted where
// the user can read it, and the drift check that reads it there: with
// --root and args (Options.args) as the audit had them, the same system.
// "" when none does, or when Root shows a configuration at etc/nixos (the
// hint's premise, that the configuration is not on the root, fails).
func (m *Model) oldNixosHint(args []string) string {
	if !m.discovered || len(m.Decls.Entries) > 0 || len(m.OldRoots.Roots) == 0 {
		return ""
	}
	if m.Root != "" && nixosConfig(m.Root, "etc/nixos") != "" {
		// The configuration is in view at ROOT/etc/nixos: what was read
		// there (or beside it) declares nothing, and no other copy of it
		// is the cause.
		return ""
	}
	r := m.OldRoots.Roots[0]
	if file := nixosConfig(r.Dir, "etc/nixos"); file != "" {
		if !m.OldRoots.InTop {
			return fmt.Sprintf("/etc/nixos lived on the wiped root; the newest old root holds it: --persist %s", escape.Shell(path.Join(r.Path, file)))
		}
		return m.topHint("/etc/nixos lived on the wiped root; the newest old root holds it", path.Join(r.Path, file), args)
	}
	top, ok := strings.CutSuffix(r.Dir, r.Path)
	if !m.OldRoots.InTop || !ok || r.Path == "" {
		return ""
	}
	for _, rel := range storageNixos(top, path.Dir(r.Path)) {
		if file := nixosConfig(top, rel); file != "" {
			return m.topHint("the configuration is in persistent storage, not on the root", file, args)
		}
	}
	return ""
}

// topHint is oldNixosHint's words for file (relative to the top level of
// the filesystem the old roots are on): what mounts the top level, and
// the drift check that reads it there, with --root and args. The commands
// that check prints (drift restore of what vanished, drift adopt) carry
// the same --persist /mnt/top/…: the top level is unmounted only after
// them, as the hint says.
func (m *Model) topHint(why, file string, args []string) string {
	source := m.OldRoots.Source
	check := escape.DriftCommand([]string{"check"}, m.Root, append(slices.Clone(args), "--persist", path.Join("/mnt/top", file)))
	return fmt.Sprintf("%s (%s:/%s): mkdir -p /mnt/top && mount -o subvolid=5 %s /mnt/top, then %s (the commands it prints read the configuration there too: umount /mnt/top only after running them)",
		why, source, path.Dir(file), escape.Shell(source), check)
}

// nixosConfig is dir (relative, beneath root)'s configuration: dir joined
// with configuration.nix when that is a regular file with data, else with
// FILE.nix (the module to name) when flake.nix is; "" when neither.
func nixosConfig(root, dir string) string {
	has := func(name string) bool {
		st, err := fsys.StatIn(root, "/"+path.Join(dir, name))
		return err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Size > 0
	}
	switch {
	case has("configuration.nix"):
		return path.Join(dir, "configuration.nix")
	case has("flake.nix"):
		return path.Join(dir, "FILE.nix")
	}
	return ""
}

// storageNixos lists the etc/nixos a storage path in the top level (at
// top) can hold: ENTRY/etc/nixos and ENTRY/DIR/etc/nixos for each
// directory ENTRY of the top level and DIR in it, in name order, the old
// roots' directory (oldRoots) left out. Unreadable directories are
// skipped.
func storageNixos(top, oldRoots string) []string {
	var out []string
	for _, e := range dirNames(top, "/") {
		if e == oldRoots {
			continue
		}
		out = append(out, path.Join(e, "etc/nixos"))
		for _, d := range dirNames(top, "/"+e) {
			if d != "etc" {
				out = append(out, path.Join(e, d, "etc/nixos"))
			}
		}
	}
	return out
}

// dirNames is the names of the directories in dir beneath root, sorted,
// read without following a symlink; none when it cannot be read.
func dirNames(root, dir string) []string {
	fd, err := fsys.OpenDirIn(root, dir)
	if err != nil {
		return nil
	}
	f := os.NewFile(uintptr(fd), dir)
	defer f.Close()
	ents, err := f.ReadDir(-1)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out
}
