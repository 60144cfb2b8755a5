package audit

import (
	"fmt"
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

// oldNixosHint, when no declarations were found (discovered, none) and
// the newest old root holds etc/nixos, says where: the configuration lived
// on the wiped root, and the old root's copy is the way back to it (the
// top level mounted where the user can read it, when the old roots are in
// it). "" otherwise.
func (m *Model) oldNixosHint() string {
	if !m.discovered || len(m.Decls.Entries) > 0 || len(m.OldRoots.Roots) == 0 {
		return ""
	}
	r := m.OldRoots.Roots[0]
	st, err := fsys.StatIn(r.Dir, "/etc/nixos")
	if err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return ""
	}
	file := "etc/nixos/configuration.nix"
	if st, err := fsys.StatIn(r.Dir, "/"+file); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		file = "etc/nixos/FILE.nix"
	}
	if !m.OldRoots.InTop {
		return fmt.Sprintf("/etc/nixos lived on the wiped root; the newest old root holds it: --persist %s", escape.Shell(path.Join(r.Path, file)))
	}
	return fmt.Sprintf("/etc/nixos lived on the wiped root; the newest old root holds it (%s:/%s/etc/nixos): mkdir -p /mnt/top && mount -o subvolid=5 %s /mnt/top, then drift check --persist %s (umount /mnt/top after)",
		m.OldRoots.Source, r.Path, escape.Shell(m.OldRoots.Source), escape.Shell(path.Join("/mnt/top", r.Path, file)))
}
