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

// Partial is a partial copy that a drift restore or drift adopt killed
// mid-copy left (partial.Parse reads its name, and its process is gone):
// drift's, never the user's data, wherever it lies. One fact read by every
// command: drift check and drift suggest warn of it (Warning) and never
// count it lost nor propose to persist or adopt it (diff.Audit.LeftCopies
// keeps it out of Lost), drift prune never moves it, and no vanished
// path, nor restore offer, is made of one (diff skips the names).
type Partial struct {
	// Path is where it lies in the audited system (absolute).
	Path string
	// Copy is what its name says: the name it stands for, the command
	// that built it, its process.
	partial.Copy
	// Wiped: it lies on the wiped root, which the next boot deletes it
	// with; else in persistent storage, beside a declared path's copy
	// (Dest) or directly inside a declared directory's.
	Wiped bool
	// Dest is the persistent copy it was to become (absolute, in the
	// audited system; "" on the wiped root), Live the declared live path
	// that copy is of ("" when no declaration names one).
	Dest, Live string
	// Adopt is the drift adopt command that finishes Dest and removes it
	// (it copies Live again, removing the partial copies of it killed
	// runs left): set only for one drift adopt built whose live data is
	// still there to adopt (on the wiped root or beneath a mount), else "".
	Adopt string
	// Remove is the command that removes it: rm -r of its path as the
	// host sees it (below Root).
	Remove string
}

// Warning is drift's warning about p (kind storage): what it is and a
// command that runs as printed and clears it.
func (p Partial) Warning() diff.Warning {
	msg := fmt.Sprintf("%s is a partial copy that a drift %s left when it was killed (process %d is gone), not data of yours: no drift command counts it lost, suggests keeping it or moves it", p.Path, p.By, p.PID)
	switch {
	case p.Wiped:
		msg += fmt.Sprintf("; the next boot deletes it with the root, or remove it now (%s)", p.Remove)
	case p.Adopt != "":
		msg += fmt.Sprintf("; run %s again, which finishes the copy of %s and removes it, or remove it (%s)", p.Adopt, p.Dest, p.Remove)
	case p.By == partial.Restore && p.Dest != "":
		msg += fmt.Sprintf("; remove it (%s), or run the drift restore that made it again (the same --from), which finishes the copy of %s and removes it", p.Remove, p.Dest)
	default:
		msg += fmt.Sprintf("; remove it (%s)", p.Remove)
	}
	return diff.Warning{Kind: diff.WarnStorage, Path: p.Path, Message: msg}
}

// PartialWarnings are the warnings about Partials (Partial.Warning), in
// their order.
func (m *Model) PartialWarnings() []diff.Warning {
	out := make([]diff.Warning, 0, len(m.Partials))
	for _, p := range m.Partials {
		out = append(out, p.Warning())
	}
	return out
}

// findPartials sets m.Partials: the partial copies killed drift runs left
// on the wiped side (a.LeftCopies, found by the walk) and in persistent
// storage (persistentPartials), by path; args are the flags the drift
// adopt commands name (Options.args). It looks at ctx every pollEvery
// declarations, and leaves m.Partials unset when ctx is done (the caller
// returns ctx's error).
func (m *Model) findPartials(ctx context.Context, a *diff.Audit, args []string) {
	ps := m.persistentPartials(ctx, a, args)
	if ctx.Err() != nil {
		return
	}
	for _, l := range a.LeftCopies {
		c, _ := partial.Parse(path.Base(l.Path))
		ps = append(ps, Partial{Path: l.Path, Copy: c, Wiped: l.Wiped, Remove: m.removeCommand(l.Path)})
	}
	slices.SortFunc(ps, func(x, y Partial) int { return pathx.Compare(x.Path, y.Path) })
	m.Partials = ps
}

// removeCommand is rm -r of the audited system's path p as the host sees
// it (below Root), one shell word.
func (m *Model) removeCommand(p string) string {
	return "rm -r " + escape.Shell(path.Join(m.Root, p))
}

// persistentPartials are the partial copies that a drift adopt or drift
// restore killed mid-copy left beside a declared path's persistent copy
// (in the directory holding it) or directly inside a declared directory's
// copy, each with the drift adopt command that finishes it when drift
// adopt built it and a's Lost still holds its live data (toAdopt). A
// partial copy whose process still runs is a copy in progress, not named.
// Directories that cannot be read are passed over, and a copy whose
// holding directory does not exist is not looked for. Each directory is
// listed once, found through a hashindex table of the entries naming it
// (no map or string kept per declaration: a million declared directories
// cost 8 to 16 MiB here, not 240), and each entry's copy is named once (a
// string of 30 bytes or so, garbage at once; not one per lookup: 150 MB of
// garbage for a million).
//
// The commands run as printed against the audited system: drift adopt
// with --root and args (Options.args, what Audit.Args holds), rm -r of the
// copy's path as the host sees it (below Root).
//
// It looks at ctx every pollEvery declarations, and returns nil once it
// is done.
func (m *Model) persistentPartials(ctx context.Context, a *diff.Audit, args []string) []Partial {
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
		dir, name string
		c         partial.Copy
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
			if c, ok := partial.Parse(n); ok && partial.Gone(c.PID) {
				partials = append(partials, found{d, n, c})
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
		named[path.Join(p.dir, p.c.Of)], inside[p.dir] = "", ""
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
	out := make([]Partial, 0, len(partials))
	for _, p := range partials {
		full := path.Join(p.dir, p.name)
		q := Partial{Path: full, Copy: p.c, Dest: path.Join(p.dir, p.c.Of), Remove: m.removeCommand(full)}
		q.Live = named[q.Dest]
		if q.Live == "" && inside[p.dir] != "" {
			q.Live = path.Join(inside[p.dir], p.c.Of)
		}
		if q.By == partial.Adopt && q.Live != "" && toAdopt(a, q.Live) {
			q.Adopt = escape.DriftCommand([]string{"adopt"}, m.Root, args, q.Live)
		}
		out = append(out, q)
	}
	return out
}

// toAdopt says whether a's Lost holds live data at, below or above (a
// directory lost whole) the live path live that drift adopt would copy:
// a lost path not Unmounted (which is in persistent storage already).
func toAdopt(a *diff.Audit, live string) bool {
	if a == nil {
		return false
	}
	for _, it := range a.Lost {
		if it.Category != diff.Unmounted && (pathx.HasPrefix(it.Path, live) || pathx.HasPrefix(live, it.Path)) {
			return true
		}
	}
	return false
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
