package audit

import (
	"fmt"
	"os"
	"path"
	"slices"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/partial"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
)

// partialCopyWarnings names the partial copies that a drift adopt or drift
// restore killed mid-copy left beside a declared path's persistent copy
// (in the directory holding it) or directly inside a declared directory's
// copy: one warning each (kind storage), with the command that finishes
// the copy and removes it. A partial copy whose process still runs is a
// copy in progress, not named. Directories that cannot be read are passed
// over.
func (m *Model) partialCopyWarnings() []diff.Warning {
	type place struct {
		named  map[string]string // a copy's name in the directory -> its live path
		inside string            // the live path of the declared directory whose copy this is
	}
	dirs := map[string]*place{}
	at := func(d string) *place {
		if dirs[d] == nil {
			dirs[d] = &place{named: map[string]string{}}
		}
		return dirs[d]
	}
	for _, e := range m.Decls.Entries {
		src := path.Clean(e.Source())
		if src == "/" || e.Path == "/" {
			continue
		}
		at(path.Dir(src)).named[path.Base(src)] = e.Path
		if e.Kind == persist.Dir {
			at(src).inside = e.Path
		}
	}
	var out []diff.Warning
	for d, pl := range dirs {
		for _, n := range m.listDir(d) {
			of, pid, ok := partial.Parse(n)
			if !ok || !partial.Gone(pid) {
				continue
			}
			full := path.Join(d, n)
			live, ok := pl.named[of]
			if !ok && pl.inside != "" {
				live, ok = path.Join(pl.inside, of), true
			}
			msg := fmt.Sprintf("%s is a partial copy that a drift adopt or drift restore left when it was killed (process %d is gone)", full, pid)
			if ok {
				msg += fmt.Sprintf(": run drift adopt %s again, which finishes the copy of %s and removes it, or remove it (rm -r %s)", live, path.Join(d, of), full)
			} else {
				msg += fmt.Sprintf(": remove it (rm -r %s)", full)
			}
			out = append(out, diff.Warning{Kind: diff.WarnStorage, Path: full, Message: msg})
		}
	}
	slices.SortFunc(out, func(a, b diff.Warning) int { return pathx.Compare(a.Path, b.Path) })
	return out
}

// listDir lists the names in the directory d of the audited system, reached
// beneath Root without a symlink; none when it cannot be read.
func (m *Model) listDir(d string) []string {
	fd, err := diff.OpenDirIn(m.Root, d)
	if err != nil {
		return nil
	}
	f := os.NewFile(uintptr(fd), d)
	defer f.Close()
	names, _ := f.Readdirnames(-1)
	return names
}
