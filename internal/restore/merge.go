package restore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/partial"
	"golang.org/x/sys/unix"
)

// Action is what Merge does with one object of the source tree.
type Action string

// The actions of Merge. Differs is also Request.OnDiffer's default: an
// object whose destination holds other bytes is refused.
const (
	// Copy: the destination has no object of that name; the source's is
	// copied (a directory whole).
	Copy Action = "copy"
	// Same: the destination holds the same bytes (a regular file of the same
	// content, a symlink to the same target); it is left alone.
	Same Action = "same"
	// Differs: the destination holds other bytes, or another kind of
	// object; nothing is written.
	Differs Action = "differs"
	// Replace: it differs, and the source wins (OnDiffer Replace): the
	// destination object is replaced atomically.
	Replace Action = "replace"
	// Keep: it differs, and the destination wins (OnDiffer Keep): it is
	// left alone.
	Keep Action = "keep"
)

// Outcome is what Merge did (or in a dry run would do) with one object.
type Outcome struct {
	// Path is the object's path below Request.From (as Request.Path); Dest
	// its destination, absolute as the live system sees it.
	Path, Dest string
	Action     Action
	// Kind is the source object's; DestKind the destination's (Same,
	// Differs, Replace, Keep).
	Kind, DestKind Kind
	// Why says how a differing object differs.
	Why string
	// Mtime and DestMtime, for objects that are not both directories and
	// differ (Differs, Replace, Keep), are the source's and the
	// destination's modification times (ns since the epoch): which is
	// newer (DestNewer). 0 otherwise.
	Mtime, DestMtime int64
	// Result is the copy's (Copy, Replace): every object copied.
	Result *Result
}

// DestNewer reports whether the destination's object of a differing
// outcome was modified after the source's: replacing it would replace
// newer data. Objects of two kinds (OtherKind: a directory's time says
// when an entry was added or removed, a file's when its bytes changed)
// are neither newer nor older.
func (o *Outcome) DestNewer() bool { return !o.OtherKind() && o.DestMtime > o.Mtime }

// OtherKind reports whether the source and destination objects of an
// outcome are of two kinds (a directory and a file).
func (o *Outcome) OtherKind() bool { return o.Kind != o.DestKind && o.Kind != "" && o.DestKind != "" }

// ConflictError is Merge's refusal: objects whose destination holds other
// bytes, and no Request.OnDiffer saying which side wins. Nothing was
// written. Root (Request.Root) is joined to each Outcome.Dest the message
// names, so that it names the destination as the listing of the plan
// does (the audited root included), escaped.
type ConflictError struct {
	Differs []Outcome
	Root    string
}

// Error says what differs: how many objects hold other bytes (or are
// another kind of object) and how many the same bytes with another mode,
// owner or extended attributes (MetadataOnly), each with the first one's
// difference.
func (e *ConflictError) Error() string {
	var bytes, meta []Outcome
	for _, o := range e.Differs {
		if MetadataOnly(o) {
			meta = append(meta, o)
		} else {
			bytes = append(bytes, o)
		}
	}
	var parts []string
	if len(bytes) > 0 {
		parts = append(parts, fmt.Sprintf("%d %s already in the destination with other content (first: %s, %s)", len(bytes), plural(len(bytes), "object is", "objects are"), e.dest(bytes[0]), bytes[0].Why))
	}
	if len(meta) > 0 {
		parts = append(parts, fmt.Sprintf("%d %s the same bytes in the destination with other metadata (first: %s, %s)", len(meta), plural(len(meta), "object holds", "objects hold"), e.dest(meta[0]), strings.TrimPrefix(meta[0].Why, metaPrefix)))
	}
	return strings.Join(parts, "; ")
}

// dest is o's destination as the message names it: under Root, escaped.
func (e *ConflictError) dest(o Outcome) string {
	return escape.Name(path.Join(e.Root, o.Dest))
}

// metaPrefix starts the Why of an object whose destination holds the same
// bytes with other metadata (differMeta).
const metaPrefix = "same bytes; "

// MetadataOnly says whether o's destination holds the same bytes as its
// source, with another mode, owner or extended attributes (for a
// directory present on both sides: its own mode, owner or extended
// attributes): the next boot would show the destination's.
func MetadataOnly(o Outcome) bool {
	return strings.HasPrefix(o.Why, metaPrefix) || dirMetaOnly(o)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Merge copies From+Path into Root+Dest object by object: what the
// destination lacks is copied (each missing object as Run copies it: under
// a temporary name, then renamed into place), what it holds with the same
// bytes is left alone, and what it holds with other bytes is refused as a
// whole before anything is written (*ConflictError) unless req.OnDiffer is
// Replace or Keep. Directories present on both sides are descended into;
// one whose own mode, owner or extended attributes differ is an outcome
// too (refused the same way; Replace gives the destination directory the
// source's in place, Keep leaves it). A file with several names
// copied as separate objects is copied once, its later names hard links to
// the first. With DryRun nothing is
// written. Errors: Run's, and *ConflictError (with the outcomes planned).
func Merge(ctx context.Context, req Request) ([]Outcome, error) {
	switch req.OnDiffer {
	case "", Differs, Replace, Keep:
	default:
		return nil, fmt.Errorf("restore: OnDiffer %q: expected differs, replace or keep", req.OnDiffer)
	}
	plan, stale, err := planMerge(ctx, req)
	if err != nil {
		return plan, err
	}
	var differs []Outcome
	for _, o := range plan {
		if o.Action == Differs {
			differs = append(differs, o)
		}
	}
	if len(differs) > 0 {
		// Refused: what would be copied once a side is chosen is planned
		// as a dry run, so the refusal lists (and counts) it as it is.
		req.DryRun, req.Checked = true, false
		if _, err := copyPlan(ctx, req, plan); err != nil {
			return plan, err
		}
		return plan, &ConflictError{Differs: differs, Root: req.Root}
	}
	if !req.DryRun {
		if err := removeStaleIn(req, stale); err != nil {
			return plan, err
		}
	}
	return copyPlan(ctx, req, plan)
}

// copyPlan runs (req.DryRun: plans) plan's Copy and Replace outcomes,
// filling each one's Result.
func copyPlan(ctx context.Context, req Request, plan []Outcome) ([]Outcome, error) {
	req.links = map[devIno]string{}
	for i := range plan {
		o := &plan[i]
		if o.Action != Copy && o.Action != Replace {
			continue
		}
		if dirMetaOnly(*o) {
			if !req.DryRun {
				if err := setDirMeta(req, *o); err != nil {
					return plan[:i+1], err
				}
			}
			continue
		}
		r := req
		r.Path, r.Dest, r.Force = o.Path, o.Dest, o.Action == Replace
		if o.Dest != path.Clean(req.Dest) {
			r.Top = nil
		}
		res, err := Run(ctx, r)
		o.Result = res
		if err != nil {
			return plan[:i+1], err
		}
	}
	return plan, nil
}

// planMerge lists the outcomes of Merge in source order, writing nothing,
// and the destination directories it compared that hold a partial copy a
// killed run left (their components below the destination root).
func planMerge(ctx context.Context, req Request) ([]Outcome, [][]string, error) {
	p, err := CleanPath(req.Path)
	if err != nil {
		return nil, nil, err
	}
	dest, err := CleanPath(req.Dest)
	if err != nil {
		return nil, nil, fmt.Errorf("destination %w", err)
	}
	src, dst, dcomps, err := openSides(req, dest)
	if err != nil {
		return nil, nil, err
	}
	defer src.close()
	defer dst.close()
	scomps := components(p)
	sfd, n, err := src.openDirs(scomps[:len(scomps)-1])
	if err != nil {
		return nil, nil, err
	}
	defer unix.Close(sfd)
	dfd, have, err := dst.openDirs(dcomps[:len(dcomps)-1])
	if err != nil {
		return nil, nil, err
	}
	defer unix.Close(dfd)
	if n < len(scomps)-1 || have < len(dcomps)-1 {
		// No source (Run says so), or no destination parent: one copy.
		return []Outcome{{Path: p, Dest: dest, Action: Copy}}, nil, nil
	}
	from := req.From
	if req.FromName != "" {
		from = req.FromName
	}
	m := &merger{ctx: ctx, onDiffer: req.OnDiffer, from: from, root: req.Root, top: req.Top, topDest: dest}
	if err := m.walk(sfd, scomps[len(scomps)-1], dfd, dcomps[len(dcomps)-1], p, dest); err != nil {
		return m.out, nil, err
	}
	return m.out, m.stale, nil
}

// merger compares a source tree with its destination.
type merger struct {
	ctx        context.Context
	onDiffer   Action
	from, root string
	out        []Outcome
	// stale are the destination directories holding a partial copy a
	// killed run left (components below the destination root).
	stale [][]string
	// top is Request.Top, the owner and mode of the copy's top directory
	// topDest in place of the source's.
	top     *Owner
	topDest string
}

// walk compares the object sname under sdir with dname under ddir.
func (m *merger) walk(sdir int, sname string, ddir int, dname, live, dest string) error {
	if err := m.ctx.Err(); err != nil {
		return err
	}
	var sst, dst unix.Stat_t
	smnt, err := lstatAt(sdir, sname, &sst)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("%s: not in %s", live, m.from)
		}
		return fmt.Errorf("source %s: %w", path.Join(m.from, live), err)
	}
	if smnt {
		return &MountError{Side: "source", Path: path.Join(m.from, live)}
	}
	o := Outcome{Path: live, Dest: dest, Kind: kindOf(sst.Mode)}
	dmnt, err := lstatAt(ddir, dname, &dst)
	switch {
	case errors.Is(err, unix.ENOENT):
		o.Action = Copy
		m.out = append(m.out, o)
		return nil
	case err != nil:
		return fmt.Errorf("destination %s: %w", path.Join(m.root, dest), err)
	case dmnt:
		return &MountError{Side: "destination", Path: path.Join(m.root, dest)}
	}
	o.DestKind = kindOf(dst.Mode)
	if o.Kind == "" {
		return nil // a fifo, socket or device: Run skips it too
	}
	if o.Kind == KindDir && o.DestKind == KindDir {
		if err := m.dirOutcome(sdir, sname, &sst, ddir, dname, &dst, live, dest); err != nil {
			return err
		}
		return m.dir(sdir, sname, ddir, dname, live, dest)
	}
	o.Why, err = differ(sdir, sname, &sst, ddir, dname, &dst)
	if err != nil {
		return fmt.Errorf("compare %s with %s: %w", path.Join(m.from, live), path.Join(m.root, dest), err)
	}
	if o.Why != "" {
		o.Mtime, o.DestMtime = sst.Mtim.Nano(), dst.Mtim.Nano()
	}
	switch {
	case o.Why == "":
		o.Action = Same
	case m.onDiffer == Replace || m.onDiffer == Keep:
		o.Action = m.onDiffer
	default:
		o.Action = Differs
	}
	m.out = append(m.out, o)
	return nil
}

// dir compares the entries of two directories, in source name order.
func (m *merger) dir(sdir int, sname string, ddir int, dname, live, dest string) error {
	sfd, err := openDirAt(sdir, sname)
	if errors.Is(err, unix.EXDEV) {
		return &MountError{Side: "source", Path: path.Join(m.from, live)}
	} else if err != nil {
		return fmt.Errorf("open %s: %w", path.Join(m.from, live), err)
	}
	defer unix.Close(sfd)
	dfd, err := openDirAt(ddir, dname)
	if errors.Is(err, unix.EXDEV) {
		return &MountError{Side: "destination", Path: path.Join(m.root, dest)}
	} else if err != nil {
		return fmt.Errorf("open %s: %w", path.Join(m.root, dest), err)
	}
	defer unix.Close(dfd)
	names, err := readNames(sfd)
	if err != nil {
		return fmt.Errorf("read %s: %w", path.Join(m.from, live), err)
	}
	if m.hasStale(dfd) {
		m.stale = append(m.stale, components(dest))
	}
	for _, n := range names {
		if err := m.walk(sfd, n, dfd, n, path.Join(live, n), path.Join(dest, n)); err != nil {
			return err
		}
	}
	return nil
}

// differ says how two objects that are not both directories differ ("" if
// they are the same: regular files of the same content, symlinks to the
// same target, each with the same metadata — see differMeta).
func differ(sdir int, sname string, sst *unix.Stat_t, ddir int, dname string, dst *unix.Stat_t) (string, error) {
	why, err := differBytes(sdir, sname, sst, ddir, dname, dst)
	if why != "" || err != nil {
		return why, err
	}
	return differMeta(sdir, sname, sst, ddir, dname, dst)
}

// differMeta says how the metadata the next boot shows differs between two
// objects of the same kind and bytes: the permission bits (not for
// symlinks), the numeric owner and group, and the extended attributes.
// A copy with the same bytes but another mode or owner is not "the same":
// a secret 0600 here would come back 0644 there. Times are not compared
// (a copy made by hand rarely keeps them, and nothing reads them as
// access rules).
func differMeta(sdir int, sname string, sst *unix.Stat_t, ddir int, dname string, dst *unix.Stat_t) (string, error) {
	why, err := metaWhy(sdir, sname, sst, ddir, dname, dst, nil)
	if why == nil || err != nil {
		return "", err
	}
	return metaPrefix + strings.Join(why, "; "), nil
}

// differBytes says how two objects that are not both directories differ in
// kind or bytes ("" if they hold the same bytes).
func differBytes(sdir int, sname string, sst *unix.Stat_t, ddir int, dname string, dst *unix.Stat_t) (string, error) {
	sk, dk := kindOf(sst.Mode), kindOf(dst.Mode)
	if sk != dk {
		if dk == "" {
			dk = Kind(typeName(dst.Mode))
		}
		return fmt.Sprintf("a %s here, a %s there", sk, dk), nil
	}
	switch sk {
	case KindSymlink:
		a, err := readlinkAt(sdir, sname)
		if err != nil {
			return "", err
		}
		b, err := readlinkAt(ddir, dname)
		if err != nil {
			return "", err
		}
		if a != b {
			return fmt.Sprintf("a symlink to %s here, to %s there", a, b), nil
		}
		return "", nil
	case KindFile:
		if sst.Size != dst.Size {
			return fmt.Sprintf("%d bytes here, %d there", sst.Size, dst.Size), nil
		}
		same, err := sameContent(sdir, sname, sst, ddir, dname, dst)
		if err != nil || same {
			return "", err
		}
		return "other content, same size", nil
	}
	return "", nil
}

// sameContent compares two regular files byte by byte.
func sameContent(sdir int, sname string, sst *unix.Stat_t, ddir int, dname string, dst *unix.Stat_t) (bool, error) {
	open := func(dir int, name string, st *unix.Stat_t) (int, error) {
		fd, err := fsys.OpenNoXDev(dir, name, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY)
		if err != nil {
			return -1, err
		}
		if err := sameObject(fd, st); err != nil {
			unix.Close(fd)
			return -1, err
		}
		return fd, nil
	}
	a, err := open(sdir, sname, sst)
	if err != nil {
		return false, err
	}
	defer unix.Close(a)
	b, err := open(ddir, dname, dst)
	if err != nil {
		return false, err
	}
	defer unix.Close(b)
	bufA, bufB := make([]byte, 1<<20), make([]byte, 1<<20)
	for off := int64(0); ; {
		n, errA := readFull(a, bufA, off)
		k, errB := readFull(b, bufB, off)
		if errA != nil {
			return false, errA
		}
		if errB != nil {
			return false, errB
		}
		if n != k || !bytes.Equal(bufA[:n], bufB[:k]) {
			return false, nil
		}
		if n < len(bufA) {
			return true, nil
		}
		off += int64(n)
	}
}

// readFull preads up to len(buf) bytes at off; fewer only at the end.
func readFull(fd int, buf []byte, off int64) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := unix.Pread(fd, buf[n:], off+int64(n))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return n, err
		}
		if k == 0 {
			break
		}
		n += k
	}
	return n, nil
}

// hasStale says whether the directory dfd holds a partial copy whose
// process is gone (left by a killed run of restore or adopt).
func (m *merger) hasStale(dfd int) bool {
	names, err := readNames(dfd)
	if err != nil {
		return false
	}
	for _, n := range names {
		if pc, ok := partial.Parse(n); ok && partial.Gone(pc.PID) {
			return true
		}
	}
	return false
}

// removeStaleIn removes the partial copies killed runs left in the
// destination directories dirs (planMerge's), reached beneath req.Root
// without a symlink: a rerun clears them, even those of objects it no
// longer copies.
func removeStaleIn(req Request, dirs [][]string) error {
	if len(dirs) == 0 {
		return nil
	}
	dest, err := CleanPath(req.Dest)
	if err != nil {
		return err
	}
	src, dst, _, err := openSides(req, dest) // dst crosses mounts down to req.Base only
	if err != nil {
		return err
	}
	src.close()
	defer dst.close()
	for _, comps := range dirs {
		fd, n, err := dst.openDirs(comps)
		if err == nil && n < len(comps) {
			err = unix.ENOENT
		}
		if err == nil {
			err = removeStale(fd, "")
		}
		if fd >= 0 {
			unix.Close(fd)
		}
		if err != nil {
			return fmt.Errorf("remove a partial copy a killed run left in %s: %w", dst.full(comps), err)
		}
	}
	return nil
}
