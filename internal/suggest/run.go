package suggest

import (
	"context"
	"fmt"
	"time"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/diff"
)

// Options are drift suggest's own choices, besides the model.
type Options struct {
	// StoragePath is where new declarations go (--storage-path; "":
	// MainStoragePath of the declarations).
	StoragePath string
	// Homes maps users to their homes (--home).
	Homes map[string]string
	// Now is the time recency is counted to.
	Now time.Time
	// Workers is the walkers' thread count (0: automatic).
	Workers int
}

// Result is what drift suggest renders.
type Result struct {
	// StoragePath is where new declarations go.
	StoragePath string
	// OldRoots are the names of the old roots compared, newest first.
	OldRoots []string
	// Suggestions in report order (SortSuggestions), the stray data under
	// the storage paths among them; Left counts the unpersisted paths no
	// suggestion stands for, by reason.
	Suggestions []Suggestion
	Left        []Left
	// Warnings are what the audit warned about (its wipe verdict and alerts
	// first), then what weighing the suggestions did; IDWarnings the
	// trouble reading the audited root's user and group names (for
	// --verbose).
	Warnings   []diff.Warning
	IDWarnings []diff.Warning
}

// Run weighs the model m of a machine: its unpersisted paths against the
// knowledge base and its old roots (Suggest), and the stray data under its
// persistent storage paths (Stray). Errors: ctx's, once it is done.
func Run(ctx context.Context, m *audit.Model, o Options) (*Result, error) {
	a := m.Audit
	r := &Result{StoragePath: o.StoragePath}
	if msg := a.Wipe.Warning(); msg != "" {
		r.Warnings = append(r.Warnings, diff.Warning{Kind: diff.WarnWipe, Path: "/", Message: msg})
	}
	for _, al := range a.Alerts {
		r.Warnings = append(r.Warnings, diff.Warning{Kind: diff.WarnHistory, Path: al.Path, Message: al.Message})
	}
	r.Warnings = append(r.Warnings, a.Warnings...)
	if n := len(a.Errors); n > 0 {
		r.Warnings = append(r.Warnings, diff.Warning{Kind: diff.WarnUnreadable, Message: fmt.Sprintf("%d paths on the ephemeral side could not be read (drift check --verbose lists them): what they hold is not weighed", n)})
	}
	old, hw, err := Histories(ctx, a, m.Root, m.OldRoots.Roots, o.Workers)
	if err != nil {
		return nil, err
	}
	r.Warnings = append(r.Warnings, hw...)
	for _, x := range old {
		r.OldRoots = append(r.OldRoots, x.Root.Name)
	}
	ids, idWarnings := diff.ReadIDNames(m.Root)
	r.IDWarnings = idWarnings
	if r.StoragePath == "" {
		r.StoragePath = MainStoragePath(m.Decls.Entries)
	}
	if msg := StorageWarning(a, m.Mounts, r.StoragePath); msg != "" {
		r.Warnings = append(r.Warnings, diff.Warning{Kind: diff.WarnStorage, Path: r.StoragePath, Message: msg})
	}
	in := Input{Audit: a, Root: m.Root, Old: old, Knowledge: Builtin(), Homes: o.Homes, StoragePath: r.StoragePath, Now: o.Now, IDs: ids}
	r.Suggestions, r.Left = Suggest(in)
	linked := LinkedTargets(a, Storages(a, r.StoragePath))
	stray, sw := Stray(ctx, m.Root, m.Decls, linked, o.Workers)
	r.Warnings = append(r.Warnings, sw...)
	r.Suggestions = append(r.Suggestions, stray...)
	SortSuggestions(r.Suggestions)
	return r, nil
}
