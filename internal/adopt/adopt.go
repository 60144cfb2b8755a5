package adopt

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/restore"
	"github.com/nix-drift/drift/internal/suggest"
	"golang.org/x/sys/unix"
)

// Prefer says which side wins where the persistent copy already holds an
// object with other bytes (--prefer).
type Prefer string

// The --prefer values; PreferNone refuses.
const (
	PreferNone       Prefer = ""
	PreferLive       Prefer = "live"
	PreferPersistent Prefer = "persistent"
)

// ParsePrefer reads a --prefer value: live, persistent, or "" for none.
func ParsePrefer(s string) (Prefer, error) {
	switch Prefer(s) {
	case PreferNone, PreferLive, PreferPersistent:
		return Prefer(s), nil
	}
	return "", fmt.Errorf("--prefer %q: expected live or persistent", s)
}

// Options say what to adopt and how.
type Options struct {
	// Paths are the live paths to adopt, absolute as the live system sees
	// them (Model.Root not included).
	Paths []string
	// Prefer decides objects that differ (restore.Request.OnDiffer).
	Prefer Prefer
	// DryRun plans and reports, changing nothing.
	DryRun bool
	// Mount bind-mounts the persistent copy of each adopted declared entry
	// over its live path once copied (as the next boot will), when it is
	// not mounted there yet.
	Mount bool
	// AllowOpen copies though running processes hold files under the paths
	// open; else Run refuses (*OpenError) before writing anything.
	AllowOpen bool
	// Copied, when set, is called after each object is written.
	Copied func(restore.Item)
}

// Path is what adopt did (or would do) for one of Options.Paths.
type Path struct {
	// Path is the live path; Decl the declaration covering it; Dest its
	// persistent copy (absolute as the live system sees it).
	Path string
	Decl persist.Entry
	Dest string
	// Ephemeral is the mount point of the wiped filesystem the data is read
	// from; HiddenBy, when set, the mount point whose mount hides the data
	// now (it is read beneath it).
	Ephemeral, HiddenBy string
	// Covered, when set, is the mount point of the persistent filesystem
	// the data is read from: the declared path is not mounted from its
	// persistent copy yet, and the next boot mounts the copy over it
	// (hidden from view; drift check's covered); or, with HiddenBy, the
	// copy is mounted and the data lies beneath that mount, hidden now
	// and not deleted.
	Covered string
	// Persistent, when set, says the path is not on a wiped filesystem: it
	// survives as it is, and nothing is adopted (the mount point showing
	// it). A path no declaration covers there is no refusal: it needs
	// none (Dest is then ""), unless an object lies at it on the wiped
	// filesystem beneath that mount (*HiddenUndeclaredError).
	Persistent string
	// Unseen, with Persistent and no declaration, is why drift did not
	// look beneath that mount for an object at Path on the wiped
	// filesystem it hides, whose mount point is then Ephemeral
	// (audit.Model.NoUnder: "--mountinfo", "--root-subvol none"): one
	// there is deleted at the next boot, and it is not known whether there
	// is. "" when it looked, or no wiped filesystem is beneath.
	Unseen string
	// Absent says there is nothing at Path to adopt.
	Absent bool
	// Owner, when set, is the owner and mode the declaration states for its
	// persistent directory (restore.DeclaredOwner): given to the copy when
	// adopt creates that directory, instead of the live directory's; Storage
	// gives them to it when adopt creates it as a parent of a path below
	// it (restore.ForDeclaration, the rule drift restore follows too).
	Owner   *restore.Owner
	Storage *restore.StorageDir
	// Parents, for a users.<name> or home-manager entry, owns the
	// directories adopt creates from the home's persistent copy down
	// (restore.UserParents): the user's, as the module makes them.
	Parents *restore.ParentOwner
	// Outcomes are restore.Merge's, their paths the live ones.
	Outcomes []restore.Outcome
	// KeptHidden says the Outcomes that keep the copy's object
	// (restore.Keep) keep it because the data was read beneath the mount
	// at HiddenBy while live mounts show the copy: what lies beneath is
	// hidden and stale (without --prefer persistent; --prefer live is
	// refused there, *BeneathError).
	KeptHidden bool
	// MountedNow says the persistent copy is mounted at Path (a bind mount
	// of Dest shows it) now; Mounted that --mount mounted it.
	MountedNow, Mounted bool
}

// Result is adopt's account, one Path per Options.Paths in order.
type Result struct {
	Paths []Path
	// Open are the files below the adopted paths that running processes
	// hold open.
	Open []OpenFile
	// Warnings are metadata that could not be kept and objects skipped
	// (fifos, sockets, devices), escaped by the renderer.
	Warnings []string
	// Notes are what the user should know of a copy made as asked, one
	// each (escaped by the renderer): the btrfs subvolumes copied into
	// the persistent copy as plain directories (plainSubvolumes).
	Notes []string
}

// UndeclaredError refuses a path no declaration covers: there is no
// persistent copy to adopt it into. Storage is the persistent storage path
// a declaration would use (the main one declared; "" when none); File says
// the path is a file (a files entry, not directories).
type UndeclaredError struct {
	Path, Storage string
	File          bool
	// Module is the NixOS module a declaration is written for
	// (persist.Set.WriteFor).
	Module string
}

// LinkError refuses a declared directory whose live path is a symlink
// (Target): impermanence and preservation bind-mount a directory at the
// declared path and never keep a link, so adopting the link would keep the
// link and lose the data it points at.
type LinkError struct {
	Path, Target string
}

// EtcLinkError refuses a declared path whose live object is a link NixOS
// activation makes into /etc/static at every boot
// (knowledge.EtcStaticLink): it holds no data, and a copy of it in
// persistent storage would stand in activation's way. The declaration is
// what is wrong.
type EtcLinkError struct {
	Path, Target string
}

func (e *EtcLinkError) Error() string {
	return fmt.Sprintf("%s is a link to %s that NixOS activation makes at every boot (environment.etc): it holds no data to adopt, and a copy of the link in persistent storage would stand in activation's way; nothing was copied", e.Path, e.Target)
}

func (e *LinkError) Error() string {
	return fmt.Sprintf("%s is a symlink to %s, and it is declared as a directory: its persistent copy would hold the link, not the data it points at (the next boot mounts a directory there)", e.Path, e.Target)
}

// KindError refuses a path declared as a file that is a directory on the
// live system (diff.DeclaredFileIsDir): copied, the directory would become
// the file's persistent copy, which the next boot's bind mount of a file
// cannot mount; drift check counts it and all it holds as lost.
type KindError struct {
	Path, Source string
}

func (e *KindError) Error() string {
	return fmt.Sprintf("%s is declared as a file but is a directory: copied into %s it could not be mounted as the file (a file's bind mount of a directory fails), and at the next boot it is wiped with the root", e.Path, e.Source)
}

func (e *UndeclaredError) Error() string {
	return fmt.Sprintf("%s: no declaration covers it, so it has no persistent copy", e.Path)
}

// Run adopts o.Paths on the machine m. Every path is planned before
// anything is written: a path no declaration covers (*UndeclaredError),
// whose persistent copy holds differing objects without o.Prefer
// (*restore.ConflictError), or that it changes (copies into, or mounts)
// while a running process holds a file below it open, without o.AllowOpen
// (*OpenError), refuses the whole run with nothing
// written; a dry run (o.DryRun) refuses as the real run would, with res
// planned. An undeclared path a persistent mount shows, with an object
// at it on the wiped filesystem beneath the mount, refuses the run too
// (*HiddenUndeclaredError, in an *audit.HintError).
// Errors are wrapped with the path; interruption is ctx's error, after
// which each object is either untouched or complete in the persistent copy.
func Run(ctx context.Context, m *audit.Model, o Options) (*Result, error) {
	res := &Result{}
	seen := map[string]bool{}
	for _, p := range o.Paths {
		cp, err := restore.CleanPath(p)
		if err != nil {
			return res, err
		}
		if !seen[cp] {
			seen[cp] = true
			res.Paths = append(res.Paths, Path{Path: cp})
		}
	}
	a := &adopter{m: m, o: o, res: res}
	// Plan every path: a refusal leaves everything untouched, and names
	// the differing objects of every path.
	var differs []restore.Outcome
	for i := range res.Paths {
		err := a.plan(ctx, &res.Paths[i])
		var ce *restore.ConflictError
		if errors.As(err, &ce) {
			differs = append(differs, ce.Differs...)
			continue
		}
		if err != nil {
			return res, err
		}
	}
	if len(differs) > 0 {
		return res, &restore.ConflictError{Differs: differs, Root: m.Root}
	}
	res.Open = openBelow(m.Root, res.Paths)
	if !o.AllowOpen {
		var busy []string
		for _, p := range res.Paths {
			if a.changes(&p) {
				busy = append(busy, p.Path)
			}
		}
		// res.Open, the one scan of /proc, kept to the paths that change.
		var held []OpenFile
		for _, f := range res.Open {
			if slices.ContainsFunc(busy, func(p string) bool { return pathx.Contains(p, f.Path) }) {
				held = append(held, f)
			}
		}
		if len(held) > 0 {
			return res, &OpenError{Open: held, DryRun: o.DryRun}
		}
	}
	if o.DryRun {
		return res, nil
	}
	for i := range res.Paths {
		if err := a.adopt(ctx, &res.Paths[i]); err != nil {
			return res, err
		}
	}
	return res, nil
}

type adopter struct {
	m   *audit.Model
	o   Options
	res *Result
}

// plan resolves p's declaration, persistent copy and data, and fills its
// outcomes as a dry run.
func (a *adopter) plan(ctx context.Context, p *Path) error {
	dest, e, _, err := restore.Destination(a.m.Decls, p.Path, restore.ToPersist)
	if errors.Is(err, restore.ErrUndeclared) {
		if m := a.m.KeptAt(p.Path); m != "" {
			// What the mount shows survives; what it hides on a wiped
			// filesystem does not, and no declaration keeps it.
			if err := a.hiddenUndeclared(p.Path, m); err != nil {
				var he *HiddenUndeclaredError
				if errors.As(err, &he) {
					return &audit.HintError{Err: he, Hint: he.Hint()}
				}
				return err
			}
			p.Persistent = m // on a filesystem the wipe keeps: nothing to declare
			if p.Unseen = a.unseenBeneath(p.Path, m); p.Unseen != "" {
				p.Ephemeral = a.ephemeralBelow(p.Path)
			}
			return nil
		}
		return a.undeclared(p.Path)
	}
	if err != nil {
		return err
	}
	// The refusals drift check knows too (diff.Audit.NotAdoptable): the
	// storage path unusable, p a mount point of another filesystem.
	switch err := a.m.Adoptable(p.Path, e, dest).(type) {
	case *audit.UnmountedError:
		// The copy would land beneath the storage's own filesystem.
		return &audit.HintError{Err: fmt.Errorf("%s: %w", p.Path, err), Hint: err.Hint()}
	case *audit.MountPointError:
		return &audit.HintError{Err: err, Hint: err.Hint()}
	}
	p.Decl, p.Dest = e, dest
	if err := a.deleted(p); err != nil {
		return err
	}
	p.MountedNow = a.mountedNow(p)
	st, warns := restore.ForDeclaration(a.m.Root, e, p.Path, dest)
	p.Owner, p.Storage, p.Parents = st.Top, st.Storage, st.Parents
	if p.Path == e.Path {
		a.res.Warnings = append(a.res.Warnings, warns...)
		if d := ownerDiffers(a.m.Root, dest, p.Owner); d != "" {
			a.res.Warnings = append(a.res.Warnings, fmt.Sprintf("the persistent copy %s already exists with %s: adopt leaves it as it is (chown/chmod it to match the declaration)", dest, d))
		}
	}
	return a.merge(ctx, p, true)
}

// changes reports whether adopting p writes an object (a copy or a
// replacement) or, with --mount, mounts its persistent copy.
func (a *adopter) changes(p *Path) bool {
	if p.Absent || p.Persistent != "" {
		return false
	}
	if a.o.Mount && !p.MountedNow && p.Path == p.Decl.Path {
		return true
	}
	for _, o := range p.Outcomes {
		if o.Action == restore.Copy || o.Action == restore.Replace {
			return true
		}
	}
	return false
}

// adopt writes p's plan, then mounts it with --mount.
func (a *adopter) adopt(ctx context.Context, p *Path) error {
	if p.Absent || p.Persistent != "" {
		return nil
	}
	if err := a.merge(ctx, p, false); err != nil {
		return err
	}
	if a.o.Mount && !p.MountedNow && p.Path == p.Decl.Path {
		if err := bindMount(a.m.Root, p.Dest, p.Path, p.Decl.StoragePath); err != nil {
			return fmt.Errorf("%s copied into %s, but not mounted: %w", p.Path, p.Dest, err)
		}
		p.Mounted, p.MountedNow = true, true
	}
	return nil
}

// merge runs restore.Merge for p from where its data really is.
func (a *adopter) merge(ctx context.Context, p *Path, dry bool) error {
	from, rel, release, err := a.source(p)
	if err != nil || from == "" {
		return err
	}
	defer release()
	base := p.Ephemeral
	if p.Covered != "" {
		base = p.Covered
	}
	// from may be a view beneath the mounts ("/proc/self/fd/N", which
	// means nothing to the user): restore's messages name the path as
	// the live system does instead.
	req := restore.Request{From: from, FromName: path.Join(a.m.Root, base), Path: rel, Root: a.m.Root, Dest: p.Dest, Base: p.Decl.StoragePath,
		DryRun: dry, Checked: !dry, SyncOnce: true, Copied: a.o.Copied, Merge: true, Command: "adopt", Top: p.Owner, Parents: p.Parents, Storage: p.Storage, Verify: true,
		ShownAt: a.m.ShownElsewhere, Subvolumes: true, PlainSubvolumes: restore.PlainInStorage(path.Join(a.m.Root, p.Decl.StoragePath))}
	switch a.o.Prefer {
	case PreferLive:
		req.OnDiffer = restore.Replace
	case PreferPersistent:
		req.OnDiffer = restore.Keep
	}
	shown := a.shownBeneath(p)
	if shown != nil {
		req.OnDiffer = restore.Keep // what a live mount shows never loses to what it hides
		p.KeptHidden = a.o.Prefer != PreferPersistent
	}
	if !pathx.HasPrefix(p.Dest, p.Decl.StoragePath) {
		req.Base = ""
	}
	out, err := restore.Merge(ctx, req)
	live := func(q string) string {
		r, _ := pathx.Rel("/", q)
		return path.Join(base, r)
	}
	for i := range out {
		out[i].Path = live(out[i].Path)
		if r := out[i].Result; r != nil && !dry {
			for _, s := range r.Skipped {
				a.res.Warnings = append(a.res.Warnings, fmt.Sprintf("%s not copied: %s", live(s.Path), s.Reason))
			}
			a.res.Warnings = append(a.res.Warnings, r.Warnings...)
		}
	}
	if dry || err == nil {
		p.Outcomes = out
		a.plainSubvolumes(out, req.PlainSubvolumes, dry)
	}
	if shown != nil && dry && err == nil {
		if err := a.keptBeneath(p, shown, out); err != nil {
			return err
		}
	}
	switch {
	case err == nil || errors.Is(err, ctx.Err()):
	case p.HiddenBy != "":
		err = fmt.Errorf("%s (read beneath the mount at %s): %w", p.Path, p.HiddenBy, err)
	default:
		err = fmt.Errorf("%s: %w", p.Path, err)
	}
	return err
}

// ephemeral says whether m is one of the filesystems the next boot wipes.
func (a *adopter) ephemeral(m *mounts.Mount) bool {
	for i := range a.m.Audit.Ephemeral {
		if a.m.Audit.Ephemeral[i].ID == m.ID {
			return true
		}
	}
	return false
}

// mountedNow says whether a mount at p's declared path, or above it below
// the declaration, shows the persistent copy: a bind mount whose source
// is the declaration's copy.
func (a *adopter) mountedNow(p *Path) bool {
	m := a.m.Mounts.At(p.Decl.Path)
	if m == nil {
		return false
	}
	src := path.Clean(p.Decl.Source())
	store := a.m.Mounts.Shows(src)
	return store != nil && mounts.SameFS(m, store) && path.Clean(m.Root) == path.Clean(store.SourcePath(src))
}

// undeclared builds the refusal of p.
func (a *adopter) undeclared(p string) error {
	e := &UndeclaredError{Path: p, Storage: suggest.MainStoragePath(a.m.Decls.Entries)}
	e.Module, _ = a.m.Decls.WriteFor(e.Storage)
	if st, err := fsys.StatIn(a.m.Root, p); err == nil {
		e.File = st.Mode&unix.S_IFMT != unix.S_IFDIR
	}
	return e
}
