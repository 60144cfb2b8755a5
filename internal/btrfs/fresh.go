package btrfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// FreshName is where a wipe makes the fresh root before renaming it into
// place at subvol (relative to the top level): ".drift-new-<name>" in the
// same directory, so that the rename stays inside one subvolume. A rerun
// that finds it there (the run before was stopped between making it and
// renaming it) marks it and renames it instead of making another.
func FreshName(subvol string) string {
	return path.Join(path.Dir(subvol), ".drift-new-"+path.Base(subvol))
}

// XattrFresh, on the top level's directory, records the fresh root a wipe
// made, as it was when marked: "SUBVOL\nID\nCTRANSID" (the --subvol it is
// made for, its subvolume id and its ctransid then). A rerun at a later boot
// that finds the root with that id and ctransid knows nothing has used it
// since — not even read it with atime on — whatever it holds (a --blank
// snapshot is not empty).
const XattrFresh = "user.drift.fresh-root"

// recordFresh sets XattrFresh for the subvolume at via (relative to the
// top level), made for subvol, after committing its changes (syncfs).
func (t *Top) recordFresh(subvol, via string) error {
	if err := t.syncfs(); err != nil {
		return err
	}
	info, err := SubvolumeOf(filepath.Join(t.Dir, via))
	if err != nil {
		return err
	}
	v := fmt.Sprintf("%s\n%d\n%d", subvol, info.ID, info.CTransID)
	if err := unix.Lsetxattr(t.self(), XattrFresh, []byte(v), 0); err != nil {
		return &os.PathError{Op: "setxattr", Path: t.Dir, Err: err}
	}
	return nil
}

// self is the top level's own directory as a path the l*xattr calls act
// on: t.Dir may be /proc/self/fd/N, a link they would not follow, so
// "/." is appended (the last component is then the directory itself).
func (t *Top) self() string { return t.Dir + "/." }

// freshUnused reports whether the root subvolume at subvol is the one
// XattrFresh records, unchanged since (its ctransid after syncfs the same).
// Any error reading says no: the root is then retired, as a used one is.
func (t *Top) freshUnused(subvol string) bool {
	rec := getxattr(t.self(), XattrFresh)
	parts := strings.Split(rec, "\n")
	if len(parts) != 3 || parts[0] != subvol {
		return false
	}
	if t.syncfs() != nil {
		return false
	}
	info, err := SubvolumeOf(filepath.Join(t.Dir, subvol))
	if err != nil {
		return false
	}
	return parts[1] == strconv.FormatUint(info.ID, 10) && parts[2] == strconv.FormatUint(info.CTransID, 10)
}

// syncfs commits the filesystem's transaction, so that the root items read
// next (SubvolumeOf) count every change made before.
func (t *Top) syncfs() error {
	fd, err := unix.Open(t.Dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: t.Dir, Err: err}
	}
	defer unix.Close(fd)
	if err := unix.Syncfs(fd); err != nil {
		return &os.PathError{Op: "syncfs", Path: t.Dir, Err: err}
	}
	return nil
}

// rootState is what Plan found at --subvol and next to it.
type rootState struct {
	// retire is the decision for the root this run retires (nil: none).
	retire *Decision
	// create is true when the plan makes a fresh root; reuse when it
	// renames the one an interrupted run left at FreshName.
	create, reuse bool
	// protect is true when this run retires nothing because the root is
	// missing or still fresh: the last root retired then holds the last
	// boot's data, and is kept.
	protect bool
}

// planRoot decides what happens to the root subvolume: retired unless it
// is missing (a run stopped after retiring it) or fresh (made by drift wipe
// at this boot, or at an earlier one and unchanged since — freshUnused — or
// empty: nothing ever used it), and a fresh root is made whenever the root
// is retired or missing. It adds a note to p when the root is not retired.
// Errors wrap ErrUnsafe as Plan's.
func (t *Top) planRoot(p *Plan, existing []OldRoot, subs []Subvolume, mounted map[uint64][]string) (rootState, error) {
	opts := p.Options
	var rs rootState
	byPath := map[string]Subvolume{}
	for _, s := range subs {
		byPath[s.Path] = s
	}
	if err := t.checkNoSymlinks(opts.Subvol); err != nil {
		return rs, err
	}
	var err error
	if rs.reuse, err = t.leftFresh(opts, byPath); err != nil {
		return rs, err
	}
	rootPath := filepath.Join(t.Dir, opts.Subvol)
	var st unix.Stat_t
	switch err := unix.Lstat(rootPath, &st); {
	case errors.Is(err, unix.ENOENT):
		if !rs.reuse && !retiredFrom(existing, opts) {
			msg := fmt.Sprintf("no subvolume %s at the top level, and no old root drift wipe retired from it: nothing to retire; create it, or check --subvol", opts.Subvol)
			if !opts.Preview {
				return rs, fmt.Errorf("%w: %s", ErrUnsafe, msg)
			}
			p.Warnings = append(p.Warnings, msg+" (drift wipe refuses to run)")
		} else {
			p.Notes = append(p.Notes, fmt.Sprintf("%s is missing: a wipe was stopped after retiring it; the fresh root is made and the wipe finished", opts.Subvol))
		}
		rs.create, rs.protect = true, true
		return rs, nil
	case err != nil:
		return rs, &os.PathError{Op: "lstat", Path: rootPath, Err: err}
	case st.Mode&unix.S_IFMT != unix.S_IFDIR:
		return rs, fmt.Errorf("%w: %s is a %s, not a subvolume", ErrUnsafe, opts.Subvol, typeName(fs.FileMode(st.Mode)))
	}
	sv, ok := byPath[opts.Subvol]
	if !ok || st.Ino != RootIno {
		return rs, fmt.Errorf("%w: %s is a plain directory, not a subvolume", ErrUnsafe, opts.Subvol)
	}
	if mps := mounted[sv.ID]; len(mps) > 0 && !opts.Preview {
		msg := fmt.Sprintf("%s (subvolume %d) is mounted at %s: retiring a mounted root leaves the system running inside an old root; run drift wipe in the initrd before the root is mounted", opts.Subvol, sv.ID, strings.Join(mps, ", "))
		if !opts.DryRun {
			return rs, fmt.Errorf("%w: %s", ErrUnsafe, msg)
		}
		p.Warnings = append([]string{"the real run would refuse: " + msg}, p.Warnings...)
	}
	if err := t.checkRoot(p, sv, rootPath, subs, mounted); err != nil {
		return rs, err
	}
	if rs.reuse {
		p.Warnings = append(p.Warnings, fmt.Sprintf("%s: a fresh root an interrupted wipe left next to %s; left alone until a wipe finds %s missing", FreshName(opts.Subvol), opts.Subvol, opts.Subvol))
	}
	if note, remark := t.stillFresh(opts, rootPath); note != "" {
		p.Notes = append(p.Notes, note)
		if remark {
			p.Steps = append(p.Steps, Step{Action: ActMark, Path: opts.Subvol, ID: sv.ID})
		}
		rs.protect = true
		return rs, nil
	}
	rs.retire = retirement(p, existing, subs, sv, time.Unix(st.Mtim.Unix()).In(opts.Location))
	rs.create = true
	return rs, nil
}

// leftFresh reports whether an interrupted run left a fresh root at
// FreshName(opts.Subvol), to be finished. Something else there — not a
// subvolume, or one that is not empty without --blank — is refused
// (ErrUnsafe): drift wipe never made it.
func (t *Top) leftFresh(opts Options, byPath map[string]Subvolume) (bool, error) {
	fresh := FreshName(opts.Subvol)
	fi, err := os.Lstat(filepath.Join(t.Dir, fresh))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, err
	}
	if _, ok := byPath[fresh]; !ok || !fi.IsDir() {
		return false, fmt.Errorf("%w: %s is a %s, not the subvolume drift wipe makes a fresh root in: move it away", ErrUnsafe, fresh, typeName(fi.Mode()))
	}
	if opts.Blank == "" && !isEmptyDir(filepath.Join(t.Dir, fresh)) {
		return false, fmt.Errorf("%w: %s is not empty: if an interrupted drift wipe --blank made it, rerun with the same --blank; otherwise it is not a fresh root drift wipe left: move it away", ErrUnsafe, fresh)
	}
	return true, nil
}

// stillFresh returns why the root at rootPath is not retired — drift wipe
// made it at this boot, or at an earlier one and nothing has used it since
// (freshUnused, or empty) — or "" when it is retired. remark is true in the
// second case: the root is then marked as this boot's (ActMark), so that
// drift check sees a root wiped at this boot. A preview always retires it:
// the next boot's wipe finds it used.
func (t *Top) stillFresh(opts Options, rootPath string) (note string, remark bool) {
	created := getxattr(rootPath, XattrCreated)
	switch {
	case opts.Preview || created == "":
		return "", false
	case opts.BootID != "" && created == opts.BootID:
		return fmt.Sprintf("already wiped at this boot: %s was made by drift wipe at this boot (%s), so it is not retired again; the next boot's wipe retires it", opts.Subvol, created), false
	case t.freshUnused(opts.Subvol) || isEmptyDir(rootPath):
		return fmt.Sprintf("%s is the fresh root an interrupted wipe made at boot %s, unchanged since (nothing used it): not retired again", opts.Subvol, created), opts.BootID != ""
	}
	return "", false
}

// retirement adds the step that retires the root subvolume sv (its mtime
// mtime) to p and returns its decision: named after mtime (FormatName),
// with the first free collision suffix (a name in the seed's spelling
// that denotes the same moment is taken too) (a warning says so), its
// nested subvolumes moved along, retired now (RetiredAt; unknown in a
// preview).
func retirement(p *Plan, existing []OldRoot, subs []Subvolume, sv Subvolume, mtime time.Time) *Decision {
	opts := p.Options
	taken := map[string]bool{}
	for _, r := range existing {
		taken[r.Name] = true
		// The seed's spelling of a name (2026-11-9_…) takes the time it
		// denotes too: never a second root named for the same moment.
		if n, err := ParseName(r.Name, mtime.Location()); err == nil {
			taken[n.String()] = true
		}
	}
	seq := 0
	for taken[FormatName(mtime, seq)] {
		seq++
	}
	name := FormatName(mtime, seq)
	if seq > 0 && !opts.Preview {
		p.Warnings = append(p.Warnings, fmt.Sprintf("%s/%s exists already: the root is retired as %s", opts.OldRoots, FormatName(mtime, 0), name))
	}
	to := opts.OldRoots + "/" + name
	p.Steps = append(p.Steps, Step{Action: ActRetire, Path: opts.Subvol, To: to, ID: sv.ID})
	r := OldRoot{Name: name, Path: to, Kind: KindSubvolume, ID: sv.ID, OTime: sv.OTime.In(opts.Location), MTime: mtime,
		RetiredBoot: opts.BootID, RetiredFrom: opts.Subvol, RetiredAt: opts.Now.Truncate(time.Second).In(opts.Location)}
	if opts.Preview {
		r.RetiredAt = time.Time{} // the next boot's clock, unknown
	}
	for _, n := range Nested(subs, opts.Subvol) {
		n.Path = to + n.Path[len(opts.Subvol):]
		r.Nested = append(r.Nested, n)
	}
	r.resolveTime(opts.Location)
	return &Decision{OldRoot: r, Retired: true}
}

// retiredFrom reports whether an old root of existing carries drift's mark
// of a retirement from opts.Subvol (at any boot; a mark that does not name
// the subvolume counts at this boot only): then a missing root is one a
// wipe was stopped after retiring, and making it loses nothing.
func retiredFrom(existing []OldRoot, opts Options) bool {
	for _, r := range existing {
		if r.Kind != KindSubvolume {
			continue
		}
		if r.RetiredFrom == opts.Subvol || (r.RetiredFrom == "" && opts.BootID != "" && r.RetiredBoot == opts.BootID) {
			return true
		}
	}
	return false
}

// isEmptyDir reports whether the directory p has no entries; false when it
// cannot be read.
func isEmptyDir(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	return errors.Is(err, io.EOF)
}
