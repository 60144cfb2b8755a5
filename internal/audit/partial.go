package audit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/hashindex"
	"github.com/nix-drift/drift/internal/partial"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
	"golang.org/x/sys/unix"
)

// pollEvery is how many mounts or declarations the audit goes through
// between two looks at its context: a signal stops it within a fraction
// of a second.
const pollEvery = 1024

// partialCopyWarnings names the partial copies that a drift adopt or drift
// restore killed mid-copy left beside a declared path's persistent copy
// (in the directory holding it) or directly inside a declared directory's
// copy: one warning each (kind storage), with the command that finishes
// the copy and removes it. A partial copy whose process still runs is a
// copy in progress, not named. Directories that cannot be read are passed
// over, and a copy whose holding directory does not exist is not looked
// for. Each directory is listed once, found through a hashindex table of
// the entries naming it (no map or string kept per declaration: a million
// declared directories cost 8 to 16 MiB here, not 240), and each entry's
// copy is named once (a string of 30 bytes or so, garbage at once; not one
// per lookup: 150 MB of garbage for a million).
//
// The commands run as printed against the audited system: drift adopt
// with --root and args (Options.args, what Audit.Args holds), rm -r of the
// copy's path as the host sees it (below Root).
//
// It looks at ctx every pollEvery declarations, and returns nil once it
// is done: the caller returns ctx's error.
func (m *Model) partialCopyWarnings(ctx context.Context, args []string) []diff.Warning {
	es := m.Decls.Entries
	// A ref r names the copy of entry r>>1 (r&1 == 0) or the directory
	// holding it (r&1 == 1); dirs are the refs of the directories listed,
	// missing[i] whether dirs[i] does not exist.
	var dirs []uint32
	var missing []bool
	dirOf := func(r uint32) string {
		src := path.Clean(es[r>>1].Source())
		if r&1 == 1 {
			return path.Dir(src)
		}
		return src
	}
	var seen hashindex.Index
	hashOf := func(i int) uint64 { return hashindex.HashString(dirOf(dirs[i])) }
	type found struct {
		dir, name, of string
		pid           int
	}
	var partials []found
	// list lists d, named by r, unless it was; it reports whether d
	// exists (or may: an error other than ENOENT, ENOTDIR).
	list := func(d string, r uint32) bool {
		h := hashindex.HashString(d)
		if i := seen.Find(h, func(i int) bool { return dirOf(dirs[i]) == d }); i >= 0 {
			return !missing[i]
		}
		seen.Add(h, len(dirs), hashOf)
		names, err := m.listDir(d)
		dirs, missing = append(dirs, r), append(missing, errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR))
		for _, n := range names {
			if of, pid, ok := partial.Parse(n); ok && partial.Gone(pid) {
				partials = append(partials, found{d, n, of, pid})
			}
		}
		return !missing[len(missing)-1]
	}
	// The holding directory of the entry before, by its storage path and
	// its path's parent (often the same: then no copy is named when the
	// holding directory does not exist), and whether it exists.
	var lastSP, lastParent string
	exists := false
	for j, e := range es {
		if j%pollEvery == pollEvery-1 && ctx.Err() != nil {
			return nil
		}
		if e.Path == "/" {
			continue
		}
		same := lastSP != "" && e.SourcePath() == "" && e.StoragePath == lastSP && path.Dir(e.Path) == lastParent
		if same && !exists {
			continue
		}
		src := path.Clean(e.Source())
		if src == "/" {
			continue
		}
		if !same {
			exists = list(path.Dir(src), uint32(j)<<1|1)
			lastSP, lastParent = "", ""
			if e.SourcePath() == "" {
				lastSP, lastParent = e.StoragePath, path.Dir(e.Path)
			}
		}
		if e.Kind == persist.Dir && exists {
			list(src, uint32(j)<<1)
		}
	}
	if len(partials) == 0 {
		return nil
	}
	// What each partial copy is of: the declared path whose copy it
	// would become (named), else a path inside the declared directory
	// whose copy holds it (inside); the last entry to say so wins.
	named, inside := map[string]string{}, map[string]string{}
	for _, p := range partials {
		named[path.Join(p.dir, p.of)], inside[p.dir] = "", ""
	}
	for _, e := range es {
		src := path.Clean(e.Source())
		if src == "/" || e.Path == "/" {
			continue
		}
		if _, ok := named[src]; ok {
			named[src] = e.Path
		}
		if _, ok := inside[src]; ok && e.Kind == persist.Dir {
			inside[src] = e.Path
		}
	}
	out := make([]diff.Warning, 0, len(partials))
	for _, p := range partials {
		full := path.Join(p.dir, p.name)
		live, ok := named[path.Join(p.dir, p.of)], true
		if live == "" {
			live, ok = inside[p.dir], inside[p.dir] != ""
			live = path.Join(live, p.of)
		}
		msg := fmt.Sprintf("%s is a partial copy that a drift adopt or drift restore left when it was killed (process %d is gone)", full, p.pid)
		rm := "rm -r " + escape.Shell(path.Join(m.Root, full))
		if ok {
			msg += fmt.Sprintf(": run %s again, which finishes the copy of %s and removes it, or remove it (%s)", escape.DriftCommand([]string{"adopt"}, m.Root, args, live), path.Join(p.dir, p.of), rm)
		} else {
			msg += fmt.Sprintf(": remove it (%s)", rm)
		}
		out = append(out, diff.Warning{Kind: diff.WarnStorage, Path: full, Message: msg})
	}
	slices.SortFunc(out, func(a, b diff.Warning) int { return pathx.Compare(a.Path, b.Path) })
	return out
}

// listDir lists the names in the directory d of the audited system, reached
// beneath Root without a symlink; none, and OpenDirIn's error, when it
// cannot be opened (what it lists before a read error when it cannot be
// read).
func (m *Model) listDir(d string) ([]string, error) {
	fd, err := fsys.OpenDirIn(m.Root, d)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), d)
	defer f.Close()
	names, _ := f.Readdirnames(-1)
	return names, nil
}
