package restore

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/persist"
)

// Options say what drift restore copies back from the model's old root
// (audit.Model.From) and where.
type Options struct {
	// Path is the live path (CleanPath); To where its copy goes.
	Path string
	To   Target
	// Force and DryRun are Request's.
	Force, DryRun bool
}

// Restored is what FromModel did.
type Restored struct {
	*Result
	// Entry is the declaration covering Path, Declared whether there is
	// one.
	Entry    persist.Entry
	Declared bool
	// Warnings are what the user should know, in order: Path not declared
	// (--to live), objects not copied, metadata not kept, a replaced
	// persistent copy still shown by its old bind mount. Messages name
	// paths unescaped.
	Warnings []diff.Warning
}

// FromModel restores o.Path from the model's old root (m.From, built with
// audit.Options.NoWalk and From) into its Destination under m.Root: the
// persistent storage covering it per m.Decls (mount points are crossed
// down to the storage path, which must be mounted as the configuration
// says: audit.Model.Unmounted), or, --to live, the path itself. The
// Restored is returned with its warnings even when the restore fails.
// Errors: *HintError (not declared, the storage path not mounted, Run's
// hints), Run's.
func FromModel(ctx context.Context, m *audit.Model, o Options) (*Restored, error) {
	p := o.Path
	out := &Restored{}
	dest, entry, declared, err := Destination(m.Decls, p, o.To)
	if errors.Is(err, ErrUndeclared) {
		return out, withHint(fmt.Errorf("%s is not declared: no persistent storage path covers it", escape.Name(p)),
			"declare it, or it is lost again at the next boot; --to live copies it back to the live root for now")
	}
	if err != nil {
		return out, err
	}
	out.Entry, out.Declared = entry, declared
	if !declared {
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
	res, err := Run(ctx, Request{From: m.From.Dir, FromName: m.FromName, Path: p, Root: m.Root, Dest: dest, Base: base, Force: o.Force, DryRun: o.DryRun})
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
	if declared && o.To == ToPersist && res.Replaced && dest == path.Clean(entry.Source()) {
		out.warn(diff.WarnSetup, dest, "%s is the persistent copy of a declared %s: a bind mount of it at %s goes on showing the replaced copy until it is mounted again (at the next boot)",
			path.Join(m.Root, dest), entry.Kind, entry.Path)
	}
	return out, nil
}

// warn adds a warning of kind about p.
func (r *Restored) warn(kind diff.WarningKind, p, format string, args ...any) {
	r.Warnings = append(r.Warnings, diff.Warning{Kind: kind, Path: p, Message: fmt.Sprintf(format, args...)})
}
