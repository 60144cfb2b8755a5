package suggest

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/knowledge"
	"github.com/nix-drift/drift/internal/lint"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
)

// Options are drift suggest's own choices, besides the model.
type Options struct {
	// StoragePath is where new declarations go (--storage-path; "":
	// MainStoragePath of the declarations).
	StoragePath string
	// Now is the time recency is counted to.
	Now time.Time
	// Workers is the walkers' thread count (0: automatic).
	Workers int
}

// StorageError is a --storage-path drift cannot use (audit.Model.Unmounted:
// on no persistent mount, below a mount that is not mounted, a symlink):
// suggest refuses it rather than print declarations that keep nothing. Msg
// is the model's words (UnmountedError.Error).
type StorageError struct{ Path, Msg string }

func (e *StorageError) Error() string { return "--storage-path " + e.Path + ": " + e.Msg }

// Result is what drift suggest renders.
type Result struct {
	// StoragePath is where new declarations go.
	StoragePath string
	// Module is the NixOS module they are written for
	// (persist.Set.WriteFor: persist.Impermanence or persist.Preservation);
	// ModuleNote, when the configuration declares with both, says which
	// was chosen and why.
	Module, ModuleNote string
	// SaveAs is where --format nix asks its module to be saved
	// (ChooseModuleFile): never over a file that holds something.
	SaveAs ModuleFile
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
// persistent storage paths (Stray). Errors: ctx's, once it is done; a
// *StorageError when o.StoragePath is named and the model finds it unusable
// (audit.Model.Unmounted: declarations there keep nothing). The storage
// path the suggestions use is warned of once, in the model's words: by the
// audit when it is declared (drift check's warning), else here.
func Run(ctx context.Context, m *audit.Model, o Options) (*Result, error) {
	a := m.Audit
	r := &Result{StoragePath: o.StoragePath}
	if o.StoragePath != "" {
		if ue := m.Unmounted(o.StoragePath); ue != nil {
			return nil, &StorageError{Path: o.StoragePath, Msg: ue.Error()}
		}
	}
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
	old, hw, err := Histories(ctx, m, o.Workers)
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
	// A declared storage path the audit warned of already (drift check's
	// warning); this one, when no declaration uses it, is warned of here.
	if ue := m.Unmounted(r.StoragePath); ue != nil && !slices.Contains(m.Decls.StoragePaths(), r.StoragePath) {
		r.Warnings = append(r.Warnings, ue.Warning())
	}
	in := Input{Audit: a, Root: m.Root, Old: old, Knowledge: knowledge.Builtin(), Homes: m.Homes(), StoragePath: r.StoragePath, Now: o.Now, IDs: ids,
		Unpersistable: m.Unpersistable}
	r.Module, r.ModuleNote = m.Decls.WriteFor(r.StoragePath)
	r.SaveAs = ChooseModuleFile(m.Root, a.Args)
	r.Suggestions, r.Left = Suggest(in)
	r.Suggestions, r.Left = dropEarlier(ctx, m, r.SaveAs.Taken, r.Suggestions, r.Left)
	r.Suggestions, r.Left = lintFilter(a, r.Suggestions, r.Left, m.Decls, r.Module)
	// Stray walks the storage paths of the declarations other than /, and
	// only then weighs the uses: finding them resolves every lost symlink
	// (Model.Uses), a second look at a million paths for nothing.
	var uses []audit.Use
	if slices.ContainsFunc(m.Decls.Entries, func(e persist.Entry) bool { return e.StoragePath != "/" }) {
		uses = m.Uses(r.StoragePath)
	}
	stray, sw := Stray(ctx, m.Root, m.Decls, m.Homes(), uses, o.Workers)
	for _, w := range sw {
		// A storage path the model finds unusable (audit.Model.Unmounted:
		// a symlink, not mounted) is warned of once, by the model.
		if w.Kind != diff.WarnStorage || m.Unmounted(w.Path) == nil {
			r.Warnings = append(r.Warnings, w)
		}
	}
	mounted := m.MountedUntilLastBoot()
	prune := escape.DriftCommand([]string{"prune"}, m.Root, audit.PruneArgs(a.Args))
	for i := range stray {
		if stray[i].Action != DeclareOrRemove {
			continue
		}
		stray[i].Prune = prune
		if at, ok := mounted[stray[i].Path]; ok {
			stray[i].MountedUntil = at
		} else if m.MountedUntilAt(stray[i].Path, stray[i].LivePath) != "" {
			// A mount point on another persistent filesystem: nothing
			// vanished from the root (prune asks the same).
			stray[i].MountedUntil = stray[i].LivePath
		}
	}
	r.Suggestions = append(r.Suggestions, stray...)
	SortSuggestions(r.Suggestions)
	return r, nil
}

// suggestedAt marks the declarations made of suggestions, for lintFilter
// (persist.Pos.File).
const suggestedAt = "drift suggest"

// lintFilter drops the Persist suggestions whose declaration drift lint
// rejects with an error or warns about (a file inside the /var/lib/private
// suggested with it: file-in-directory), linted with the declarations decls as one
// configuration (internal/lint, the rules of drift lint), counting the
// lost paths of a they stand for in left (LeftLint), and numbers the rest
// again. Before that, a suggestion
// below /var/lib/private brings /var/lib/private with mode 0700 along when
// nothing declares it (private-parent-mode's fix: systemd refuses
// DynamicUser state under a 0755 /var/lib/private).
func lintFilter(a *diff.Audit, sugs []Suggestion, left []Left, decls *persist.Set, module string) ([]Suggestion, []Left) {
	sugs = withPrivateParent(sugs, decls)
	for {
		set := &persist.Set{}
		for _, s := range sugs {
			if s.Declares() {
				set.Entries = append(set.Entries, s.Entry(module))
			}
		}
		if len(set.Entries) == 0 {
			return sugs, left
		}
		rejected := map[string]bool{}
		for _, f := range lint.Check(lint.Config{Sets: []*persist.Set{decls, set}}, nil) {
			if f.Severity >= lint.Warning && f.Pos.File == suggestedAt && f.Path != "" {
				rejected[f.Path] = true
			}
		}
		if len(rejected) == 0 {
			return sugs, left
		}
		var drop Left
		dropped := false
		kept := sugs[:0:0]
		for _, s := range sugs {
			if s.Action == Persist && rejected[s.Path] {
				// Lost paths are counted; vanished ones stay in drift
				// check's VANISHED table, with its restore.
				dropped = true
				if len(s.items) > 0 {
					drop.Count += len(s.items)
					drop.Examples = append(drop.Examples, s.Path)
				}
				for _, i := range s.items {
					drop.Paths = append(drop.Paths, a.Lost[i].Path)
				}
				continue
			}
			kept = append(kept, s)
		}
		if !dropped {
			return sugs, left // a finding on no suggestion's path
		}
		sugs = kept
		SortSuggestions(sugs)
		if drop.Count > 0 {
			left = addLeft(left, LeftLint, drop)
		}
	}
}

// withPrivateParent adds /var/lib/private, mode 0700, to sugs when one of
// them lies below it and neither they nor decls declare it.
func withPrivateParent(sugs []Suggestion, decls *persist.Set) []Suggestion {
	const private = "/var/lib/private"
	below, sp := false, ""
	for _, s := range sugs {
		if s.Action == Persist && s.Path == private {
			return sugs
		}
		if s.Action == Persist && pathx.HasPrefix(s.Path, private) && s.Path != private {
			below, sp = true, s.StoragePath
		}
	}
	if !below || slices.ContainsFunc(decls.Entries, func(e persist.Entry) bool { return e.Path == private }) {
		return sugs
	}
	sugs = append(sugs, Suggestion{Action: Persist, Path: private, Kind: persist.Dir, StoragePath: sp,
		Attrs: &Attrs{User: "root", Group: "root", Mode: "0700"}, Confidence: Low,
		Evidence: []string{"the parent of the DynamicUser state suggested below it: systemd refuses that state under a /var/lib/private that is not 0700"}})
	SortSuggestions(sugs)
	return sugs
}

// Entry is the declaration a Persist suggestion stands for, as the reader
// reads what --format nix writes for module (persist.Impermanence or
// persist.Preservation), under StoragePath; users.<User> for a path in a
// home. A file's Attrs are its parent directory's: impermanence's
// parentDirectory, preservation's parent (which the reader does not keep:
// a preservation file's own user, group and mode stay the defaults).
func (s *Suggestion) Entry(module string) persist.Entry {
	e := persist.Entry{Kind: s.Kind, StoragePath: s.StoragePath, Path: s.Path,
		Origin: &persist.Origin{Module: module, User: "root", Group: "root", Mode: "0755"},
		Pos:    persist.Pos{File: suggestedAt}}
	if module == persist.Preservation && s.Kind == persist.File {
		e.Mode = "0644"
	}
	if s.User != "" {
		e.Owner, e.Home = s.User, s.Home
		e.SetRaw(s.Rel)
	}
	if s.Attrs != nil && (module != persist.Preservation || s.Kind != persist.File) {
		e.User, e.Group, e.Mode = s.Attrs.User, s.Attrs.Group, s.Attrs.Mode
	}
	return e
}
