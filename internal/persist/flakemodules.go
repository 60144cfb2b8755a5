package persist

import (
	"context"
	"fmt"
	"slices"

	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/persist/nix"
)

// flakeName is the file nixos-rebuild evaluates instead of
// configuration.nix when it lies in /etc/nixos.
const flakeName = "flake.nix"

// readFlakeModules reads the flake.nix data (named name) statically for
// the modules nixos-rebuild evaluates: the path literals of its `modules`
// lists (nixpkgs.lib.nixosSystem { modules = [ ./configuration.nix
// ./machine-extra.nix … ]; }) and `imports` lists, of every host (which
// one this machine is is not known: all count), as the set's Imports; the
// absolute paths its strings hold, and the files it reads (Texts), as a
// module's. A module a flake input exports (impermanence.nixosModules.
// impermanence) is a library of options: not read, an Info diagnostic. A
// module written in place is read with the file. Any other item (a
// variable, a function's result, self.nixosModules.x) is not followed:
// in NotFollowed, with the one warning every command gives. Errors: a
// syntax error, ctx's.
func readFlakeModules(ctx context.Context, name string, data []byte, opts Options) (set *Set, err error) {
	src := nix.NewSource(name, data, false)
	src.Ctx, src.Nix = ctx, true
	defer nix.RecoverCancelled(&err)
	ast, err := nix.Parse(src)
	if err != nil {
		return nil, err
	}
	r := newReader(src, opts, nil)
	r.readStrings(ast)
	var paths []Pos
	for _, it := range nix.ModuleItems(src, ast) {
		pos := r.pos(it.Off)
		switch {
		case it.Path != "":
			r.set.Imports = append(r.set.Imports, Import{Path: it.Path, Pos: pos})
			paths = append(paths, pos)
		case it.Input != "":
			r.set.Diagnostics = append(r.set.Diagnostics, Diagnostic{Pos: pos, Severity: Info,
				Message: fmt.Sprintf("modules: %s is a flake input's module (a library of options): not read", escape.Name(it.Input))})
		case it.Inline:
		default:
			r.set.NotFollowedImport(Import{Path: "a module of its modules list", Pos: pos}, "not a path literal: it cannot be read without Nix",
				"name the host with --flake REF#HOST (evaluated with Nix), or list the module by its path")
		}
	}
	texts := r.set.Texts[:0]
	for _, t := range r.set.Texts {
		if !slices.Contains(paths, t.Pos) {
			texts = append(texts, t)
		}
	}
	r.set.Texts = texts
	return r.set, nil
}
