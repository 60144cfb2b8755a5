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

	"github.com/nix-drift/drift/internal/units"
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
	// DryRun plans for drift wipe --dry-run: a mounted root is planned as
	// retired, and the refusal the real run gives (ErrUnsafe) becomes the
	// plan's first warning ("the real run would refuse: …"), so that a dry
	// run on a running system shows the plan and why it would not run.
	DryRun bool `json:"-"`
	// Fstab is the fstab(5) file whose btrfs lines say which subvolumes of
	// this filesystem are mounted elsewhere than / (the initrd's
	// /etc/fstab in systemd stage 1): such a --subvol is refused
	// (ErrNotRoot). "" reads none.
	Fstab string `json:"-"`
	// SubvolIsRoot accepts a --subvol whose name is a storage name
	// ("persist", "nix", "home"…) and that holds nothing of a booted root
	// (--subvol-is-root); a Nix store or an fstab line is refused whatever
	// it says.
	SubvolIsRoot bool `json:"-"`
}

// DefaultOptions are the seed script's choices: root, old_roots, 30 days,
// and drift's keep-min 1, at time.Now in UTC, reading /etc/fstab.
func DefaultOptions() Options {
	return Options{Subvol: "root", OldRoots: "old_roots", KeepDays: 30, KeepMin: 1, Now: time.Now(), Location: time.UTC, Fstab: "/etc/fstab"}
}

// Action is what one step of a plan does.
type Action string

// The actions of a plan, in the order they appear in it.
const (
	ActMkdir    Action = "mkdir"    // create the old_roots directory
	ActRetire   Action = "retire"   // rename the root subvolume to old_roots/<name>
	ActCreate   Action = "create"   // create an empty root subvolume
	ActSnapshot Action = "snapshot" // create the root as a snapshot of Blank
	ActMark     Action = "mark"     // mark a fresh root an interrupted run made at an earlier boot as this boot's
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
	// Via is where ActCreate and ActSnapshot make the fresh root (FreshName)
	// and mark it with this boot's id before renaming it to Path, so that a
	// rerun never meets an unmarked fresh root at Path. Reuse is true when
	// an interrupted run left it there already: it is marked and renamed.
	Via   string `json:"via,omitempty"`
	Reuse bool   `json:"reuse,omitempty"`
	// ID is the subvolume id ActRetire and ActDelete expect at Path; Apply
	// refuses the step when another subvolume is there.
	ID uint64 `json:"id,omitempty"`
	// Done is set by Apply when the step was carried out: false for every
	// step of a dry run, and for the steps an interrupted or failed run did
	// not reach (or that failed).
	Done bool `json:"done"`

	// oldRoot is, for ActDelete, the old root the step deletes (part of),
	// oldRootID its subvolume id: a failed step skips the rest of that old
	// root only, and each step checks first that it still looks like a
	// root (Apply). parent and
	// parentID name the subvolume holding a nested one (the old root or
	// another nested subvolume, deleted after it): Apply makes it writable
	// first when it is read-only.
	oldRoot   string
	oldRootID uint64
	parent    string
	parentID  uint64
}

// String renders a step as one line of a dry run.
func (s Step) String() string {
	switch s.Action {
	case ActRetire:
		return fmt.Sprintf("retire  %s -> %s", s.Path, s.To)
	case ActSnapshot:
		if s.Reuse {
			return fmt.Sprintf("snapshot %s -> %s (the one an interrupted run made at %s)", s.From, s.Path, s.Via)
		}
		return fmt.Sprintf("snapshot %s -> %s", s.From, s.Path)
	case ActCreate:
		if s.Reuse {
			return fmt.Sprintf("create  %s (the one an interrupted run made at %s)", s.Path, s.Via)
		}
	case ActDelete:
		return fmt.Sprintf("delete  %s (subvolume %d)", s.Path, s.ID)
	case ActMark:
		return fmt.Sprintf("mark    %s as this boot's fresh root (made by an interrupted wipe, unused since)", s.Path)
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
	// Previous is true for the previous boot's root (PastBoot: the newest
	// managed old root dated before Options.Now, never the root now): the
	// one drift check compares with and drift restore --from latest reads.
	Previous bool `json:"previous"`
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
	// Notes say why the root is not retired (already wiped at this boot, a
	// fresh root nothing used, a root missing after an interrupted run):
	// what explains a plan with fewer steps than a wipe has.
	Notes []string `json:"notes"`
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
// root to old_roots/<its mtime, seed format>[.N], make a fresh root (empty
// or a snapshot of opts.Blank; made at FreshName, marked, renamed into
// place), and delete, nested subvolumes deepest first, every old root that
// is a verified subvolume directly in old_roots, looks like a root
// (rootLike: drift's mark, a booted root's mount points, or nothing but
// directories; any other is kept, and the plan says why), is at least KeepDays+1
// whole days old (OldRoot.Age: from its retirement when drift retired it,
// else the seed's rule), is not among the newest KeepMin, was not retired
// in this boot or by this run, and is not mounted. Age-based deletion is
// skipped when the clock is before the newest old root. The root is not
// retired when drift wipe made it at this boot, or made it at an earlier
// boot and it is still empty (a wipe stopped after making it; nothing used
// it): the last root retired is then kept, as it is when the root is
// missing (a wipe stopped after retiring it, at this boot or any other:
// the fresh root is made). Errors wrap ErrUnsafe when a target is wrong:
// Subvol or OldRoots a symlink, not a subvolume/directory, one inside the
// other; the root mounted (a wipe after the mount renames the running root); Blank missing, equal to or
// inside Subvol, or inside OldRoots; FreshName taken by something else;
// Subvol missing while no old root carries drift's mark of a retirement
// from it (a preview only warns); Subvol not a root (ErrNotRoot: checkRoot;
// a preview only warns); OldRoots persistent storage or a Nix store
// (ErrStorage: checkOldRoots, the same facts; a preview only warns). Other errors come from reading the filesystem.
func (t *Top) Plan(opts Options) (*Plan, error) {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Preview {
		opts.BootID = ""
	}
	if err := opts.clean(); err != nil {
		return nil, err
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
	p := &Plan{Options: opts, Steps: []Step{}, OldRoots: []Decision{}, Warnings: []string{}, Notes: []string{}}

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
	if err := t.checkOldRoots(p, existing, subs, mounted); err != nil {
		return nil, err
	}
	rs, err := t.planRoot(p, existing, subs, mounted)
	if err != nil {
		return nil, err
	}
	if opts.Blank != "" {
		// Checked whether or not this run creates the root: a --blank that
		// does not exist is a mistake every later boot would trip on.
		if _, ok := byPath[opts.Blank]; !ok {
			return nil, fmt.Errorf("%w: --blank %s: no such subvolume", ErrUnsafe, opts.Blank)
		}
	}
	if rs.create {
		st := Step{Action: ActCreate, Path: opts.Subvol, Via: FreshName(opts.Subvol), Reuse: rs.reuse}
		if opts.Blank != "" {
			st.Action, st.From = ActSnapshot, opts.Blank
		}
		p.Steps = append(p.Steps, st)
	}

	// Old roots after retirement, oldest first.
	for _, r := range existing {
		p.OldRoots = append(p.OldRoots, Decision{OldRoot: r})
	}
	if rs.retire != nil {
		p.OldRoots = append(p.OldRoots, *rs.retire)
	}
	slices.SortStableFunc(p.OldRoots, func(a, b Decision) int { return compareOldRoots(a.OldRoot, b.OldRoot) })
	p.decide(rs.protect)
	p.deleteSteps()
	return p, nil
}

// clean checks o's numbers and paths and cleans the paths (CleanRel):
// --subvol and --old-roots must not overlap, and --blank must outlive the
// wipe. Errors wrap ErrUnsafe for a path.
func (o *Options) clean() error {
	if o.KeepDays < 0 || o.KeepMin < 0 {
		return fmt.Errorf("keep-days %d and keep-min %d: want 0 or more", o.KeepDays, o.KeepMin)
	}
	var err error
	if o.Subvol, err = CleanRel("--subvol", o.Subvol); err != nil {
		return err
	}
	if o.OldRoots, err = CleanRel("--old-roots", o.OldRoots); err != nil {
		return err
	}
	if o.Subvol == o.OldRoots || within(o.Subvol, o.OldRoots) || within(o.OldRoots, o.Subvol) {
		return fmt.Errorf("%w: --subvol %q and --old-roots %q overlap", ErrUnsafe, o.Subvol, o.OldRoots)
	}
	if o.Blank != "" {
		if o.Blank, err = CleanRel("--blank", o.Blank); err != nil {
			return err
		}
		// The blank must outlive the wipe: the root is retired before the
		// snapshot is taken, and old_roots may lose it by age in the same plan.
		switch {
		case o.Blank == o.Subvol || within(o.Subvol, o.Blank):
			return fmt.Errorf("%w: --blank %q is (inside) --subvol %q: the wipe retires it before the fresh root is made from it", ErrUnsafe, o.Blank, o.Subvol)
		case o.Blank == o.OldRoots || within(o.OldRoots, o.Blank):
			return fmt.Errorf("%w: --blank %q is inside --old-roots %q: old roots are deleted by age, and the blank with them", ErrUnsafe, o.Blank, o.OldRoots)
		}
	}
	return nil
}

// deleteSteps adds the steps that delete the old roots decide marked:
// for each, its nested subvolumes deepest first (each naming the subvolume
// that holds it, made writable first when read-only), then itself.
func (p *Plan) deleteSteps() {
	for _, d := range p.OldRoots {
		if !d.Delete {
			continue
		}
		for i, n := range d.Nested {
			st := Step{Action: ActDelete, Path: n.Path, ID: n.ID, oldRoot: d.Path, oldRootID: d.ID, parent: d.Path, parentID: d.ID}
			best := ""
			for _, m := range d.Nested[i+1:] { // the enclosing ones come later (deepest first)
				if within(m.Path, n.Path) && len(m.Path) > len(best) {
					best, st.parent, st.parentID = m.Path, m.Path, m.ID
				}
			}
			p.Steps = append(p.Steps, st)
		}
		p.Steps = append(p.Steps, Step{Action: ActDelete, Path: d.Path, ID: d.ID, oldRoot: d.Path, oldRootID: d.ID})
	}
}

// decide fills Delete and Why of every old root. Subvolumes whose names are
// not old-root names (a manual-backup kept in old_roots), and those named
// like one that do not look like a root (NotRoot: a home snapshot named
// by its date), are not old roots drift manages: reported, kept, and
// neither counted for KeepMin nor for the clock check. protect is true when this run retires nothing because the
// root is missing or fresh: then the last root retired (the newest Age of
// the managed ones) holds the last boot's data and is kept.
func (p *Plan) decide(protect bool) {
	o := p.Options
	ds := p.OldRoots
	newest := time.Time{}
	last := -1
	for i, d := range ds {
		if d.managed() && d.NotRoot == "" && !d.Age.Before(newest) {
			newest, last = d.Age, i
		}
	}
	p.markPrevious()
	clockWrong := o.Now.Before(newest)
	if clockWrong {
		p.Warnings = append(p.Warnings, fmt.Sprintf("the clock (%s) is before the newest old root (%s): no old root is deleted by age this boot", o.Now.In(o.Location).Format(time.RFC3339), newest.Format(time.RFC3339)))
	}
	kept := 0 // subvolumes counted from the newest
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
		if not := d.NotRoot; not != "" { // managed: a subvolume
			d.Why = "kept: does not look like a root: " + not
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s does not look like a root: it %s: left alone, never deleted", d.Path, not))
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
		case protect && i == last:
			d.Why = "the last root retired: nothing has used the root since"
		case kept <= o.KeepMin:
			d.Why = fmt.Sprintf("among the newest %d (--keep-min)", o.KeepMin)
		case clockWrong:
			d.Why = "kept: the clock looks wrong"
		case !old:
			d.Why = d.ageWhy("not more than", o.KeepDays)
		case len(d.Mounted) > 0:
			d.Why = "mounted at " + strings.Join(d.Mounted, ", ") + ": kept"
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s is %s old but mounted at %s: not deleted", d.Path, units.Plural(int64(d.AgeDays), "whole day", "whole days"), strings.Join(d.Mounted, ", ")))
		default:
			d.Delete = true
			d.Why = d.ageWhy("more than", o.KeepDays)
		}
	}
}

// ageWhy is the Why of an old root kept or deleted by its age, both in
// the words of the one rule (DeleteAt: deleted once more than keepDays
// whole days old): "28 whole days old: not more than 30 (--keep-days)",
// "48 whole days old: more than 30 (--keep-days)"; cmp is "more than" or
// "not more than".
func (d *Decision) ageWhy(cmp string, keepDays int) string {
	return fmt.Sprintf("%s old: %s %d (--keep-days)", units.Plural(int64(d.AgeDays), "whole day", "whole days"), cmp, keepDays)
}

// markPrevious sets Previous on the previous boot's root among
// p.OldRoots, by the rule of PastBoot at Options.Now: in a preview the
// root now (Retired) is the live root, never a past boot's.
func (p *Plan) markPrevious() {
	roots := make([]OldRoot, len(p.OldRoots))
	retired := map[string]bool{}
	for i, d := range p.OldRoots {
		roots[i] = d.OldRoot
		retired[d.Path] = d.Retired
	}
	live := func(r OldRoot) bool { return p.Options.Preview && retired[r.Path] }
	r, ok := PreviousRoot(roots, []Kind{KindSubvolume}, PastBoot(live, p.Options.Now))
	for i := range p.OldRoots {
		p.OldRoots[i].Previous = ok && p.OldRoots[i].Path == r.Path
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
