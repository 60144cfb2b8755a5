package audit

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/knowledge"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/scan"
	"golang.org/x/sys/unix"
)

// DefaultBoots is how many boots' old roots the model compares a lost path
// with before calling it made again at every boot (diff.Regen): drift
// suggest's --boots by default, and what drift check reads besides the
// previous root, so that the two say the same of a path.
const DefaultBoots = 5

// judgeRegen sets Item.Regen on every lost path of a that is unpersisted
// and the same in the previous root (HistorySame), by diff.Regen's rule:
// the known-state catalogue first (no file read; matched per directory,
// a.Lost being in path order), then the modification time the walk read
// against the previous root's (as Check's walk with the previous root
// compared them, diff.Item.MtimeAsPrevious; else one fstatat, its
// directory opened once for the paths in it), then the older
// roots of m.OldRoots (diff.SameIn: only these paths are looked up, the
// paths still RegenYes after each root; below a directory, first the
// paths that differ from the previous root). homes are the homes besides
// /root and /home/NAME (for the catalogue's "~/" facts). An older root
// that cannot be read leaves its paths RegenUnknown, with a warning: a
// path is called made again at every boot only when that is known.
// Errors: ctx's once it is done.
func (m *Model) judgeRegen(ctx context.Context, a *diff.Audit, homes []string, workers int) error {
	if a.PreviousRoot == nil || len(m.OldRoots.Roots) == 0 {
		return nil
	}
	prevFD, err := fsys.OpenRoot(a.PreviousRoot.Dir)
	if err != nil {
		return nil // the history could not be read either: every path is NoHistory
	}
	defer unix.Close(prevFD)
	liveFD, err := fsys.OpenRoot(m.Root)
	if err != nil {
		return nil
	}
	defer unix.Close(liveFD)
	cand := m.judgeSame(ctx, a.Lost, homes, liveFD, prevFD, workers)
	// Sorted only when diff.SameIn's lookups need it (not when every older
	// root's walk answers, nor when no candidate is left).
	differs := sync.OnceValue(func() []string { return differsFromPrevious(a) })
	for i, r := range m.OldRoots.Roots[1:] {
		if len(cand) == 0 {
			break
		}
		same, err := m.sameIn(ctx, i+1, cand, differs, workers)
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if err != nil {
			a.Warnings = append(a.Warnings, diff.Warning{Kind: diff.WarnHistory, Message: fmt.Sprintf("cannot compare with old_roots/%s: %v: %d lost paths the same in the previous root are not called made again at every boot", r.Name, err, len(cand))})
			for _, it := range cand {
				it.Regen = diff.RegenUnknown
			}
			return nil
		}
		kept := cand[:0]
		for i, it := range cand {
			if same[i] {
				kept = append(kept, it)
			} else {
				it.Regen = diff.RegenOlder
			}
		}
		cand = kept
	}
	regenBelow(a.Lost)
	return nil
}

// judgeSame sets Item.Regen on each of lost (in path order) that is
// unpersisted and the same in the previous root (prevFD) by the catalogue
// and the modification times (judgeRegen's first two rules), a contiguous
// part of lost on each of workers (0: scan.DefaultWorkers, as the walks), and returns those still RegenYes, in path order: the
// candidates the older roots decide. Run on one core after the walk it was
// most of what drift check with a previous root took beyond drift diff of
// the same pair (0.7 s of CPU on 1,000,000 paths).
func (m *Model) judgeSame(ctx context.Context, lost []*diff.Item, homes []string, liveFD, prevFD, workers int) []*diff.Item {
	k := knowledge.Builtin()
	n := workers
	if n <= 0 {
		n = scan.DefaultWorkers()
	}
	parts := make([][]*diff.Item, n)
	var wg sync.WaitGroup
	for w := range n {
		from, to := len(lost)*w/n, len(lost)*(w+1)/n
		wg.Go(func() {
			match := k.Matcher()
			prev := &statIn{root: prevFD, fd: -1}
			defer prev.close()
			for _, it := range lost[from:to] {
				if it.Category != diff.Unpersisted || it.History != diff.HistorySame {
					continue
				}
				switch {
				case match.StateNear(it.Path, knowledge.HomeOf(homes, it.Path)):
					it.Regen = diff.RegenKnown
				case sameMtime(ctx, m.Root, liveFD, prev, it):
					it.Regen = diff.RegenCopied
				default:
					it.Regen = diff.RegenYes
					parts[w] = append(parts[w], it)
				}
			}
		})
	}
	wg.Wait()
	return slices.Concat(parts...)
}

// lookupsAtMost is how many paths judgeRegen looks up one by one in an
// older root (diff.SameIn); past it, one lockstep walk of that root beside
// the live root (Model.olderRoot, drift suggest's way) costs less.
var lookupsAtMost = 2000

// sameIn reports, for each of items, whether the old root
// m.OldRoots.Roots[i] (i ≥ 1) holds it the same (everything below it too):
// from the lockstep walk of that root when the model made it already
// (drift suggest --boots: compareOlder) or past lookupsAtMost paths
// (olderRoot: made once, kept for OlderHistories), else diff.SameIn's
// lookups (differs: diff.SameIn's, differsFromPrevious, made at the first
// call that needs it).
func (m *Model) sameIn(ctx context.Context, i int, items []*diff.Item, differs func() []string, workers int) ([]bool, error) {
	if !m.comparedOlder(i) && len(items) <= lookupsAtMost {
		return diff.SameIn(ctx, m.Root, m.OldRoots.Roots[i].Dir, items, differs())
	}
	hs, _, err := m.OlderHistories(ctx, i, items, workers)
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(hs))
	for i, h := range hs {
		out[i] = h == diff.HistorySame
	}
	return out, nil
}

// differsFromPrevious lists, in path order, the paths where the audited
// root differs from the previous root: the lost paths changed or new
// since it, and what vanished from it (diff.SameIn's differs).
func differsFromPrevious(a *diff.Audit) []string {
	var out []string
	for _, it := range a.Lost {
		if it.History == diff.HistoryChanged || it.History == diff.HistoryNew {
			out = append(out, it.Path)
		}
	}
	for _, v := range a.Vanished {
		out = append(out, v.Path)
	}
	slices.SortFunc(out, pathx.Compare)
	return out
}

// regenBelow makes a directory RegenYes only when every lost path below it
// is (diff.Regen: an --ignore of it covers them): lost is in path order,
// a subtree contiguous after its directory.
func regenBelow(lost []*diff.Item) {
	for i, d := range lost {
		if d.Regen != diff.RegenYes || !d.IsDir() {
			continue
		}
		for _, it := range lost[i+1:] {
			if !pathx.HasPrefix(it.Path, d.Path) {
				break
			}
			if it.Regen != diff.RegenYes {
				d.Regen = diff.RegenBelow
				break
			}
		}
	}
}

// sameMtime reports whether it has the same modification time, to the
// nanosecond, as the walk read it (Item.Mtime) and beneath prev's root
// (never through a symlink): a copy of the previous root's object, not one
// made anew; for a directory lost whole (Item.Below), whether anything at
// or below it has, lstat'ed beneath liveFD too (root is the audited root,
// walked there).
func sameMtime(ctx context.Context, root string, liveFD int, prev *statIn, it *diff.Item) bool {
	rel := strings.TrimPrefix(it.Path, "/")
	if same, known := it.MtimeAsPrevious(); same {
		return true
	} else if !known {
		var ps unix.Stat_t
		if prev.lstat(rel, &ps) == nil && ps.Mtim.Nano() == it.Mtime {
			return true
		}
	}
	if !it.IsDir() || it.Below().Count == 0 {
		return false
	}
	prevFD := prev.root
	same := func(rel string) bool {
		var ls, ps unix.Stat_t
		if fsys.Lstat(liveFD, rel, &ls) != nil || fsys.Lstat(prevFD, rel, &ps) != nil {
			return false
		}
		return ls.Mtim == ps.Mtim
	}
	var found atomic.Bool
	_, _ = scan.Walk(ctx, path.Join(root, rel), scan.Options{}, func(parent any, e *scan.Entry) (any, bool) {
		if parent != nil && !found.Load() && same(rel+e.Path) {
			found.Store(true)
		}
		return true, e.Mode&unix.S_IFMT == unix.S_IFDIR && !found.Load()
	})
	return found.Load()
}

// statIn is fsys.Lstat beneath root for paths in path order: the parent
// directory of the last path is kept open (O_PATH), so the paths of one
// directory open it once. close releases it.
type statIn struct {
	root int
	dir  string // the directory fd holds, or failed to open with err
	fd   int    // -1 for none: root itself for a top-level name
	err  error
}

// lstat fills st with what rel (relative, not empty) is beneath s.root,
// never through a symlink. Errors: fsys.Lstat's.
func (s *statIn) lstat(rel string, st *unix.Stat_t) error {
	dir, base := path.Split(rel)
	dir = strings.TrimSuffix(dir, "/")
	if dir == "" {
		return unix.Fstatat(s.root, base, st, unix.AT_SYMLINK_NOFOLLOW)
	}
	if dir != s.dir {
		s.close()
		s.dir = dir
		if s.fd, s.err = fsys.Open(s.root, dir, unix.O_PATH|unix.O_DIRECTORY); s.err != nil {
			s.fd = -1
		}
	}
	if s.err != nil {
		return s.err
	}
	return unix.Fstatat(s.fd, base, st, unix.AT_SYMLINK_NOFOLLOW)
}

// close releases the directory s holds.
func (s *statIn) close() {
	if s.fd >= 0 {
		unix.Close(s.fd)
	}
	s.dir, s.fd, s.err = "", -1, nil
}
