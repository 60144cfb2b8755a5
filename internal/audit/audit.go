package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/knowledge"
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/units"
)

// Options say what system to audit and how: the flags drift check and
// drift suggest share.
type Options struct {
	// Root is the directory audited as / (--root): absolute, clean, an
	// existing directory (the caller checks).
	Root string
	// Persist, Flake, Stdin and Homes say where the declarations come from
	// (persist.Load: --persist files, - for Stdin; --flake REF#HOST;
	// --home NAME=PATH).
	Persist []string
	Flake   string
	Stdin   io.Reader
	Homes   map[string]string
	// Mountinfo is --mountinfo, a mount table file ("": the live
	// /proc/self/mountinfo, which describes real mounts: only then does
	// the audit look beneath mount points, find old roots by itself and
	// check the wipe; "-": read from Stdin, which then holds no
	// declarations: the caller lets one input read it).
	Mountinfo string
	// LiveMountinfo, with Mountinfo "", is the file read as the live mount
	// table in place of /proc/self/mountinfo (tests: the table of the
	// host an audit runs on, not the test runner's).
	LiveMountinfo string
	// Ephemeral (--ephemeral), Ignore (--ignore, --ignore-file; nil for
	// none) and Workers are diff.Config's.
	Ephemeral []string
	Ignore    *diff.Ignore
	Workers   int
	// RootSubvol is --root-subvol: auto, none or a subvolume path in the
	// top level. NoOpenTree makes open_tree(2) fail as before Linux 5.2
	// (tests).
	RootSubvol string
	NoOpenTree bool
	// OldRoots is --old-roots: auto, none or a directory of old roots.
	OldRoots string
	// Previous asks for the previous boot's root (drift check), which the
	// lost set is compared with, and the older roots of the last
	// DefaultBoots boots, which only the paths the same in it are (Regen);
	// otherwise the old roots of the last Boots boots are found (drift
	// suggest --boots; 0: none), the first of them the previous boot's.
	Previous bool
	Boots    int
	// Uncompared finds the old roots (Model.Previous) without comparing
	// the root with them: no history, no vanished walk (drift prune looks
	// up its strays there: Model.MountedUntilAt).
	Uncompared bool
	// CheckWipe asks whether the wipe ran at this boot (drift check), and
	// whether the NixOS module's stage-1 wipe left a mark of its failure:
	// only done on the running system (Root "/", the live mount table). Boot,
	// when set, stands in for diff.CurrentBoot (tests: --boot-time,
	// --boot-id).
	CheckWipe bool
	Boot      func() (diff.Boot, error)
	// Paths asks for every lost path, even below a directory lost whole
	// (the paths formats, drift suggest); without it and without old roots, such
	// directories stand for their contents (diff.Config.Collapse).
	Paths bool
	// Need is the part of the model the command reads: NeedAll (the zero
	// value: walked and classified), NeedMounts or NeedFacts.
	Need Need
	// Progress and Now are diff.Config's.
	Progress func(visited, bytes int64)
	Now      time.Time
	// From, with NeedFacts, is drift restore's --from: latest, or an old
	// root's name in the directory FromOldRoots (relative to the top level
	// of the btrfs filesystem behind FromDevice, else behind Root), or the
	// directory of an old root; Model.From is the old root it names.
	From, FromDevice, FromOldRoots string
	// Say, when set, is given what the audit finds to say before the model
	// is complete, in order: notes (for --verbose) and warnings.
	Say func(Said)
}

// Need is a part of the model a command asks Build for. Every model holds
// the declarations and where they came from, the mount table, the trusted
// /etc/fstab, the ephemeral mounts (Model.Ephemeral) and the facts the
// writing commands refuse through (Model.Unmounted, Model.Persisted); the
// parts differ in what else is read, each larger one holding the smaller.
type Need int

const (
	// NeedAll is the whole model (drift check, suggest, prune, rehearse,
	// adopt --pending): the view beneath the mount points (Under), the old
	// roots, the boot, and every path walked and classified (Audit.Lost),
	// with every warning.
	NeedAll Need = iota
	// NeedMounts is the model as for a walk that walks nothing (drift adopt
	// PATH…, which reads only its paths): Audit with its ephemeral mounts
	// (Audit.Ephemeral), the warnings about the mounts and the view beneath
	// the mount points (Under), but Audit.Lost empty (diff.Config.MountsOnly)
	// and no warning about partial copies (adopt removes them as it copies).
	NeedMounts
	// NeedFacts is the model without Audit (drift restore): Model.Audit and
	// Under are nil; no old root is looked for but the one Options.From
	// names (Model.From), and nothing is read beneath the mount points.
	NeedFacts
)

// Said is something Build says on the way: a warning; a note for
// --verbose (Note set, Warning.Kind empty); or a diagnostic of reading the
// declarations (Diagnostic set: its severity says whether it is shown
// without --verbose).
type Said struct {
	Note       bool
	Diagnostic *persist.Diagnostic
	diff.Warning
}

// Model is the machine as drift's commands see it.
type Model struct {
	// Root is Options.Root.
	Root string
	// Decls are the declarations read, Sources the names of what was read
	// (files, the flake, ROOT/etc/drift/declarations.json …).
	Decls   *persist.Set
	Sources []string
	// Mounts is the mount table, relative to Root.
	Mounts *mounts.Table
	// OldRoots are the old roots found, newest first by real time, each
	// with its Dir readable while the Model is open; OldRoots.Roots[0] is
	// the previous boot's root (Audit.PreviousRoot). OldRoots.Count is -1
	// when none was looked for.
	OldRoots btrfs.Recent
	// From is the old root Options.From names, its Dir readable while the
	// Model is open; FromName names it in messages when Dir is a private
	// mount the user never sees ("/dev/vda2:/old_roots/NAME"; "" when Dir
	// is the directory the user named).
	From     *btrfs.OldRoot
	FromName string
	// Audit is the classification of every path (diff.Check), with the
	// wipe verdict, the history against the previous boot's root, and the
	// warnings said on the way (Options.Say) after its own.
	Audit *diff.Audit
	// Partials are the partial copies that killed drift restore and drift
	// adopt runs left, on the wiped root or in persistent storage, by path
	// (Partial): none without Audit, nor with NeedMounts.
	Partials []Partial
	// Fstab are the mounts of the audited system's /etc/fstab (NixOS writes
	// its fileSystems there), in file order; the next boot makes them again.
	Fstab []FSEntry
	// SaidWarnings counts the warnings at the end of Audit.Warnings that
	// were said on the way (Options.Say) already.
	SaidWarnings int
	// Under is the view beneath the mount points (nil when the audit does
	// not look beneath them: --mountinfo, --root-subvol none): given a
	// mount point of Mounts, the directory that shows that mount's
	// filesystem without the mounts on it, and its release. It reads the
	// top level through the Model: call it before Close.
	Under btrfs.UnderFunc
	// NoUnder says, when Under is nil in a model that walks (NeedAll,
	// NeedMounts), why drift does not look beneath the mount points: the
	// flag that says so, "--mountinfo" (an injected mount table describes
	// no mounts drift can look beneath) or "--root-subvol none".
	NoUnder string

	top *btrfs.LazyTop
	// read are the options the declarations were read with: the --home
	// flags, and the texts and parses of the configuration's modules
	// (persist.Parses), which ReadModule reads again without reading them.
	read persist.Options
	// thens are the declarations each old root's boot ran with
	// (DeclaredThen) by the old root's directory, each read at the first
	// question about it (thenOf): the previous root the audit compares
	// with and From are one fact when they are one directory. thenMu
	// guards it and the facts' warned.
	thens  map[string]*thenFact
	thenMu sync.Mutex
	// live is the live mount table whole (nil with --mountinfo): Mounts
	// before it is made relative to Root, what the top level is found in.
	live *mounts.Table
	// ephemeral are the mounts whose contents the next boot throws away
	// (diff.Audit.Ephemeral; without the walk, classified the same way).
	ephemeral []mounts.Mount
	// deleted are the mounts whose root was deleted (diff.Audit.Deleted).
	deleted []diff.DeletedMount
	// inUse is what is mounted and referenced (uses); mountPoints is
	// MountPoints.
	inUse       []Use
	mountPoints []string
	// mx indexes mountPoints, the declared paths and the ephemeral
	// mounts (mountIx): made at the first question after the audit.
	mx     *mountIndex
	mxOnce sync.Once
	// storage is Unmounted's answer per declared storage path
	// (judgeStorage).
	storage map[string]*UnmountedError
	// mountedElsewhere: the live mount table (no --mountinfo) and a --root
	// other than /: the audited root is mounted here, not running (a
	// rescue system), and what is not mounted under it says nothing of
	// its next boot (unavailableStorage).
	mountedElsewhere bool
	// homes is Homes.
	homes map[string]string
	// older are the old roots past the previous boot's compared before the
	// walk (compareOlder), parallel to OldRoots.Roots (the first unused);
	// nil when none was.
	older []olderRoot
	// discovered: the declarations were found in Root (no --persist, no
	// --flake), so Sources are the configuration's files.
	discovered bool
}

// Close releases the top level the old roots are read through. The Model's
// directories are unreadable after it.
func (m *Model) Close() {
	if m != nil && m.top != nil {
		m.top.Close()
	}
}

// HintError is an error with a hint on what to do about it.
type HintError struct {
	Err  error
	Hint string
}

func (e *HintError) Error() string { return e.Err.Error() }
func (e *HintError) Unwrap() error { return e.Err }

// Build reads the declarations, the mount table and the old roots of
// o.Root and classifies every path. Errors: reading the declarations or
// the mount table (persist.Load, mounts.ReadFile), --root-subvol
// (HintError), diff.ErrNotImpermanent (a HintError naming what to point
// drift at), interruption (ctx's error); not finding old roots is a
// warning, not an error. Close the Model when done.
func Build(ctx context.Context, o Options) (*Model, error) {
	say := o.Say
	if say == nil {
		say = func(Said) {}
	}
	// One Parses for every read of the configuration this command makes:
	// this one, and ReadModule's.
	read := persist.Options{Homes: o.Homes, Parses: persist.NewParses()}
	set, sources, err := persist.Load(ctx, o.Root, o.Persist, o.Flake, o.Stdin, read)
	if err != nil {
		return nil, persistDirHint(err)
	}
	// The readers' tables and the parse are garbage now (but for the
	// modules read.Parses keeps for ReadModule, none over 1 MiB). Collected
	// here (a mark of what is kept: the entries and their text), the heap the
	// classification grows into starts from what is kept, not from it and
	// the garbage (a million declarations: 200 -> 160 MiB peak RSS, see
	// scripts/bench-decls.sh); a few declarations cost a millisecond.
	runtime.GC()
	if o.Mountinfo != "" && o.RootSubvol != "auto" && o.RootSubvol != "none" && o.RootSubvol != "" {
		return nil, fmt.Errorf("--root-subvol %s: needs the live mount table, not --mountinfo", o.RootSubvol)
	}
	table, live, err := loadMounts(ctx, o.Root, o.Mountinfo, o.LiveMountinfo, o.Stdin)
	if err != nil {
		return nil, err
	}
	m := &Model{Root: o.Root, Decls: set, Sources: sources, Mounts: table, live: live, top: btrfs.NewLazyTop(ctx, o.Root, live), read: read}
	m.discovered = len(o.Persist) == 0 && o.Flake == ""
	m.homes = homesOf(o.Homes, set)
	for _, s := range sources {
		say(Said{Note: true, Warning: diff.Warning{Message: "declarations from " + s}})
	}
	say(Said{Note: true, Warning: diff.Warning{Message: fmt.Sprintf("%s, %s at or below %s", units.Plural(int64(len(set.Entries)), "declared path", "declared paths"), units.Plural(int64(len(table.Mounts)), "mount", "mounts"), o.Root)}})
	sayDiagnostics(set.Diagnostics, say)
	build := m.build
	if o.Need == NeedFacts {
		build = m.facts
	}
	if err := build(ctx, o, say); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// facts reads what a model without a walk holds (NeedFacts): the
// trusted /etc/fstab and the old root Options.From names.
func (m *Model) facts(ctx context.Context, o Options, say func(Said)) error {
	m.readFstab(say)
	m.ephemeral = m.ephemeralMounts(ctx, o)
	m.judgeStorage()
	m.inUse = m.uses()
	if o.From == "" {
		return nil
	}
	return m.findFrom(ctx, o)
}

func (m *Model) build(ctx context.Context, o Options, say func(Said)) error {
	early := m.readFstab(say)
	warn := func(kind diff.WarningKind, msg string) {
		w := diff.Warning{Kind: kind, Message: msg}
		early = append(early, w)
		say(Said{Warning: w})
	}
	note := func(msg string) { say(Said{Note: true, Warning: diff.Warning{Message: msg}}) }
	live := o.Mountinfo == ""
	m.mountedElsewhere = live && m.Root != "/" && m.Root != ""
	var err error
	cfg := diff.Config{Root: m.Root, Mounts: m.Mounts, Decls: m.Decls, Ephemeral: append(slices.Clone(o.Ephemeral), m.configuredTmpfs()...), Ignore: o.Ignore, Workers: o.Workers, Now: o.Now, Progress: o.Progress}
	cfg.Remounted, cfg.Homes, cfg.HomeManagerHomes = m.remounted(), m.homeDirs(), m.homeManagerHomes()
	if live {
		// The live mount table describes real mounts: look under them.
		if cfg.Under, err = rootSubvolUnder(o.RootSubvol, btrfs.ViewOptions{Root: m.Root, Table: m.Mounts, Top: m.top, NoOpenTree: o.NoOpenTree}); err != nil {
			return err
		}
		if cfg.Under == nil && o.Previous {
			note("--root-subvol none: not looking under mount points (files hidden under them are not reported)")
		}
		if o.CheckWipe && m.Root == "/" {
			cfg.Boot = o.Boot
			if cfg.Boot == nil {
				cfg.Boot = diff.CurrentBoot
			}
		}
	}
	m.findOldRoots(o, live, warn, note)
	var blank string
	if live {
		blank = m.blank(warn) // opens the top level
	}
	readable(&m.OldRoots, m.top)
	if err := m.compareOlder(ctx, o); err != nil {
		return err
	}
	if blank != "" {
		cfg.Blank, cfg.BlankName = m.top.Join(blank), blank
	}
	if len(m.OldRoots.Roots) > 0 && !o.Uncompared {
		cfg.PreviousRoot = &m.OldRoots.Roots[0]
		then := m.thenOf(cfg.PreviousRoot.Dir)
		cfg.PreviousDecls = then.set
		if w := m.unwarned(then); w != nil {
			warn(w.Kind, w.Message)
		}
	}
	// Rows, totals and metrics need no path below a directory lost whole
	// (with a previous root, diff.Check lists what is below one whose
	// history is not uniform); the paths formats do.
	cfg.Collapse = !o.Paths
	cfg.MountsOnly = o.Need == NeedMounts
	a, err := diff.Check(ctx, cfg)
	if errors.Is(err, diff.ErrNotImpermanent) {
		declErrs := declErrors(m.Decls.Diagnostics)
		if len(m.Sources) > 0 && len(m.Decls.Entries) == 0 {
			err = fmt.Errorf("%w: the declarations read (%s) hold no persisted path%s", err, strings.Join(m.Sources, ", "), declErrs)
		}
		hint := "point drift at the declarations (--persist FILE, --flake REF#HOST), at the system (--root DIR), or name the wiped filesystem (--ephemeral MOUNTPOINT)"
		switch h := m.oldNixosHint(o.args()); {
		case declErrs != "":
			hint = "correct the declarations where the error says, and run drift again; or " + hint
		case h != "":
			hint = h + "; or " + hint
		}
		return &HintError{Err: err, Hint: hint}
	}
	if err != nil {
		return err
	}
	if !cfg.Collapse {
		// Every lost path is kept; the walk's scaffolding (per-directory
		// state, the lists the lost set was ordered from) is garbage now.
		// Collected here, its memory serves what reads the model (drift
		// suggest: 861 -> 315 MiB peak on 1,000,000 paths, with the
		// weighing's own savings) instead of the heap growing past it.
		runtime.GC()
	}
	if err := m.judgeRegen(ctx, a, cfg.Homes, o.Workers); err != nil {
		return err
	}
	m.ephemeral, m.deleted = a.Ephemeral, a.Deleted
	m.markMountedCopies(a)
	m.judgeStorage()
	storageWarnings := m.unmountedWarnings()
	if w, ok := m.unjudged(a); ok {
		// One warning says the storage is not there and what that
		// leaves unjudged.
		gone := m.unavailableStorage()
		storageWarnings = slices.DeleteFunc(storageWarnings, func(x diff.Warning) bool { return slices.Contains(gone, x.Path) })
		storageWarnings = append(storageWarnings, w)
	}
	a.Warnings = append(a.Warnings, storageWarnings...)
	if o.Need != NeedMounts {
		// drift adopt (NeedMounts) removes them itself as it copies.
		m.findPartials(ctx, a, o.args())
		a.Warnings = append(a.Warnings, m.PartialWarnings()...)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if live && o.CheckWipe && m.Root == "/" {
		// The running system: did the NixOS module's stage-1 wipe fail?
		if w, ok := wipeFailureWarning(wipeFailedMark); ok {
			a.Warnings = append([]diff.Warning{w}, a.Warnings...)
		}
	}
	a.Args = o.args()
	a.BootSecrets = m.Decls.Config.Secrets()
	var ws []diff.Warning
	a.NotAdoptable, a.Unusable, ws = m.notAdoptable()
	a.Warnings = append(a.Warnings, ws...)
	if w, ok := m.wipedSources(a); ok && !cfg.MountsOnly {
		a.Warnings = append(a.Warnings, w)
	}
	// The warnings said on the way last: SaidWarnings counts them from the
	// end (a warning appended after them was not printed, and one of them
	// was printed twice).
	a.Warnings = append(a.Warnings, early...)
	m.Audit, m.SaidWarnings, m.Under = a, len(early), cfg.Under
	switch {
	case !live:
		m.NoUnder = "--mountinfo"
	case cfg.Under == nil:
		m.NoUnder = "--root-subvol none"
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.inUse, m.mountPoints = m.uses(), m.MountPoints()
	return ctx.Err()
}

// Homes maps each user whose home the model knows to that home: --home
// NAME=PATH, then the home of the declarations' users.<name> and
// home-manager entries (persist.Entry.Owner and Home) of the users --home
// does not name, then users.users.<name>.home of the other users that
// are not system users (homesOf), leaving out a home knowledge.CheckHome
// refuses (a declaration's home may be /var/lib or /: a home there would
// make the system's state a user's). The one source of the homes
// besides /root and /home/NAME (knowledge.HomeOf's defaults): drift
// check's (diff.Config.Homes and diff.Audit.Homes, the directories: the
// WHY of a lost path matches the knowledge base in its home) and drift
// suggest's (the users.<name> a path in a home is declared under, and the
// same match). The caller must not modify the map.
func (m *Model) Homes() map[string]string { return m.homes }

// homesOf is Homes for --home flags and the declarations set: then the
// users.users.<name>.home of the configuration read, for a user that is
// not a system user (isSystemUser: a service's state directory is no
// home) and has no home otherwise known, when it is not NixOS's default
// (persist.DefaultHome, which every command assumes without it: root's
// /root stays the system's, its paths declared as system paths).
func homesOf(flags map[string]string, set *persist.Set) map[string]string {
	out := map[string]string{}
	for u, h := range flags {
		if knowledge.CheckHome(h) == nil {
			out[u] = h
		}
	}
	for _, e := range set.Entries {
		if _, ok := out[e.Owner]; !ok && e.Owner != "" && e.Home != "" && knowledge.CheckHome(e.Home) == nil {
			out[e.Owner] = e.Home
		}
	}
	if set.Config != nil {
		for _, u := range set.Config.Users {
			h := filepath.Clean(u.Home)
			if _, ok := out[u.Name]; !ok && !u.System && u.Home != "" && h != persist.DefaultHome(u.Name) && knowledge.CheckHome(h) == nil {
				out[u.Name] = h
			}
		}
	}
	return out
}

// homeDirs are the directories of Homes, sorted, each once.
func (m *Model) homeDirs() []string {
	out := slices.Sorted(maps.Values(m.homes))
	return slices.Compact(out)
}

// args are the flags besides --root that name what o audits: the
// declarations (--persist FILE; standard input cannot be named again and is
// left out, as --mountinfo - is), --flake, --mountinfo, --home and
// --ephemeral, in that order, as flag and value words (not quoted). Every path on this machine is
// made absolute (absPath), as --root is: a printed command runs from any
// directory.
func (o Options) args() []string {
	var out []string
	for _, p := range o.Persist {
		if p != "-" {
			out = append(out, "--persist", absPath(p))
		}
	}
	if o.Flake != "" {
		out = append(out, "--flake", absFlake(o.Flake))
	}
	if o.Mountinfo != "" && o.Mountinfo != "-" {
		out = append(out, "--mountinfo", absPath(o.Mountinfo))
	}
	for _, name := range slices.Sorted(maps.Keys(o.Homes)) {
		out = append(out, "--home", name+"="+o.Homes[name])
	}
	for _, e := range o.Ephemeral {
		out = append(out, "--ephemeral", e)
	}
	return out
}

// absPath is p made absolute against the working directory (p as given
// when that fails).
func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// absFlake is the flake reference ref with a relative path made absolute:
// ".#host", "./dir#host", "../dir", "path:./dir#host" (a path flake
// reference starts with "." or "/"; others, github:… or a registry name,
// are left as they are).
func absFlake(ref string) string {
	scheme, rest := "", ref
	if r, ok := strings.CutPrefix(ref, "path:"); ok {
		scheme, rest = "path:", r
	}
	if !strings.HasPrefix(rest, ".") {
		return ref
	}
	p, frag, hasFrag := strings.Cut(rest, "#")
	p = absPath(p)
	if hasFrag {
		p += "#" + frag
	}
	return scheme + p
}

// blank is the blank snapshot the wipe makes the root from
// (persist.Initrd.WipeBlank: services.drift.wipe.blank, or --blank in the
// stage-1 wipe command), relative to the top level, which it opens; ""
// when none is configured or the top level cannot be opened (warned).
func (m *Model) blank(warn func(diff.WarningKind, string)) string {
	if m.Decls.Config == nil {
		return ""
	}
	b := m.Decls.Config.Initrd.WipeBlank()
	if b.Value == "" {
		return ""
	}
	rel, err := btrfs.CleanRel("the wipe's blank snapshot", b.Value)
	if err != nil {
		warn(diff.WarnSetup, fmt.Sprintf("%v (%s): what it brings back at boot is counted lost", err, b.Pos))
		return ""
	}
	if _, err := m.top.Get(); err != nil {
		warn(diff.WarnUnreadable, fmt.Sprintf("cannot read the blank snapshot %s the wipe makes the root from (%s): %v: what it brings back at boot is counted lost", rel, b.Pos, err))
		return ""
	}
	return rel
}
