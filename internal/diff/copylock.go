package diff

import (
	"context"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"

	ifsys "github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
)

// A declared directory that is not mounted holds, on the ephemeral root,
// every path below it, each compared with the declaration's persistent
// copy (copies). Looked up one by one, that is two path resolutions, two
// opens and two hashes a path: 33 s for 200,000 files where drift diff of
// the same two trees takes 10.6 s. When a declaration has many such paths
// (copyLockstepMin), one lockstep walk (Compare) of its copy (A) against
// the live directory (B) says which are the same: a path Compare found
// the same (same type, mode, owner, symlink target and bytes) is what the
// lookup finds equal, with no other mode or owner to warn about. The
// others — a Difference, or at or below a path that could not be
// compared — are still looked up one by one (compareCopy), so what they
// report is unchanged. Compare stays on its roots' mounts: a declaration
// with a mount point inside its directory or its copy is looked up one by
// one, as is a shadowed path (read through a view) or a declaration of /.

// copyLockstepMin is how many paths of one declaration are compared with
// its copy by the lockstep walk rather than one by one: below it the walk
// of a copy much larger than the live directory could cost more than the
// lookups.
var copyLockstepMin = 1024

// copyWalks counts the lockstep walks of a copy, for the test that holds
// them to what the lookups say.
var copyWalks atomic.Int64

// copiesSame reports, parallel to cand, the candidates the lockstep walk
// of their declaration's copy against the live directory finds the same.
// Nothing is reported for a declaration it cannot compare (an error: the
// lookups say why).
func (c *classifier) copiesSame(ctx context.Context, t *mounts.Table, rootFD int, cand []copyCand) []bool {
	groups := map[int32][]int{}
	for i := range cand {
		cd := &cand[i]
		it := cd.it
		if cd.liveFD != rootFD || it.view != 0 || it.Decl < 0 || it.Category != DeclaredUnbacked && it.Category != Covered && it.Category != Ignored {
			continue
		}
		if c.entries[it.Decl].Kind != persist.Dir {
			continue
		}
		groups[it.Decl] = append(groups[it.Decl], i)
	}
	var same []bool
	for d, idx := range groups {
		if len(idx) < copyLockstepMin || ctx.Err() != nil {
			continue
		}
		e := &c.entries[d]
		cmp := c.compareCopyDir(ctx, t, rootFD, e)
		if cmp == nil {
			continue
		}
		differs := make(map[string]bool, len(cmp.Diffs))
		var failed []string
		for i := range cmp.Diffs {
			differs[cmp.Diffs[i].Path] = true
			if cmp.Diffs[i].Change == Failed {
				failed = append(failed, cmp.Diffs[i].Path)
			}
		}
		if same == nil {
			same = make([]bool, len(cand))
		}
		for _, i := range idx {
			rest := cand[i].it.Path[len(e.Path):]
			if rest == "" || differs[rest] || underAny(rest, failed) {
				continue
			}
			same[i] = true
		}
	}
	return same
}

// compareCopyDir compares the persistent copy of the declared directory
// e (A) with the live directory (B), both opened beneath rootFD without
// following a symlink; nil when either is not a directory there, a mount
// point lies inside either, or Compare fails.
func (c *classifier) compareCopyDir(ctx context.Context, t *mounts.Table, rootFD int, e *persist.Entry) *Comparison {
	live := e.Path
	cp := CopyOf(e, live)
	if live == "/" || cp == "" || cp == "/" || mountInside(t, live) || mountInside(t, cp) {
		return nil
	}
	const dirFlags = unix.O_RDONLY | unix.O_DIRECTORY
	fa, err := ifsys.Open(rootFD, strings.TrimPrefix(cp, "/"), dirFlags)
	if err != nil {
		return nil
	}
	defer unix.Close(fa)
	fb, err := ifsys.Open(rootFD, strings.TrimPrefix(live, "/"), dirFlags)
	if err != nil {
		return nil
	}
	defer unix.Close(fb)
	cmp, err := compareOpen(ctx, fa, fb, cp, live, CompareOptions{Workers: c.cfg.Workers})
	if err != nil {
		return nil
	}
	copyWalks.Add(1)
	return cmp
}

// mountInside reports whether a mount point of t lies strictly below p.
func mountInside(t *mounts.Table, p string) bool {
	for i := range t.Mounts {
		if mp := t.Mounts[i].MountPoint; mp != p && pathx.HasPrefix(mp, p) {
			return true
		}
	}
	return false
}

// underAny reports whether p is at or below one of dirs.
func underAny(p string, dirs []string) bool {
	for _, d := range dirs {
		if pathx.HasPrefix(p, d) {
			return true
		}
	}
	return false
}
