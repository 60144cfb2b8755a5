package btrfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Options say what a wipe does. The zero value is not usable: start from
// DefaultOptions.
type Options struct {
	// Subvol is the root subvolume, relative to the top level ("root").
	Subvol string `json:"subvol"`
	// OldRoots is the directory old roots are kept in ("old_roots").
	OldRoots string `json:"oldRoots"`
	// KeepDays keeps old roots younger than KeepDays+1 whole days: the
	// seed's `find -mtime +30` deletes at 31 days or more.
	KeepDays int `json:"keepDays"`
	// KeepMin keeps at least this many of the newest old roots, whatever
	// their age.
	KeepMin int `json:"keepMin"`
	// Blank, when set, is a subvolume (relative to the top level) that the
	// fresh root is a writable snapshot of; else the fresh root is empty.
	Blank string `json:"blank,omitempty"`
	// Now is the current time (the age reference).
	Now time.Time `json:"now"`
	// Location is the time zone names are written and read in (the seed's
	// `date` in the initrd: UTC).
	Location *time.Location `json:"-"`
	// BootID identifies this boot (/proc/sys/kernel/random/boot_id). A root
	// drift created in the same boot is not retired again, and an old root
	// retired in the same boot is never deleted: what makes a second run
	// after an interruption finish the job instead of starting another.
	BootID string `json:"bootId,omitempty"`
	// Preview plans the wipe the next boot's initrd will do on a running
	// system: a mounted root is planned as retired instead of refused, and
	// no boot mark of this boot counts.
	Preview bool `json:"preview,omitempty"`
}

// DefaultOptions are the seed script's choices: root, old_roots, 30 days,
// and drift's keep-min 1, at time.Now in UTC.
func DefaultOptions() Options {
	return Options{Subvol: "root", OldRoots: "old_roots", KeepDays: 30, KeepMin: 1, Now: time.Now(), Location: time.UTC}
}

// Action is what one step of a plan does.
type Action string

// The actions of a plan, in the order they appear in it.
const (
	ActMkdir    Action = "mkdir"    // create the old_roots directory
	ActRetire   Action = "retire"   // rename the root subvolume to old_roots/<name>
	ActCreate   Action = "create"   // create an empty root subvolume
	ActSnapshot Action = "snapshot" // create the root as a snapshot of Blank
	ActDelete   Action = "delete"   // delete one subvolume (nested ones first)
)

// Step is one change to the filesystem. Paths are relative to the top level.
type Step struct {
	Action Action `json:"action"`
	// Path is what the step changes: the directory or subvolume made or
	// deleted, the root retired.
	Path string `json:"path"`
	// To is where ActRetire moves Path; From is ActSnapshot's source.
	To   string `json:"to,omitempty"`
	From string `json:"from,omitempty"`
	// ID is the subvolume id ActRetire and ActDelete expect at Path; Apply
	// refuses the step when another subvolume is there.
	ID uint64 `json:"id,omitempty"`

	// oldRoot is, for ActDelete, the old root the step deletes (part of):
	// a failed step skips the rest of that old root only. parent and
	// parentID name the subvolume holding a nested one (the old root or
	// another nested subvolume, deleted after it): Apply makes it writable
	// first when it is read-only.
	oldRoot  string
	parent   string
	parentID uint64
}

// String renders a step as one line of a dry run.
func (s Step) String() string {
	switch s.Action {
	case ActRetire:
		return fmt.Sprintf("retire  %s -> %s", s.Path, s.To)
	case ActSnapshot:
		return fmt.Sprintf("snapshot %s -> %s", s.From, s.Path)
	case ActDelete:
		return fmt.Sprintf("delete  %s (subvolume %d)", s.Path, s.ID)
	}
	return fmt.Sprintf("%-7s %s", s.Action, s.Path)
}

// Decision is an old root and what the planned wipe does with it.
type Decision struct {
	OldRoot
	// Delete is true when the plan deletes it (with its nested subvolumes).
	Delete bool `json:"delete"`
	// Retired is true for the root this run retires.
	Retired bool `json:"retired"`
	// Why says why it is deleted or kept.
	Why string `json:"why"`
	// AgeDays is the age in whole days at Options.Now, counted from Age
	// (negative when the clock is before it).
	AgeDays int `json:"ageDays"`
}

// Plan is what a wipe will do, computed from the filesystem as it is.
type Plan struct {
	Options Options `json:"options"`
	// Steps are the changes in order. Empty: nothing to do.
	Steps []Step `json:"steps"`
	// OldRoots are the entries of old_roots after retirement, oldest first.
	OldRoots []Decision `json:"oldRoots"`
	// Warnings are conditions that made the plan keep something.
	Warnings []string `json:"warnings"`
}

// ErrUnsafe wraps every refusal to plan: a target that is not what a wipe
// may touch.
var ErrUnsafe = errors.New("unsafe target")

// CleanRel cleans p, the value of flag, as a relative path inside the top
// level ("root", "nixos/old_roots"), or fails (wrapping ErrUnsafe) when it
// is empty, absolute, or not clean ("..", "a/../..", "./x").
func CleanRel(flag, p string) (string, error) {
	c := strings.Trim(path.Clean("/"+p), "/")
	if p == "" || c == "" || path.IsAbs(p) || c != strings.Trim(p, "/") {
		return "", fmt.Errorf("%w: %s %q: want a clean path relative to the top level, like %q", ErrUnsafe, flag, p, "root")
	}
	return c, nil
}

// Plan computes the wipe of the filesystem behind top with opts: retire the
// root to old_roots/<its mtime, seed format>[.N], create a fresh root (empty
// or a snapshot of opts.Blank), and delete, nested subvolumes deepest first,
// every old root that is a verified subvolume directly in old_roots, is at
// least KeepDays+1 whole days old, is not among the newest KeepMin, was not
// retired in this boot, and is not mounted. Age-based deletion is skipped
// when the clock is before the newest old root. Errors wrap ErrUnsafe when a
// target is wrong: Subvol or OldRoots a symlink, not a subvolume/directory,
// one inside the other; the root mounted (field case C18); Blank missing,
// equal to or inside Subvol, or inside OldRoots; Subvol missing while no old
// root carries this boot's retired mark (a preview only warns).
// Other errors come from reading the filesystem.
func (t *Top) Plan(opts Options) (*Plan, error) {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Preview {
		opts.BootID = ""
	}
	if opts.KeepDays < 0 || opts.KeepMin < 0 {
		return nil, fmt.Errorf("keep-days %d and keep-min %d: want 0 or more", opts.KeepDays, opts.KeepMin)
	}
	var err error
	if opts.Subvol, err = CleanRel("--subvol", opts.Subvol); err != nil {
		return nil, err
	}
	if opts.OldRoots, err = CleanRel("--old-roots", opts.OldRoots); err != nil {
		return nil, err
	}
	if opts.Subvol == opts.OldRoots || within(opts.Subvol, opts.OldRoots) || within(opts.OldRoots, opts.Subvol) {
		return nil, fmt.Errorf("%w: --subvol %q and --old-roots %q overlap", ErrUnsafe, opts.Subvol, opts.OldRoots)
	}
	if opts.Blank != "" {
		if opts.Blank, err = CleanRel("--blank", opts.Blank); err != nil {
			return nil, err
		}
		// The blank must outlive the wipe: the root is retired before the
		// snapshot is taken, and old_roots may lose it by age in the same plan.
		switch {
		case opts.Blank == opts.Subvol || within(opts.Subvol, opts.Blank):
			return nil, fmt.Errorf("%w: --blank %q is (inside) --subvol %q: the wipe retires it before the fresh root is made from it", ErrUnsafe, opts.Blank, opts.Subvol)
		case opts.Blank == opts.OldRoots || within(opts.OldRoots, opts.Blank):
			return nil, fmt.Errorf("%w: --blank %q is inside --old-roots %q: old roots are deleted by age, and the blank with them", ErrUnsafe, opts.Blank, opts.OldRoots)
		}
	}
	subs, err := t.Subvolumes()
	if err != nil {
		return nil, err
	}
	mounted, err := t.MountedIDs()
	if err != nil {
		return nil, err
	}
	byPath := map[string]Subvolume{}
	for _, s := range subs {
		byPath[s.Path] = s
	}
	p := &Plan{Options: opts, Steps: []Step{}, OldRoots: []Decision{}, Warnings: []string{}}

	// old_roots: a real directory (or missing), never a symlink, on the
	// path of no symlink either.
	if err := t.checkNoSymlinks(opts.OldRoots); err != nil {
		return nil, err
	}
	oldDir := filepath.Join(t.Dir, opts.OldRoots)
	switch fi, err := os.Lstat(oldDir); {
	case errors.Is(err, fs.ErrNotExist):
		p.Steps = append(p.Steps, Step{Action: ActMkdir, Path: opts.OldRoots})
	case err != nil:
		return nil, err
	case !fi.IsDir():
		return nil, fmt.Errorf("%w: %s is a %s, not a directory", ErrUnsafe, opts.OldRoots, typeName(fi.Mode()))
	}
	existing, err := t.OldRoots(opts.OldRoots, subs, mounted, opts.Location)
	if err != nil {
		return nil, err
	}

	// The root: retire it unless it is gone (a run interrupted after
	// retiring it) or drift created it in this boot.
	if err := t.checkNoSymlinks(opts.Subvol); err != nil {
		return nil, err
	}
	rootPath := filepath.Join(t.Dir, opts.Subvol)
	var st unix.Stat_t
	needRoot := false
	var retired *Decision
	switch err := unix.Lstat(rootPath, &st); {
	case errors.Is(err, unix.ENOENT):
		// Only a run interrupted after retiring this very subvolume (marked
		// with this boot's id and its name) leaves it missing; else --subvol
		// names the wrong subvolume, and creating it would never wipe the
		// real root — even after another subvolume was retired this boot.
		resuming := false
		for _, r := range existing {
			resuming = resuming || (opts.BootID != "" && r.Kind == KindSubvolume && r.RetiredBoot == opts.BootID &&
				(r.RetiredFrom == "" || r.RetiredFrom == opts.Subvol))
		}
		if !resuming {
			msg := fmt.Sprintf("no subvolume %s at the top level: nothing to retire; create it, or check --subvol", opts.Subvol)
			if !opts.Preview {
				return nil, fmt.Errorf("%w: %s", ErrUnsafe, msg)
			}
			p.Warnings = append(p.Warnings, msg+" (drift wipe refuses to run)")
		}
		needRoot = true
	case err != nil:
		return nil, &os.PathError{Op: "lstat", Path: rootPath, Err: err}
	case st.Mode&unix.S_IFMT != unix.S_IFDIR:
		return nil, fmt.Errorf("%w: %s is a %s, not a subvolume", ErrUnsafe, opts.Subvol, typeName(fs.FileMode(st.Mode)))
	default:
		sv, ok := byPath[opts.Subvol]
		if !ok || st.Ino != 256 {
			return nil, fmt.Errorf("%w: %s is a plain directory, not a subvolume", ErrUnsafe, opts.Subvol)
		}
		if mps := mounted[sv.ID]; len(mps) > 0 && !opts.Preview {
			return nil, fmt.Errorf("%w: %s (subvolume %d) is mounted at %s: retiring a mounted root leaves the system running inside an old root (field case C18); run drift wipe in the initrd before the root is mounted", ErrUnsafe, opts.Subvol, sv.ID, strings.Join(mps, ", "))
		}
		if opts.BootID != "" && getxattr(rootPath, XattrCreated) == opts.BootID {
			break // fresh from this boot: retiring it again would only add an empty old root
		}
		mtime := time.Unix(st.Mtim.Unix()).In(opts.Location)
		taken := map[string]bool{}
		for _, r := range existing {
			taken[r.Name] = true
		}
		seq := 0
		for taken[FormatName(mtime, seq)] {
			seq++
		}
		name := FormatName(mtime, seq)
		if seq > 0 {
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s/%s exists already: the root is retired as %s (field case C15)", opts.OldRoots, FormatName(mtime, 0), name))
		}
		to := opts.OldRoots + "/" + name
		p.Steps = append(p.Steps, Step{Action: ActRetire, Path: opts.Subvol, To: to, ID: sv.ID})
		r := OldRoot{Name: name, Path: to, Kind: KindSubvolume, ID: sv.ID, OTime: sv.OTime.In(opts.Location), MTime: mtime, RetiredBoot: opts.BootID, RetiredFrom: opts.Subvol}
		for _, n := range Nested(subs, opts.Subvol) {
			n.Path = to + n.Path[len(opts.Subvol):]
			r.Nested = append(r.Nested, n)
		}
		r.resolveTime(opts.Location)
		retired = &Decision{OldRoot: r, Retired: true}
		needRoot = true
	}
	if opts.Blank != "" {
		// Checked whether or not this run creates the root: a --blank that
		// does not exist is a mistake every later boot would trip on.
		if _, ok := byPath[opts.Blank]; !ok {
			return nil, fmt.Errorf("%w: --blank %s: no such subvolume", ErrUnsafe, opts.Blank)
		}
	}
	if needRoot {
		if opts.Blank != "" {
			p.Steps = append(p.Steps, Step{Action: ActSnapshot, Path: opts.Subvol, From: opts.Blank})
		} else {
			p.Steps = append(p.Steps, Step{Action: ActCreate, Path: opts.Subvol})
		}
	}

	// Old roots after retirement, oldest first.
	for _, r := range existing {
		p.OldRoots = append(p.OldRoots, Decision{OldRoot: r})
	}
	if retired != nil {
		p.OldRoots = append(p.OldRoots, *retired)
	}
	slices.SortStableFunc(p.OldRoots, func(a, b Decision) int { return compareOldRoots(a.OldRoot, b.OldRoot) })
	p.decide(retired == nil && needRoot)
	for _, d := range p.OldRoots {
		if !d.Delete {
			continue
		}
		for i, n := range d.Nested {
			st := Step{Action: ActDelete, Path: n.Path, ID: n.ID, oldRoot: d.Path, parent: d.Path, parentID: d.ID}
			best := ""
			for _, m := range d.Nested[i+1:] { // the enclosing ones come later (deepest first)
				if within(m.Path, n.Path) && len(m.Path) > len(best) {
					best, st.parent, st.parentID = m.Path, m.Path, m.ID
				}
			}
			p.Steps = append(p.Steps, st)
		}
		p.Steps = append(p.Steps, Step{Action: ActDelete, Path: d.Path, ID: d.ID, oldRoot: d.Path})
	}
	return p, nil
}

// decide fills Delete and Why of every old root. Subvolumes whose names are
// not old-root names (a manual-backup kept in old_roots) are not old roots
// drift manages: reported, kept, and neither counted for KeepMin nor for the
// clock check. resumed is true when the
// root is missing (a run interrupted after retiring it): then the newest
// old root counts as retired in this run even without a boot mark.
func (p *Plan) decide(resumed bool) {
	o := p.Options
	ds := p.OldRoots
	newest := time.Time{}
	for _, d := range ds {
		if d.managed() && d.Age.After(newest) {
			newest = d.Age
		}
	}
	clockWrong := o.Now.Before(newest)
	if clockWrong {
		p.Warnings = append(p.Warnings, fmt.Sprintf("the clock (%s) is before the newest old root (%s): no old root is deleted by age this boot", o.Now.In(o.Location).Format(time.RFC3339), newest.Format(time.RFC3339)))
	}
	kept := 0 // subvolumes counted from the newest
	lastSub := -1
	for i := range ds {
		if ds[i].managed() {
			lastSub = i
		}
	}
	for i := len(ds) - 1; i >= 0; i-- {
		d := &ds[i]
		if !d.Age.IsZero() {
			d.AgeDays = int(o.Now.Sub(d.Age) / (24 * time.Hour))
		}
		if d.Kind != KindSubvolume {
			d.Why = fmt.Sprintf("a %s, not a subvolume: left alone", d.Kind)
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s is a %s, not a subvolume: left alone", d.Path, d.Kind))
			continue
		}
		if !d.managed() {
			d.Why = "not an old-root name: left alone"
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s: not an old-root name (YYYY-MM-D_hh:mm:ss[.N]): left alone, never deleted", d.Path))
			continue
		}
		kept++
		old := !o.Now.Before(DeleteAt(d.Age, o.KeepDays))
		switch {
		case d.Retired && o.Preview:
			d.Why = "the root now: the next wipe retires it"
		case d.Retired:
			d.Why = "retired by this run"
		case o.BootID != "" && d.RetiredBoot == o.BootID:
			d.Why = "retired in this boot"
		case resumed && i == lastSub:
			d.Why = "newest, and the root is missing: retired by an interrupted run"
		case kept <= o.KeepMin:
			d.Why = fmt.Sprintf("among the newest %d (--keep-min)", o.KeepMin)
		case clockWrong:
			d.Why = "kept: the clock looks wrong"
		case !old:
			d.Why = fmt.Sprintf("younger than %d whole days", o.KeepDays+1)
		case len(d.Mounted) > 0:
			d.Why = "mounted at " + strings.Join(d.Mounted, ", ") + ": kept"
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s is %d days old but mounted at %s: not deleted", d.Path, d.AgeDays, strings.Join(d.Mounted, ", ")))
		default:
			d.Delete = true
			d.Why = fmt.Sprintf("%d days old (more than %d)", d.AgeDays, o.KeepDays)
		}
	}
}

// checkNoSymlinks fails when a component of rel (relative to the top level)
// is a symlink. Missing components end the check.
func (t *Top) checkNoSymlinks(rel string) error {
	parts := strings.Split(rel, "/")
	cur := t.Dir
	for i, part := range parts {
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%w: %s is a symlink: drift never follows one into what it deletes or moves", ErrUnsafe, strings.Join(parts[:i+1], "/"))
		}
	}
	return nil
}

func typeName(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m.IsRegular():
		return "regular file"
	case m.IsDir():
		return "directory"
	}
	return "special file"
}

// DeleteAt is when the cleanup deletes an old root retired at t (the time
// in its name) when it keeps keepDays days: once it is keepDays+1 whole days
// old (the seed's `find -mtime +30` with keepDays 30: 31 days).
func DeleteAt(t time.Time, keepDays int) time.Time {
	return t.Add(time.Duration(keepDays+1) * 24 * time.Hour)
}
