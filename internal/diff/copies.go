package diff

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/units"
	"golang.org/x/sys/unix"
)

// CopyState says what the persistent copy of a declaration that is not
// mounted holds at the place of one of its live paths (Item.Copy).
type CopyState uint8

const (
	// CopyMissing: nothing there, or the persistent copy is itself on an
	// ephemeral filesystem, or it could not be read. The next boot's mount
	// shows nothing (or a directory made empty) in the live path's place.
	CopyMissing CopyState = iota
	// CopyDiffers: something else is there (another type, other bytes,
	// another symlink target): that stale copy comes back in its place.
	CopyDiffers
)

// CopyOf is where the declaration d keeps the live path p (d.Path or a
// path below it, both clean) in persistent storage: d.Source() with p's
// part below d.Path appended. "" when p is not at or below d.Path.
func CopyOf(d *persist.Entry, p string) string {
	if !mounts.HasPrefix(p, d.Path) {
		return ""
	}
	rest := p[len(d.Path):]
	if d.Path == "/" {
		rest = p
	}
	if rest == "/" {
		rest = ""
	}
	src := d.Source()
	if src == "/" {
		if rest == "" {
			return "/"
		}
		return rest
	}
	return src + rest
}

// copies compares every lost path inside a declaration that is not mounted
// (DeclaredUnbacked), or hidden by its mount at the next boot (Covered),
// or either and Ignored, with the declaration's
// persistent copy at the same place (CopyOf), read beneath the audited root
// (never through a symlink): what the next boot's mount will show there. A
// path whose copy has the same type (and for a regular file the same bytes,
// content hashed as drift diff does; for a symlink the same target) is not
// lost: it becomes Copied, leaves c.lost and is counted in copied. The
// others get Item.Copy. A copy that cannot be read counts as missing, with
// one warning. A declaration whose persistent copy lies on an ephemeral
// filesystem has no copy.
func (c *classifier) copies(ctx context.Context, t *mounts.Table) (copied Total) {
	var cand []*Item
	for _, it := range c.lost {
		if it.Decl >= 0 && (it.Category == DeclaredUnbacked || it.Category == Covered || it.Category == Ignored) {
			cand = append(cand, it)
		}
	}
	if len(cand) == 0 {
		return Total{}
	}
	rootFD, err := unix.Open(c.cfg.Root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		c.warn(WarnUnreadable, "/", fmt.Sprintf("cannot compare declared paths that are not mounted with their persistent copies: %s: %v", c.cfg.Root, err))
		return Total{}
	}
	defer unix.Close(rootFD)
	persistentCopy := map[int32]bool{}
	for _, it := range cand {
		if _, ok := persistentCopy[it.Decl]; !ok {
			m := t.Shows(c.entries[it.Decl].Source())
			persistentCopy[it.Decl] = m != nil && c.kinds[m] != ephemeral
		}
	}
	same := make([]bool, len(cand))
	var failed atomic.Int64
	var firstErr atomic.Pointer[[2]string] // path, message
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), 8) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var hs *hasher
			for {
				i := int(next.Add(1) - 1)
				if i >= len(cand) || ctx.Err() != nil {
					return
				}
				it := cand[i]
				if !persistentCopy[it.Decl] {
					continue
				}
				if hs == nil {
					hs = newHasher(nil)
					hs.ctx = ctx
				}
				st, eq, err := compareCopy(rootFD, hs, it, CopyOf(&c.entries[it.Decl], it.Path))
				if err != nil && ctx.Err() == nil {
					failed.Add(1)
					msg := [2]string{it.Path, fmt.Sprintf("%s: %v", it.Path, err)}
					firstErr.CompareAndSwap(nil, &msg)
				}
				it.Copy, same[i] = st, eq
			}
		}()
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		first := firstErr.Load()
		c.warn(WarnUnreadable, first[0], fmt.Sprintf("%s not compared with the persistent copy that the next boot mounts in their place, counted as lost (first: %s)", units.Plural(n, "declared path", "declared paths"), first[1]))
	}
	gone := map[*Item]bool{}
	for i, it := range cand {
		if same[i] {
			gone[it] = true
			it.Category = Copied
			copied.Add(Total{Count: 1, Bytes: regularSize(it)})
		}
	}
	if len(gone) > 0 {
		kept := c.lost[:0]
		for _, it := range c.lost {
			if !gone[it] {
				kept = append(kept, it)
			}
		}
		c.lost = kept
	}
	return copied
}

func regularSize(it *Item) int64 {
	if it.Mode&unix.S_IFMT == unix.S_IFREG {
		return it.Size
	}
	return 0
}

// compareCopy compares the live item with the path cp (absolute, in the
// audited root) beneath rootFD: CopyMissing when nothing is there, eq when
// the copy is what the live path is (same type; same bytes for a regular
// file, same target for a symlink), else CopyDiffers.
func compareCopy(rootFD int, hs *hasher, it *Item, cp string) (CopyState, bool, error) {
	rel := strings.TrimPrefix(cp, "/")
	if rel == "" {
		return CopyMissing, false, nil
	}
	var cst unix.Stat_t
	if err := statBeneath(rootFD, rel, &cst); err != nil {
		if absent(err) {
			return CopyMissing, false, nil
		}
		return CopyMissing, false, err
	}
	if cst.Mode&unix.S_IFMT != it.Mode&unix.S_IFMT {
		return CopyDiffers, false, nil
	}
	switch it.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		target, err := readlinkBeneath(rootFD, rel)
		if err != nil {
			return CopyMissing, false, err
		}
		return CopyDiffers, target == it.Target, nil
	case unix.S_IFREG:
		var lst unix.Stat_t
		if err := statBeneath(rootFD, strings.TrimPrefix(it.Path, "/"), &lst); err != nil {
			return CopyMissing, false, err
		}
		if lst.Size != cst.Size || lst.Mode&unix.S_IFMT != unix.S_IFREG {
			return CopyDiffers, false, nil
		}
		a, b := entryOf(cp, &cst, ""), entryOf(it.Path, &lst, "")
		eq, err := hs.sameFiles(rootFD, &a, rootFD, &b)
		if err != nil {
			return CopyMissing, false, err
		}
		return CopyDiffers, eq, nil
	}
	return CopyDiffers, true, nil
}
