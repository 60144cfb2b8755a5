package persist

import (
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/units"
	"golang.org/x/sys/unix"
)

// entryName is the module nixos-rebuild evaluates without a flake: the
// entry point of a configuration.
const entryName = "configuration.nix"

// Configuration is what Load read of the system's configuration, whose
// options name what is in use (Config.References: password files, host
// and secret keys, bind mounts' sources).
type Configuration struct {
	// Flake is --flake's REF#HOST: an evaluated configuration, whole.
	Flake string
	// Entry is the configuration.nix read with its imports (its name on
	// this machine): one named with --persist, else the system's own
	// (machineConfiguration: its flake.nix when it has one, with the
	// modules the flake's hosts list); "" when none was.
	Entry string
	// Looked says where the system's configuration.nix was looked for
	// when none was found.
	Looked string
	// Files are the modules of the system's configuration read for their
	// options (its configuration.nix and what it imports).
	Files []string
	// Unreadable says why a module of the system's configuration could
	// not be read ("" when all were).
	Unreadable string
}

// Whole reports whether the configuration s was read from is the system's
// whole configuration, so that no option naming a path in use can have
// been missed: evaluated (--flake), or a configuration.nix (named with
// --persist, or the system's own) with every import of every module read
// followed (Set.NotFollowed empty; a missing hardware-configuration.nix
// aside) and every value read statically (no "not-static" diagnostic: a
// list built with map may hold declarations), and no option set to a
// string that could not be read and may name a path below a storage path
// (PartialBelowStorage: "/nix/persist/${config.x}" may be in use). why
// says, when it is not, what is missing, in words a user acts on.
func (s *Set) Whole() (whole bool, why string) {
	c := s.Configuration
	if c.Flake != "" {
		return true, ""
	}
	var miss []string
	if c.Entry == "" {
		miss = append(miss, "no "+entryName+" was read ("+c.Looked+")")
	}
	if c.Unreadable != "" {
		miss = append(miss, c.Unreadable)
	}
	for _, imp := range s.NotFollowed {
		at := ""
		if p := imp.Pos.String(); p != "" {
			at = " (" + p + ")"
		}
		miss = append(miss, "the import "+escape.Name(imp.Path)+at+" was not followed")
	}
	// A value drift could not read statically may hold declarations (a
	// list built with map, a module behind a function call): what it
	// declares is not known.
	var unread []Diagnostic
	for _, d := range s.Diagnostics {
		if d.Code == "not-static" && !slices.ContainsFunc(s.NotFollowed, func(i Import) bool { return i.Pos == d.Pos }) {
			unread = append(unread, d)
		}
	}
	if len(unread) > 0 {
		miss = append(miss, fmt.Sprintf("%s could not be read statically (first: %s: %s)", units.Plural(int64(len(unread)), "value", "values"), unread[0].Pos, unread[0].Message))
	}
	if r, sp, ok := s.PartialBelowStorage(); ok {
		miss = append(miss, fmt.Sprintf("%s (%s) is a string that could not be read statically and may name a path below %s: %s",
			r.Option, r.Pos, escape.Name(sp), escape.Text(r.Path)))
	}
	return len(miss) == 0, strings.Join(miss, "; ")
}

// PartialBelowStorage is the first option value of Config.Partial whose
// known text may continue into a path at or below a storage path of s or
// of the modules read for their options (MayNameBelow), with that storage
// path; ok is false when there is none.
func (s *Set) PartialBelowStorage() (r Ref, storage string, ok bool) {
	if s.Config == nil || len(s.Config.Partial) == 0 {
		return Ref{}, "", false
	}
	storages := s.StoragePaths()
	for _, e := range s.Config.Declared {
		if e.StoragePath != "/" && !slices.Contains(storages, e.StoragePath) {
			storages = append(storages, e.StoragePath)
		}
	}
	for _, r := range s.Config.Partial {
		if sp, ok := MayNameBelow(r.Path, storages); ok {
			return r, sp, true
		}
	}
	return Ref{}, "", false
}

// MayNameBelow reports whether the partly known string text (Config.Partial:
// each unknown part written ${…}) may name a path at or below one of
// storages, and which: a known part that ends in an absolute path at or
// below a storage path ("/nix/persist/${…}", "/nix/persist/vault${…}"), or
// in a directory holding one other than / ("/nix/${…}"), is continued by
// a part that is not known, so the path it names is not known. A path the
// known text holds whole ("${pkgs.x}/bin/x --data /nix/persist/x") is
// not: it is read as it is written (Config.Strings).
func MayNameBelow(text string, storages []string) (string, bool) {
	pieces := strings.Split(text, "${…}")
	for _, piece := range pieces[:len(pieces)-1] {
		tail := piece[strings.LastIndexFunc(piece, func(c rune) bool {
			return c <= ' ' || c == 0x7f || strings.ContainsRune(pathCut, c)
		})+1:]
		if !strings.HasPrefix(tail, "/") {
			continue
		}
		p := path.Clean(tail)
		for _, sp := range storages {
			if pathx.HasPrefix(p, sp) || p != "/" && pathx.HasPrefix(sp, p) {
				return sp, true
			}
		}
	}
	return "", false
}

// machineConfiguration reads, for the options it sets, the system's own
// configuration at root: etc/nixos/flake.nix when there is one (what
// nixos-rebuild evaluates then: readFlakeModules, the modules its hosts
// list), else etc/nixos/configuration.nix (what nixos-rebuild
// evaluates without a flake), else the flake.nix or configuration.nix of the first
// persisted copy of etc/nixos (persistedNixos: a rescue mount of the root
// alone), resolved inside root, with the modules it imports
// (followImports, beneath its directory). Only their Config is kept, of
// the modules not in loaded (read already as declarations), with their
// declarations as Config.Declared (in use, not declared); imports not
// followed are the set's NotFollowed, with their diagnostics. A module
// that cannot be parsed is Configuration.Unreadable (and a Warning), not
// an error: the declarations named are still read. Each module is read
// and parsed once per command (p: discovery's, when it read it). Errors:
// ctx's.
func machineConfiguration(ctx context.Context, p *Parses, root string, opts Options, loaded map[FileID]bool) (*Set, Configuration, error) {
	out, c := &Set{}, Configuration{}
	r, err := openRoot(root)
	if err != nil || r.plain {
		if err == nil {
			r.close()
		}
		c.Looked = "reading " + filepath.Join(root, nixosDir) + " needs openat2(2), Linux 5.6"
		return out, c, nil
	}
	defer r.close()
	regular := func(rel string) bool {
		st, err := r.stat(rel)
		return err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG
	}
	dirs := []string{nixosDir}
	if !regular(path.Join(nixosDir, entryName)) && !regular(path.Join(nixosDir, flakeName)) {
		dirs = append(dirs, r.persistedNixos()...)
	}
	for _, dir := range dirs {
		// nixos-rebuild evaluates the flake when there is one.
		e := p.in(ctx, r, dir, opts)
		if e == nil {
			continue
		}
		if e.unread {
			c.Entry, c.Unreadable = e.name, fmt.Sprintf("%s cannot be read (%v)", escape.Name(e.name), e.err)
			return out, c, nil
		}
		tfd, err := r.open(dir, unix.O_PATH|unix.O_DIRECTORY)
		if err != nil {
			c.Entry, c.Unreadable = e.name, fmt.Sprintf("%s cannot be opened (%v)", escape.Name(r.name(dir)), err)
			return out, c, nil
		}
		defer unix.Close(tfd)
		c.Entry = e.name
		err = c.read(ctx, p, root, tfd, r.name(dir), *e, out, loaded, opts)
		return out, c, err
	}
	c.Looked = "none in " + r.name(nixosDir) + " nor in a persisted copy of it"
	return out, c, nil
}

// read follows the imports of the entry (parsed, or why not: its set is
// nil) beneath treeFD (named tree; an absolute import inside root),
// adding the Config of each module not in loaded to out; a module that
// cannot be parsed is Unreadable and a Warning of out. The modules are
// read and parsed through p. Errors: ctx's.
func (c *Configuration) read(ctx context.Context, p *Parses, root string, treeFD int, tree string, e entryFile, out *Set, loaded map[FileID]bool, opts Options) error {
	entry := module{name: e.name, id: e.id}
	unreadable := func(err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c.Unreadable = err.Error()
		out.Diagnostics = append(out.Diagnostics, Diagnostic{Pos: Pos{File: entry.name}, Severity: Warning,
			Message: fmt.Sprintf("the system's configuration cannot be read whole (%v): the paths its options name are not known to be in use", err)})
		return nil
	}
	if e.err != nil {
		return unreadable(e.err)
	}
	entry.set = e.set // a copy (Parses), which readTexts adds to
	// Beneath the tree only, as Discover's walk decides what declares.
	mods, err := followImports(ctx, p, root, treeFD, tree, entry, map[FileID]bool{entry.id: true}, opts, out, false)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return unreadable(err)
	}
	for _, m := range append([]module{entry}, mods...) {
		c.Files = append(c.Files, m.name)
		if !loaded[m.id] {
			// Read as declarations already, else: what it could
			// not import is missing from the configuration.
			out.NotFollowed = append(out.NotFollowed, m.set.NotFollowed...)
			for _, d := range m.set.Diagnostics {
				if d.Code == "not-static" && slices.ContainsFunc(m.set.NotFollowed, func(i Import) bool { return i.Pos == d.Pos }) {
					out.Diagnostics = append(out.Diagnostics, d)
				}
			}
		}
		if loaded[m.id] && m.set.Config != nil {
			// Read as declarations already, without the files it reads
			// (readTexts): what they name is in use all the same, and
			// one not read leaves the configuration not read whole.
			for _, imp := range m.set.NotFollowed {
				if slices.ContainsFunc(m.set.Texts, func(t Import) bool { return t.Pos == imp.Pos }) {
					out.NotFollowed = append(out.NotFollowed, imp)
					for _, d := range m.set.Diagnostics {
						if d.Code == "not-static" && d.Pos == imp.Pos {
							out.Diagnostics = append(out.Diagnostics, d)
						}
					}
				}
			}
			for _, ref := range m.set.Config.Strings {
				if ref.Pos.File != m.name {
					if out.Config == nil {
						out.Config = &Config{}
					}
					out.Config.Strings = append(out.Config.Strings, ref)
				}
			}
		}
		if !loaded[m.id] && (m.set.Config != nil || len(m.set.Entries) > 0) {
			if out.Config == nil {
				out.Config = &Config{}
			}
			out.Config.Merge(m.set.Config)
			out.Config.Declared = append(out.Config.Declared, m.set.Entries...)
		}
	}
	return nil
}

// discoveredConfig is what the .nix files Discover would read at root set
// (the modules of etc/nixos, or of its persisted copy, that declare
// persistence, and those joined to them by imports: a flake's
// hosts/NAME/ modules too), for when the declarations were named
// (--persist, --flake) and Discover did not run: only their Config, of
// the files not in loaded, which then holds them, with their declarations
// (Config.Declared). nil when none is read;
// what Discover would warn about is not said (the declarations were
// named). What the walk reads and parses is p's.
func discoveredConfig(p *Parses, root string, opts Options, loaded map[FileID]bool) *Config {
	r, err := openRoot(root)
	if err != nil {
		return nil
	}
	defer r.close()
	w := &nixosWalk{r: r, seen: map[FileID]bool{}, opts: opts, parses: p}
	defer w.closeTrees()
	if w.nixos() != nil {
		return nil
	}
	var out *Config
	for _, f := range w.withImports() {
		if loaded[f.id] || f.set == nil || f.set.Config == nil && len(f.set.Entries) == 0 {
			continue
		}
		loaded[f.id] = true
		if out == nil {
			out = &Config{}
		}
		if f.set.Config != nil {
			out.Merge(f.set.Config)
		}
		out.Declared = append(out.Declared, f.set.Entries...)
	}
	return out
}
