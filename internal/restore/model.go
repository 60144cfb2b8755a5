package restore

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/units"
	"golang.org/x/sys/unix"
)

// Options say what drift restore copies back from the model's old root
// (audit.Model.From) and where.
type Options struct {
	// Path is the live path (CleanPath); To where its copy goes.
	Path string
	To   Target
	// Force and DryRun are Request's.
	Force, DryRun bool
	// BeneathMount restores a declared path from an old root of a boot
	// at which it showed its persistent copy (audit.Model.Persisted):
	// what lay beneath the bind mount (--beneath-mount). Without it, such
	// a restore is refused.
	BeneathMount bool
	// Copied is Request's (a test hook: TestHook).
	Copied func(Item)
}

// Restored is what FromModel did.
type Restored struct {
	*Result
	// Entry is the declaration covering Path, Declared whether there is
	// one.
	Entry    persist.Entry
	Declared bool
	// Warnings are what the user should know, in order: Path not declared
	// (--to live), objects not copied, metadata not kept, the declared
	// path not mounted from its copy now. Messages name paths unescaped.
	Warnings []diff.Warning
	// inStorage: the copy went into persistent storage, whose subvolumes
	// drift copied as plain directories (Request.PlainSubvolumes).
	inStorage bool
}

// FromModel restores o.Path from the model's old root (m.From, built with
// audit.NeedFacts and From) into its Destination under m.Root: the
// persistent storage covering it per m.Decls (mount points are crossed
// down to the storage path, which must be mounted as the configuration
// says: audit.Model.Unmounted), or, --to live, the path itself. The
// Restored is returned with its warnings even when the restore fails.
// The persistent directories it creates are the declaration's (its owner
// and mode, ForDeclaration), as drift adopt makes them.
// A declared path whose old root's boot showed its persistent copy
// (audit.Model.Persisted), --to live too where the live path shows that
// copy now (audit.Model.ShowsCopy), is refused unless o.BeneathMount: that boot's
// data is in the persistent copy, and the old root holds only what lay
// beneath the bind mount. An existing destination that a live mount
// shows elsewhere (audit.Model.ShownElsewhere: the persistent copy
// bind-mounted at its declared path) is never replaced: a *ShownError
// with the steps that unmount, restore and mount again. Errors:
// *HintError (not declared, the storage path not mounted, the old root's
// copy from beneath a mount, a destination a live mount shows, Run's
// hints), Run's.
func FromModel(ctx context.Context, m *audit.Model, o Options) (*Restored, error) {
	p := o.Path
	out := &Restored{}
	dest, entry, declared, err := Destination(m.Decls, p, o.To)
	kept := m.KeptAt(p) // the model's word on whether the live path survives the wipe
	if errors.Is(err, ErrUndeclared) {
		hint := "declare it, or it is lost again at the next boot; --to live copies it back to the live root for now"
		if kept != "" {
			hint = "it lies on the filesystem mounted at " + escape.Name(kept) + ", which the wipe keeps: --to live copies it back there, where it stays"
		}
		return out, withHint(fmt.Errorf("%s is not declared: no persistent storage path covers it", escape.Name(p)), hint)
	}
	if err != nil {
		return out, err
	}
	out.Entry, out.Declared = entry, declared
	if !declared && kept == "" {
		out.warn(diff.WarnSetup, p, "%s is not declared: declare it, or it is lost again at the next boot", p)
	}
	base := "" // --to live: mounts are crossed down to the live path's parent
	if sp := entry.StoragePath; o.To == ToPersist && (sp == "/" || dest == sp || strings.HasPrefix(dest, sp+"/")) {
		base = sp // below the persistent storage path, none
	}
	if base != "" && base != "/" {
		// The storage path is to be a mount that is not mounted now: the
		// copy would land beneath it.
		if ue := m.Unmounted(base); ue != nil {
			return out, withHint(fmt.Errorf("%s: %w", escape.Name(p), ue), ue.Hint())
		}
	}
	req := Request{From: m.From.Dir, FromName: m.FromName, Path: p, Root: m.Root, Dest: dest, Base: base, Force: o.Force, DryRun: o.DryRun,
		ShownAt: m.ShownElsewhere, Copied: o.Copied, Subvolumes: true}
	if sp := storageOf(m, p, dest, o.To); sp != "" {
		req.PlainSubvolumes, out.inStorage = PlainInStorage(path.Join(m.Root, sp)), true
	}
	if declared && o.To == ToPersist {
		// The persistent directories it creates, as drift adopt does.
		st, warns := ForDeclaration(m.Root, entry, p, dest)
		req.Top, req.Storage, req.Parents = st.Top, st.Storage, st.Parents
		for _, w := range warns {
			out.warn(diff.WarnSetup, p, "%s", w)
		}
	}
	// --to live writes through the bind mount that shows the persistent
	// copy at p, where there is one: checked as --to persist is.
	if declared && !o.BeneathMount && (o.To == ToPersist || m.ShowsCopy(p)) {
		err := beneathMount(ctx, m, req)
		if w := m.DeclaredThenWarning(); w != nil {
			out.Warnings = append(out.Warnings, *w)
		}
		if err != nil {
			return out, err
		}
	}
	if o.Force {
		if err := inUseBelow(m, p, dest); err != nil {
			return out, err
		}
	}
	res, err := Run(ctx, req)
	if err != nil {
		return out, err
	}
	out.Result = res
	for _, s := range res.Skipped {
		out.warn(diff.WarnUnreadable, s.Path, "%s not copied: %s", s.Path, s.Reason)
	}
	for _, w := range res.Warnings {
		out.warn(diff.WarnUnreadable, "", "%s", w)
	}
	out.plainSubvolumes(m.Root, p, o.DryRun)
	if declared && booted(m) && m.Mounts.At(entry.Path) == nil {
		out.notMounted(m, entry, p, o.To)
	}
	return out, nil
}

// inUseBelow refuses --force replacing dest (the destination of the live
// path p) when a file below it, there now, is one a mount shows or an
// option of the configuration names (audit.Model.UsesBelow: a sops-nix key
// file, a bind mount's source): the replacement would put the old root's
// bytes in its place, or pull it from under the mount. The user names that
// exact path to replace it (dest itself is not refused). A *HintError
// naming the path and what uses it.
func inUseBelow(m *audit.Model, p, dest string) error {
	for _, u := range m.UsesBelow(dest) {
		if u.Path == dest {
			continue
		}
		if _, err := fsys.StatIn(m.Root, u.Path); err != nil {
			continue
		}
		live := p + u.Path[len(dest):]
		return withHint(fmt.Errorf("--force would replace %s, in use: %s", escape.Name(path.Join(m.Root, u.Path)), escape.Name(u.By)),
			"restore what the copy lacks path by path, without --force; to replace that file, run this restore naming it ("+escape.Name(live)+") in place of "+escape.Name(p))
	}
	return nil
}

// beneathMount refuses req when the old root's boot showed the declared
// path's persistent copy at req.Path (audit.Model.Persisted): the old
// root's object there is the mount point or what lay hidden under it, and
// the persistent copy holds that boot's data. The old root's object is
// planned first (its errors come first: not in the old root, a symlink)
// and described in the refusal ("an empty file", "an empty directory",
// or its size).
func beneathMount(ctx context.Context, m *audit.Model, req Request) error {
	end := m.From.Time
	if m.From.Parsed {
		// The time in an old root's name is to the second: its boot ended
		// within the second after it.
		end = end.Add(time.Second)
	}
	pe := m.Persisted(req.Path, end)
	if pe == nil {
		return nil
	}
	// The plan describes the old root's object: a mount showing the
	// destination elsewhere is refused after this refusal, which comes
	// first (the restore would bring back nothing of that boot's data).
	req.DryRun, req.Force, req.ShownAt = true, true, nil
	plan, err := Run(ctx, req)
	if err != nil {
		return err
	}
	hint := pe.Hint()
	if plan.Replaced {
		hint += " --force (replacing " + describeDest(m.Root, req.Dest) + ")"
	}
	return withHint(fmt.Errorf("%w: here %s", pe, describePlan(plan)), hint)
}

// describePlan says what a dry run would copy, in the refusal's words:
// "an empty file", "an empty directory" (a mount point), "a 6-byte file",
// else its count of files and directories and its size.
func describePlan(r *Result) string {
	files, dirs := int64(0), int64(0)
	for _, it := range r.Items {
		switch it.Kind {
		case KindDir:
			dirs++
		case KindFile, KindHardlink:
			files++
		}
	}
	switch {
	case len(r.Items) == 1 && files == 1 && r.Bytes == 0:
		return "an empty file (the mount point)"
	case len(r.Items) == 1 && dirs == 1:
		return "an empty directory (the mount point)"
	case len(r.Items) == 1 && files == 1 && r.Bytes < 1024:
		return fmt.Sprintf("a %d-byte file", r.Bytes)
	case len(r.Items) == 1 && files == 1:
		return "a file of " + units.Bytes(r.Bytes)
	}
	return fmt.Sprintf("%s (%s), %s", units.Plural(files, "file", "files"), units.Bytes(r.Bytes), units.Plural(dirs, "directory", "directories"))
}

// describeDest is the size of what is at dest under root now, for the
// hint: "33 B", or "a directory" (lstat'ed beneath root, fsys.StatIn:
// never through a symlink, whatever dest's length).
func describeDest(root, dest string) string {
	st, err := fsys.StatIn(root, dest)
	if err != nil {
		return path.Join(root, dest)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return "the directory " + path.Join(root, dest)
	}
	return path.Join(root, dest) + ", " + units.Bytes(st.Size)
}

// booted reports whether the mount table shows the audited system booted
// with its declarations mounted: a mount at its root and at the path of
// at least one declaration. A system mounted for rescue, or a directory
// with no mounts, shows none, and its declarations' mounts are not
// missing.
func booted(m *audit.Model) bool {
	if m.Mounts == nil || m.Decls == nil || m.Mounts.At("/") == nil {
		return false
	}
	for _, e := range m.Decls.Entries {
		if m.Mounts.At(e.Path) != nil {
			return true
		}
	}
	return false
}

// notMounted warns that the declared path e.Path is not mounted from its
// persistent copy now (no mount there in the mount table): a restore into
// the copy (to ToPersist) shows at p only once the copy is mounted, at
// the next boot; one to the live path lies on the root, where the copy's
// mount hides it and the wipe takes it.
func (r *Restored) notMounted(m *audit.Model, e persist.Entry, p string, to Target) {
	cp := path.Join(m.Root, path.Clean(e.Source()))
	if to == ToLive {
		r.warn(diff.WarnSetup, p, "%s is declared, but its persistent copy %s is not mounted at %s now: the restored copy lies on the root, which the next boot wipes and hides under that mount; restore into the copy (--to persist) to keep it", p, cp, e.Path)
		return
	}
	r.warn(diff.WarnSetup, p, "%s is not mounted from its persistent copy %s now: %s shows what was restored once the copy is mounted there (at the next boot, or a switch to the configuration that declares it)", e.Path, cp, p)
}

// warn adds a warning of kind about p.
func (r *Restored) warn(kind diff.WarningKind, p, format string, args ...any) {
	r.Warnings = append(r.Warnings, diff.Warning{Kind: kind, Path: p, Message: fmt.Sprintf(format, args...)})
}

// plainSubvolumes warns of each btrfs subvolume of the old root that the
// restore copies (or, dryRun, would copy) as a plain directory
// (Result.SubvolumesPlain): the data is all there, but what needs a
// subvolume (its own snapshots, a container manager's) does not find one.
// p is the live path restored; each warning is about the live path of
// the subvolume.
func (r *Restored) plainSubvolumes(root, p string, dryRun bool) {
	if r.SubvolumesPlain == "" {
		return
	}
	verb := "restored"
	if dryRun {
		verb = "would be restored"
	}
	tail := ": its files are all there; if it is to be a subvolume, make one (btrfs subvolume create) on btrfs and move them into it"
	if r.inStorage {
		tail = ": its files are all there"
	}
	for _, it := range r.Items {
		if it.Subvolume {
			r.warn(diff.WarnSetup, p+strings.TrimPrefix(it.Dest, r.Dest), "%s is a btrfs subvolume in the old root, %s as a plain directory (%s)%s",
				path.Join(root, it.Dest), verb, r.SubvolumesPlain, tail)
		}
	}
}

// PlainInStorage is why a btrfs subvolume copied into the persistent
// storage path sp (as the user sees it, --root included) is a plain
// directory there (Request.PlainSubvolumes, Result.SubvolumesPlain): a
// snapshot of a subvolume, which is what btrfs backups of persistent
// storage take (btrbk, snapper), holds an empty directory where a
// subvolume nested in it is, so a nested subvolume would be silently
// left out of every backup.
func PlainInStorage(sp string) string {
	return "in the persistent storage " + sp + ": a snapshot of it, as backups take, would leave a nested subvolume out"
}

// storageOf is the persistent storage path (as declared) the copy of the
// live path p at dest goes into, "" when none: dest is at or below one
// (--to persist), or, --to live, p shows its persistent copy through a
// live mount, which the copy is then written through.
func storageOf(m *audit.Model, p, dest string, to Target) string {
	for _, sp := range m.Decls.StoragePaths() {
		if pathx.Contains(sp, dest) {
			return sp
		}
	}
	if to == ToLive && m.ShowsCopy(p) {
		if e, ok := m.Decls.Covering(p); ok && e.StoragePath != "/" {
			return e.StoragePath
		}
	}
	return ""
}
