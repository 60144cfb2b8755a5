package persist

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/safefile"
)

// walkFile is a .nix file Discover read: its name on this machine, its
// path relative to the root, the tree it was found in (relative to the
// root), its identity and what it sets (nil when it could not be parsed).
type walkFile struct {
	name, rel, tree string
	id              FileID
	set             *Set
}

// other keeps a .nix file that declares nothing but has an imports list:
// it may import a declaring module, or be imported by one (withImports).
// A file that cannot be parsed is left out silently here: it is reported
// only when a declaring module's configuration includes it.
func (w *nixosWalk) other(rel string, id FileID, data []byte) {
	if !bytes.Contains(data, []byte("imports")) || len(data) > maxInput {
		return
	}
	name := w.r.name(rel)
	s, err := w.parses.module(context.Background(), id, name, data, w.opts)
	if err != nil {
		return
	}
	w.others = append(w.others, walkFile{name: name, rel: rel, tree: w.tree, id: id, set: s})
}

// withImports returns the files of the configuration: the declaring
// files, and every module joined to one of them by relative imports
// (imports = [ ./secrets.nix ./hardware-configuration.nix ]) in either
// direction: configuration.nix that imports ./impermanence.nix is part of
// it, and so is ./secrets.nix it imports, even when neither mentions
// persistence. Imports are followed as drift lint follows them: relative
// path literals, a .nix file or a directory's default.nix, beneath the
// tree the importing file was found in, never through a symbolic link
// (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS); each file once (by
// device and inode). Only the options the modules set are taken from the
// files that declare nothing (their Config; their diagnostics are not
// about persistence and are dropped); an imported file that cannot be read
// or parsed is a Warning diagnostic.
func (w *nixosWalk) withImports() []walkFile {
	files := append(append([]walkFile{}, w.found...), w.others...)
	index := map[FileID]int{}
	for i, f := range files {
		index[f.id] = i
	}
	edges := map[int][]int{}
	for i := 0; i < len(files); i++ {
		if files[i].set == nil {
			continue
		}
		for _, imp := range files[i].set.Imports {
			f, ok := w.importOf(files[i], imp)
			if !ok {
				continue
			}
			j, seen := index[f.id]
			if !seen {
				j = len(files)
				index[f.id] = j
				files = append(files, f)
			}
			edges[i] = append(edges[i], j)
			edges[j] = append(edges[j], i)
		}
	}
	in := make([]bool, len(files))
	var queue []int
	for i := range w.found {
		in[i] = true
		queue = append(queue, i)
	}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		for _, j := range edges[i] {
			if !in[j] {
				in[j] = true
				queue = append(queue, j)
			}
		}
	}
	out := append([]walkFile{}, w.found...)
	for i := len(w.found); i < len(files); i++ {
		if !in[i] {
			continue
		}
		if files[i].set == nil {
			continue // reported by importOf
		}
		out = append(out, walkFile{name: files[i].name, rel: files[i].rel, tree: files[i].tree, id: files[i].id,
			set: &Set{Config: files[i].set.Config, Imports: files[i].set.Imports, NotFollowed: files[i].set.NotFollowed}})
	}
	return out
}

// importOf opens the module imp of from names, beneath from's tree and
// without following a symbolic link (ReadImport, the one way imports are
// followed), and parses it, each once per command (w.parses: reach and
// withImports follow the same imports, a module imported by several is
// reached by each, and the configuration reader follows them again); ok
// is false when it
// is not followed (outside the tree, through a link, missing: the
// hardware-configuration.nix of a repository often is), with a Warning
// diagnostic added for a file that is there but cannot be read or parsed.
func (w *nixosWalk) importOf(from walkFile, imp Import) (walkFile, bool) {
	if w.r.plain {
		return walkFile{}, false
	}
	if from.tree == "" {
		return walkFile{}, false
	}
	tfd, err := w.treeFD(from.tree)
	if err != nil {
		return walkFile{}, false
	}
	got, err := readImportIn(w.parses, w.r.root, w.r.name(from.tree), tfd, from.name, imp, false)
	rel, _ := filepath.Rel(w.r.root, got.Name)
	wf := walkFile{name: got.Name, rel: rel, tree: from.tree, id: got.ID}
	data := got.Data
	if err != nil && !errors.As(err, new(*safefile.TooLargeError)) {
		return walkFile{}, false
	}
	if err == nil {
		wf.set, err = w.parses.module(context.Background(), wf.id, wf.name, data, w.opts.ForImport(imp))
	}
	if err != nil {
		var tl *safefile.TooLargeError
		msg := err.Error()
		if !errors.As(err, &tl) && !strings.Contains(msg, escape.Name(wf.name)) {
			msg = escape.Name(wf.name) + ": " + msg
		}
		w.diags = append(w.diags, Diagnostic{Pos: imp.Pos, Severity: Warning,
			Message: fmt.Sprintf("imports: %s cannot be read (%s): the options it sets are not read", escape.Name(imp.Path), msg)})
	}
	return wf, true
}

// keepImported keeps only the declaring files the tree they were found in
// has the system evaluate: the modules its flake.nix's hosts list
// (readFlakeModules; nixos-rebuild evaluates the flake when there is one,
// and which host is this machine is not known statically, so every host's
// count) or, without a flake, its configuration.nix (entryName), and what
// they import, directly or through other modules (imports followed as
// importOf follows them). A module lying in /etc/nixos that nothing
// imports — an old copy, a draft, a module drift suggest saved and the
// user did not import — declares nothing the system has: a Warning
// diagnostic names the files left out. When an import on the way cannot
// be read statically (NotFollowed: what it imports is not known), or the
// flake's hosts may evaluate modules it does not list by a path
// (entryFile.unknown), every declaring file is kept, and a Warning names those
// not reached, which are counted without being known to be imported. Every declaring file
// counts, as before, when the tree holds neither entry. The entry is read
// once per command (Parses.in): the configuration reader reads it there.
func (w *nixosWalk) keepImported(ctx context.Context) {
	if len(w.found) == 0 || w.r.plain {
		return
	}
	entry := w.parses.in(ctx, w.r, w.found[0].tree, w.opts)
	if entry == nil || entry.set == nil {
		return
	}
	// importOf's warnings are withImports' to give, once.
	diags := len(w.diags)
	reached, unknown := w.reach(*entry)
	w.diags = w.diags[:diags:diags]
	var kept []walkFile
	var left []string
	for _, f := range w.found {
		if reached[f.id] {
			kept = append(kept, f)
		} else {
			left = append(left, escape.Name(f.name))
		}
	}
	if len(left) == 0 {
		return
	}
	what := map[bool]string{true: "it declares", false: "they declare"}[len(left) == 1]
	by := escape.Name(entry.name)
	if path.Base(entry.rel) == flakeName {
		by += "'s hosts' modules"
	}
	if unknown != "" {
		w.diags = append(w.diags, Diagnostic{Severity: Warning,
			Message: fmt.Sprintf("%s not reached from %s (nor from a module it imports) as drift follows imports, and %s: read all the same, but if nothing imports %s, the system does not have what %s",
				strings.Join(left, ", "), by, unknown, map[bool]string{true: "it", false: "them"}[len(left) == 1], what),
			Hint: "name the declarations with --persist FILE, or the host with --flake REF#HOST (evaluated with Nix)"})
		return
	}
	w.found = kept
	w.diags = append(w.diags, Diagnostic{Severity: Warning,
		Message: fmt.Sprintf("%s not imported by %s (nor by a module it imports): not read, the system does not have what %s", strings.Join(left, ", "), by, what),
		Hint:    "import it from " + escape.Name(entry.name) + " if the system should have it, or remove it; --persist FILE reads a file anyway"})
}

// reach follows the imports of entry, and of the modules they name, as
// importOf follows them: the identities of the modules reached (entry's
// among them), and, when what entry includes may not all have been
// reached, why, for a warning ("" when it was): for a flake.nix, why its
// hosts may evaluate modules it does not list (entryFile.unknown), else
// the first import that could not be read statically.
func (w *nixosWalk) reach(entry entryFile) (reached map[FileID]bool, unknown string) {
	reached = map[FileID]bool{entry.id: true}
	unknown = entry.unknown
	for queue := []walkFile{entry.walkFile}; len(queue) > 0; queue = queue[1:] {
		f := queue[0]
		if len(f.set.NotFollowed) > 0 && unknown == "" {
			imp := f.set.NotFollowed[0]
			unknown = escape.Name(imp.Path) + " is not followed"
			if p := imp.Pos.String(); p != "" {
				unknown = escape.Name(imp.Path) + " at " + p + " is not followed"
			}
		}
		for _, imp := range f.set.Imports {
			g, ok := w.importOf(f, imp)
			if ok && g.set != nil && !reached[g.id] {
				reached[g.id] = true
				queue = append(queue, g)
			}
		}
	}
	return reached, unknown
}
