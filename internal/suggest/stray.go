package suggest

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/knowledge"
	"github.com/nix-drift/drift/internal/partial"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/scan"
	"github.com/nix-drift/drift/internal/units"
	"golang.org/x/sys/unix"
)

// strayRow is a stray path being counted.
type strayRow struct {
	s              Suggestion
	entries, bytes atomic.Int64
	mtime          atomic.Int64
	dev            uint64 // the device of the row's own path: never left
	other          atomic.Pointer[string]
}

// otherDevice records p (a directory at or below the row's path on
// another device than the one holding it) as the row's
// Suggestion.OtherDevice, when it is the first.
func (r *strayRow) otherDevice(p string) { r.other.CompareAndSwap(nil, &p) }

// count adds e, the row's own path or one below it, to the row: one entry,
// a regular file's apparent size, the newest mtime.
func (r *strayRow) count(e *scan.Entry) {
	r.entries.Add(1)
	if e.Mode&unix.S_IFMT == unix.S_IFREG {
		r.bytes.Add(e.Size)
	}
	maxInto(&r.mtime, e.Mtime)
}

// Stray lists what lies under each persistent storage path of decls (in
// the system at root) that nothing declares and nothing uses: neither a
// declared path's persistent copy (persist.Entry.Source) or below a
// declared directory's, nor a path in use or below it (uses:
// audit.Model.Uses — mounted now, named by the configuration, the target
// of a live symlink such as "/nix/persist/etc/machine-id"), nor a
// directory on the way to one of those. A path in use that nothing
// declares, mounted or referenced, is a row of its own with Action InUse
// and what uses it (UsedBy): never one to remove. Symlink targets are
// accounted for by Suggest (LeftLinked) instead. A directory none of whose contents is covered is one suggestion
// standing for its subtree (entries, bytes, newest mtime), with Action
// DeclareOrRemove — unless it is, as a live path, a home or a directory
// holding many applications' state (/var/lib, /home/NAME/.config:
// knowledge.SystemContainers, homeContainers), which is never declared
// whole: what it holds is listed instead. The homes are homes
// (audit.Model.Homes: user to home) with /root and /home/NAME. A symlink
// is a row of its own (Symlink).
//
// It only reads: the storage path is opened beneath root with no symlink
// in any component, and the walk (scan.Walk) never follows a symlink;
// nothing is ever deleted. A storage path that does not exist yields
// nothing; one reached through a symlink (or where a component is not a
// directory), or unreadable, is a warning.
// Paths below that cannot be read are counted in a warning.
func Stray(ctx context.Context, root string, decls *persist.Set, homes map[string]string, uses []audit.Use, workers int) ([]Suggestion, []diff.Warning) {
	hs := homeUsers(homes)
	byStorage := map[string][]persist.Entry{}
	for _, e := range decls.Entries {
		byStorage[e.StoragePath] = append(byStorage[e.StoragePath], e)
	}
	storages := make([]string, 0, len(byStorage))
	for sp := range byStorage {
		if sp != "/" {
			storages = append(storages, sp)
		}
	}
	sort.Strings(storages)
	var out []Suggestion
	var warnings []diff.Warning
	for _, sp := range storages {
		got, warn := strayIn(ctx, root, sp, decls.Entries, hs, uses, workers)
		out = append(out, got...)
		warnings = append(warnings, warn...)
	}
	return out, warnings
}

// QuarantineDir is the directory drift prune keeps its quarantine in, in
// a persistent storage path (internal/prune): drift's own, never stray.
const QuarantineDir = ".drift-quarantine"

// ownDirs are drift's own directories in a persistent storage path, never
// stray: drift prune's quarantine, and /var/lib/drift, where the NixOS
// module's shutdown audit keeps its reports by default
// (<persistentStoragePath>/var/lib/drift/shutdown, nix/module.nix), which
// drift rehearse reads.
var ownDirs = []string{"/" + QuarantineDir, "/var/lib/drift"}

// coverage says what a path under a storage path is to the declarations.
type coverage int

const (
	uncovered coverage = iota
	covered            // a declared path's persistent copy, or below a directory's
	onTheWay           // a directory holding a declared path's copy
)

// cover says what p is to the declarations and the uses: covered by a
// declaration, onTheWay to a declared copy or a used path, or in use
// (inUse: at or below a used path; by: the uses of p itself that are not
// links, when nothing declares p).
func cover(p string, entries []persist.Entry, uses []audit.Use) (c coverage, inUse bool, by []audit.Use) {
	c = declared(p, entries)
	if c == covered {
		return covered, false, nil
	}
	for _, u := range uses {
		switch {
		case p == u.Path:
			inUse = true
			if u.Kind != audit.UseLinked {
				by = append(by, u)
			}
		case pathx.HasPrefix(p, u.Path):
			inUse = true
		case pathx.HasPrefix(u.Path, p):
			c = onTheWay
		}
	}
	return c, inUse, by
}

// declared says what p is to the declarations alone.
func declared(p string, entries []persist.Entry) coverage {
	c := uncovered
	for _, e := range entries {
		src := e.Source()
		switch {
		case p == src, e.Kind == persist.Dir && pathx.HasPrefix(p, src):
			return covered
		case pathx.HasPrefix(src, p):
			c = onTheWay
		}
	}
	return c
}

func strayIn(ctx context.Context, root, sp string, entries []persist.Entry, homes []home, uses []audit.Use, workers int) ([]Suggestion, []diff.Warning) {
	fd, err := fsys.OpenDirIn(root, sp)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, nil
		}
		return nil, []diff.Warning{{Kind: diff.WarnStorage, Path: sp, Message: fmt.Sprintf("cannot read the persistent storage path %s: %s (stray data there is not listed)", sp, whyNotDir(root, sp, err))}}
	}
	defer unix.Close(fd)
	var mu sync.Mutex
	var rows []*strayRow
	var storageDev atomic.Uint64 // the storage path's device, set first
	visit := func(parent any, e *scan.Entry) (any, bool) {
		isDir := e.Mode&unix.S_IFMT == unix.S_IFDIR
		if parent == nil {
			storageDev.Store(e.Dev)
			return onTheWay, isDir // the storage path itself
		}
		if e.Replaced {
			return nil, false
		}
		if r, ok := parent.(*strayRow); ok {
			r.count(e)
			if isDir && e.Dev != r.dev {
				r.otherDevice(sp + e.Path) // a nested subvolume or a mount: never entered
			}
			return r, isDir && e.Dev == r.dev
		}
		full := sp + e.Path
		if slices.Contains(ownDirs, e.Path) {
			return nil, false // drift's own: never stray
		}
		if _, ok := partial.Parse(path.Base(e.Path)); ok {
			return nil, false // a copy in progress, or a killed one's: the model warns of it
		}
		c, inUse, by := cover(full, entries, uses)
		if c == uncovered && slices.ContainsFunc(ownDirs, func(d string) bool { return pathx.HasPrefix(d, e.Path) }) {
			c = onTheWay // /var, /var/lib on the way to drift's own
		}
		if len(by) > 0 {
			// One row for the highest directory in use: what is used
			// below it is said in that row, not a row each; what it holds
			// is counted into it as into a stray row.
			r := &strayRow{s: inUseRow(full, e, sp, append(by, usesBelow(full, uses)...)), dev: e.Dev}
			r.count(e)
			if isDir && e.Dev != storageDev.Load() {
				r.otherDevice(full)
			}
			mu.Lock()
			rows = append(rows, r)
			mu.Unlock()
			// A mount point (another device) is counted as itself only:
			// drift never crosses a mount.
			return r, isDir && e.Dev == storageDev.Load()
		}
		switch {
		case c == covered, inUse && c != onTheWay:
			return nil, false
		case c == onTheWay:
			return onTheWay, isDir
		}
		if isDir && isContainer(homes, e.Path) {
			return onTheWay, true // never declared whole: what it holds is listed
		}
		kind := persist.File
		if isDir {
			kind = persist.Dir
		}
		r := &strayRow{s: Suggestion{Action: DeclareOrRemove, Path: full, LivePath: e.Path, Kind: kind, StoragePath: sp,
			Symlink: e.Mode&unix.S_IFMT == unix.S_IFLNK}, dev: e.Dev}
		r.count(e)
		if isDir && e.Dev != storageDev.Load() {
			r.otherDevice(full) // the stray is a subvolume itself
		}
		mu.Lock()
		rows = append(rows, r)
		mu.Unlock()
		return r, isDir
	}
	var errs atomic.Int64
	_, err = scan.Walk(ctx, fmt.Sprintf("/proc/self/fd/%d", fd), scan.Options{Workers: workers, OnError: func(string, error) { errs.Add(1) }}, visit)
	if err != nil {
		return nil, []diff.Warning{{Kind: diff.WarnStorage, Path: sp, Message: fmt.Sprintf("cannot walk the persistent storage path %s: %v (stray data there is not listed)", sp, err)}}
	}
	var warnings []diff.Warning
	if n := errs.Load(); n > 0 {
		warnings = append(warnings, diff.Warning{Kind: diff.WarnUnreadable, Path: sp, Message: fmt.Sprintf("%s under %s unreadable: stray data below them is not listed", units.Plural(int64(n), "path", "paths"), sp)})
	}
	out := make([]Suggestion, 0, len(rows))
	for _, r := range rows {
		s := r.s
		s.Entries, s.Bytes, s.Mtime = r.entries.Load(), r.bytes.Load(), r.mtime.Load()
		if o := r.other.Load(); o != nil {
			s.OtherDevice = *o
		}
		s.Confidence = Low
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Suggestion) int { return pathx.Compare(a.Path, b.Path) })
	return out, warnings
}

// usesBelow are the uses strictly below p that are not links, each By
// once: rolled up into p's row when p is in use itself.
func usesBelow(p string, uses []audit.Use) []audit.Use {
	var out []audit.Use
	for _, u := range uses {
		if u.Path != p && u.Kind != audit.UseLinked && pathx.HasPrefix(u.Path, p) &&
			!slices.ContainsFunc(out, func(o audit.Use) bool { return o.By == u.By }) {
			out = append(out, u)
		}
	}
	return out
}

// inUseRow is the row of a path in use under the storage path sp that
// nothing declares: what uses it, never a suggestion to remove it. Its
// Entries, Bytes and Mtime are counted by the walk (strayRow.count).
func inUseRow(full string, e *scan.Entry, sp string, by []audit.Use) Suggestion {
	kind := persist.File
	if e.Mode&unix.S_IFMT == unix.S_IFDIR {
		kind = persist.Dir
	}
	s := Suggestion{Action: InUse, Path: full, LivePath: e.Path, Kind: kind, StoragePath: sp,
		Symlink: e.Mode&unix.S_IFMT == unix.S_IFLNK, Confidence: Low}
	untilBoot := true
	for _, u := range by {
		if u.Secret != "" {
			s.UsedBy = append(s.UsedBy, u.By+": "+u.Secret) // a boot secret: what losing it does
		} else {
			s.UsedBy = append(s.UsedBy, u.By)
		}
		untilBoot = untilBoot && u.UntilBoot
		if u.UntilBoot && u.Path == full && s.UntilBoot == "" {
			s.UntilBoot, s.UntilBootFS = u.MountPoint, u.OnFS
		}
	}
	if !untilBoot {
		s.UntilBoot, s.UntilBootFS = "", ""
	}
	return s
}

func maxInto(v *atomic.Int64, x int64) {
	for {
		old := v.Load()
		if x <= old || v.CompareAndSwap(old, x) {
			return
		}
	}
}

// isContainer reports whether the live path p is a home or a directory
// holding many applications' state (knowledge.SystemContainers; in a home,
// one of homes, /root or /home/NAME, the home and its homeContainers).
func isContainer(homes []home, p string) bool {
	if slices.Contains(knowledge.SystemContainers, p) {
		return true
	}
	h, ok := homeOf(homes, p)
	if !ok {
		return false
	}
	return p == h.dir || slices.ContainsFunc(homeContainers, func(c string) bool { return c != "" && p == h.dir+"/"+c })
}

// whyNotDir says why the storage path sp could not be opened beneath
// root (err): the first component that is a symlink ("/persist is a
// symlink (not followed)") or not a directory, else err itself.
func whyNotDir(root, sp string, err error) string {
	for p := ""; ; {
		rest := strings.TrimPrefix(sp[len(p):], "/")
		name, _, _ := strings.Cut(rest, "/")
		if name == "" {
			break
		}
		p += "/" + name
		st, serr := fsys.StatIn(root, p)
		switch {
		case serr != nil:
			return err.Error()
		case st.Mode&unix.S_IFMT == unix.S_IFLNK:
			return p + " is a symlink (not followed)"
		case st.Mode&unix.S_IFMT != unix.S_IFDIR:
			return p + " is not a directory"
		}
	}
	return err.Error()
}
