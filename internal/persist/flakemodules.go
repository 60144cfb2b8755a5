package persist

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/persist/nix"
)

// flakeName is the file nixos-rebuild evaluates instead of
// configuration.nix when it lies in /etc/nixos.
const flakeName = "flake.nix"

// readFlakeModules reads the flake.nix data (named name) statically for
// the modules nixos-rebuild evaluates: the path literals of its `modules`
// lists (nixpkgs.lib.nixosSystem { modules = [ ./configuration.nix
// ./machine-extra.nix … ]; }) and `imports` lists, named by a variable let
// or rec binds to one too (nix.ModuleItems), of every host (which
// one this machine is is not known: all count), as the set's Imports; the
// absolute paths its strings hold, and the files it reads (Texts), as a
// module's. A module a flake input exports (impermanence.nixosModules.
// impermanence) is a library of options: not read, an Info diagnostic. A
// module written in place is read with the file. Any other item (a
// variable, a function's result, self.nixosModules.x) is not followed:
// in NotFollowed, with the one warning every command gives; so is the
// flake's hosts' modules as a whole when some may not be listed by a path
// (flakeModulesUnknown), and a host whose value lists no modules
// (nix.UnlistedHosts: mkHost "desk" beside hosts that list theirs): the
// configuration is then not read whole. unknown is the why of the import
// flakeModulesUnknown gave, as recorded ("" when it gave none): discovery
// says it. Errors: a syntax error, ctx's.
func readFlakeModules(ctx context.Context, name string, data []byte, opts Options) (set *Set, unknown string, err error) {
	if parsedHook != nil {
		parsedHook(name, true)
	}
	src := nix.NewSource(name, data, false)
	src.Ctx, src.Nix = ctx, true
	defer nix.RecoverCancelled(&err)
	ast, err := nix.Parse(src)
	if err != nil {
		return nil, "", err
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
			r.set.Diagnostics = append(r.set.Diagnostics, Diagnostic{Pos: pos, Severity: Info, Code: "flake-input",
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
	hint := "name the host with --flake REF#HOST (evaluated with Nix), or list its modules by their paths (nixosSystem { modules = [ ./configuration.nix ]; })"
	if imp, why := flakeModulesUnknown(name, r.set); why != "" {
		r.set.NotFollowedImport(imp, why, hint)
		return r.set, why, nil
	}
	for _, h := range nix.UnlistedHosts(src, ast) {
		what := "the modules of nixosConfigurations"
		if h.Name != "" {
			what = "the host " + h.Name + "'s modules"
		}
		r.set.NotFollowedImport(Import{Path: what, Pos: r.pos(h.Off)}, "its value lists no modules: they are built elsewhere, which cannot be read without Nix", hint)
	}
	return r.set, "", nil
}

// ReadConfigFile reads a file a command names as a configuration or part
// of one (drift lint's files, those of a directory it walks, --persist
// FILE), data read from name: a flake.nix is read as nixos-rebuild
// evaluates it, for the modules its hosts list (readFlakeModules: their
// paths are the set's Imports, followed as a module's imports are, and
// what cannot be followed is in NotFollowed with its warning); any other
// file as ReadData reads it. A flake.nix read as a module declares
// nothing: its modules lie inside its outputs function. Errors: ReadData's.
func ReadConfigFile(ctx context.Context, name string, data []byte, opts Options) (*Set, error) {
	return warned(readConfigFile(ctx, name, data, opts))
}

// readConfigFile is ReadConfigFile without the warnings of repeated paths.
func readConfigFile(ctx context.Context, name string, data []byte, opts Options) (*Set, error) {
	if path.Base(name) != flakeName || isJSON(name, data) {
		return readData(ctx, name, data, opts)
	}
	s, _, err := readFlakeModules(ctx, displayName(name), data, opts)
	return s, err
}

// flakeModulesUnknown says why the modules the hosts of a flake.nix
// (named name; s as readFlakeModules read it, before it records this) evaluate may not
// all be among those it lists by a path ("" when they are), with what is
// not followed, as Set.NotFollowed holds it: it lists none (its hosts
// are built by a function: mkHost "desk", nixosSystem (import
// ./hosts/desk.nix)), or it names a .nix file or a directory by a
// relative path outside a modules or imports list (mkHost ./hosts/laptop,
// import ./hosts), which may be a host's module. A file it reads
// otherwise (builtins.readFile ./key.pub) is not a module.
func flakeModulesUnknown(name string, s *Set) (imp Import, why string) {
	if len(s.Imports) == 0 {
		return Import{Path: "its hosts' modules", Pos: Pos{File: name}},
			escape.Name(name) + " lists no module by a path (nixosSystem { modules = [ ./configuration.nix ]; })"
	}
	for _, t := range s.Texts {
		if p := path.Clean(t.Path); strings.HasSuffix(p, ".nix") || path.Ext(p) == "" {
			return t, escape.Name(t.Path) + " at " + t.Pos.String() + " is named outside a modules list (a host's modules may be there)"
		}
	}
	return Import{}, ""
}
