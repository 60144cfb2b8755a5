package persist

import (
	"context"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"

	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/safefile"
	"golang.org/x/sys/unix"
)

// Load reads every declaration source a command names and merges them:
// each of files (nix eval JSON, raw entries or a .nix file; "-" is stdin,
// which may be nil for os.Stdin), a .nix file with the modules it imports
// by relative path literals beneath its directory (followImports, as drift
// lint follows them: --persist configuration.nix reads the whole
// configuration; a file read already, named twice or imported by an
// earlier one, is read once), then the flake output flake (EvalFlake)
// when not "".
// With neither, it reads root/etc/drift/declarations.json when it exists,
// else the .nix files under root/etc/nixos that declare persistence
// (Discover, which resolves links inside root; a link that leads nowhere
// there, the declarations file's included, is a warning in the set's
// diagnostics).
//
// In every case the system's own configuration at root is read too, for
// the options it sets (their Config; what they declare is not merged into
// the set's Entries but kept as Config.Declared, in use): the .nix
// files Discover reads (discoveredConfig, when the declarations were
// named) and its configuration.nix with its imports
// (machineConfiguration): what is in use is the machine's, whichever
// module the declarations were named by. The set's
// Configuration says what was read of it (Set.Whole).
//
// Each .nix module of the configuration (the walk's, an import, the
// entry) is read and parsed once: by every reader above through one
// Parses, opts.Parses when set (then once per command, for every Load
// given it with the same Homes), else Load's own. A file named in files
// is read on its own.
//
// It returns the merged set and the names of the sources read ("--flake
// REF#HOST" for the flake; the modules imported by a named file after it),
// and the first error; one reading a file of files (not found, not a
// regular file, too large) starts "--persist: ", a parse error names file
// and line.
func Load(ctx context.Context, root string, files []string, flake string, stdin io.Reader, opts Options) (*Set, []string, error) {
	set := &Set{}
	var sources []string
	loaded := map[FileID]bool{}
	p := opts.Parses.forOptions(opts) // every module read once, by every reader below
	for _, f := range files {
		data, id, again, err := readNamed(ctx, p, f, stdin, loaded)
		if err != nil {
			if ctx.Err() == nil {
				// Named with --persist: said as --mountinfo's and
				// --ignore-file's are (a parse error names file and line).
				err = fmt.Errorf("--persist: %w", err)
			}
			return nil, nil, err
		}
		if again {
			continue
		}
		// The walk of etc/nixos reads the file too; stdin is read alone.
		// Each is warned of its repeats below again, once merged.
		var s *Set
		if f == "-" {
			s, err = readConfigFile(ctx, f, data, opts)
		} else {
			s, err = p.namedFile(ctx, id, f, data, opts)
		}
		if err != nil {
			return nil, nil, err
		}
		sources = append(sources, f)
		if f != "-" {
			imported, err := withImports(ctx, p, root, f, id, s, loaded, opts)
			if err != nil {
				return nil, nil, err
			}
			sources = append(sources, imported...)
			if filepath.Base(f) == entryName && set.Configuration.Entry == "" {
				set.Configuration.Entry = f
			}
		}
		set.Merge(s)
	}
	if flake != "" {
		s, err := EvalFlake(ctx, flake, opts)
		if err != nil {
			return nil, nil, err
		}
		set.Merge(s)
		sources = append(sources, "--flake "+flake)
	}
	if len(files) == 0 && flake == "" {
		s, found, ids, err := discover(ctx, root, opts, p)
		if err != nil {
			return nil, nil, err
		}
		for _, id := range ids {
			loaded[id] = true
		}
		set.Merge(s)
		sources = append(sources, found...)
	}
	if len(files) > 0 || flake != "" {
		// What discovery knows of the machine's configuration, for what
		// is in use, whichever file the declarations were named by.
		if c := discoveredConfig(p, root, opts, loaded); c != nil {
			set.Merge(&Set{Config: c})
		}
	}
	machine, c, err := machineConfiguration(ctx, p, root, opts, loaded)
	if err != nil {
		return nil, nil, err
	}
	set.Merge(machine)
	c.Flake = flake
	SettleHomes(set) // users.users of every file read, the machine's too
	dropReadAnyway(root, set, loaded)
	set.warnRepeats()
	if len(set.Entries) > 0 || len(set.Storage) > 0 {
		// One module declaring speaks for the configuration.
		set.Diagnostics = slices.DeleteFunc(set.Diagnostics, noneFound)
	}
	if named := set.Configuration.Entry; named != "" {
		c.Entry = named
	}
	set.Configuration = c
	return set, sources, nil
}

// withImports follows the imports of the module s read from the file name
// (whose identity is id; followImports beneath its directory, and beyond
// it: ../common.nix is read; an absolute import inside root) and merges
// what they declare and set into s; loaded gets the identity of every
// file read. The modules are read and parsed through p. It returns the
// names of the modules read.
func withImports(ctx context.Context, p *Parses, root, name string, id FileID, s *Set, loaded map[FileID]bool, opts Options) ([]string, error) {
	loaded[id] = true
	if len(s.Imports) == 0 {
		return nil, nil
	}
	tree := filepath.Dir(name)
	tfd, err := fsys.OpenRoot(tree)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tree, err)
	}
	defer unix.Close(tfd)
	seen := maps.Clone(loaded) // a module named or imported before is read once
	mods, err := followImports(ctx, p, root, tfd, tree, module{name: name, set: s}, seen, opts, s, true)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, m := range mods {
		loaded[m.id] = true
		names = append(names, m.name)
		// A module of the configuration need not declare anything
		// itself: the named file speaks for the whole (below).
		m.set.Diagnostics = slices.DeleteFunc(m.set.Diagnostics, noneFound)
		s.Merge(m.set)
	}
	if len(s.Entries) > 0 || len(s.Storage) > 0 {
		s.Diagnostics = slices.DeleteFunc(s.Diagnostics, noneFound)
	}
	return names, nil
}

// readNamed reads the --persist file name ("-": stdin, nil for
// os.Stdin) as readInput does, with its identity (from the file opened:
// it is looked at once); again says that it was read already (loaded: a
// module an earlier --persist file imports, named with --persist too, is
// read once, not declared twice), and then nothing is read. A file p
// holds the text of (read by an earlier Load of the command) is not read
// again; one read is kept there.
func readNamed(ctx context.Context, p *Parses, name string, stdin io.Reader, loaded map[FileID]bool) (data []byte, id FileID, again bool, err error) {
	if name == "-" {
		data, err = readInput(ctx, name, stdin, "a declaration file")
		return data, id, false, err
	}
	f, st, err := safefile.Open(name, 0)
	if err != nil {
		return nil, id, false, err
	}
	defer f.Close()
	if id = (FileID{uint64(st.Dev), st.Ino}); loaded[id] {
		return nil, id, true, nil
	}
	if data, ok := p.text(id); ok {
		return data, id, false, nil
	}
	if readHook != nil {
		readHook(name)
	}
	data, err = readInput(ctx, name, f, "a declaration file")
	if err == nil {
		p.keep(id, data)
	}
	return data, id, false, err
}

// dropReadAnyway drops from set.NotFollowed (and its diagnostic) each
// import that leads to a file read anyway (named with --persist too, or
// found; an absolute import names a file inside root), as drift lint
// reads a module named on the command line that another imports from
// outside its tree.
func dropReadAnyway(root string, set *Set, loaded map[FileID]bool) {
	read := func(imp Import) bool {
		var st unix.Stat_t
		target := filepath.Join(filepath.Dir(imp.Pos.File), imp.Path)
		if filepath.IsAbs(imp.Path) {
			target = filepath.Join(root, imp.Path) // inside root, as followed
		}
		if unix.Stat(target, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
			target = filepath.Join(target, "default.nix")
		}
		return imp.Pos.File != "" && unix.Stat(target, &st) == nil && loaded[FileID{uint64(st.Dev), st.Ino}]
	}
	var drop []Pos
	set.NotFollowed = slices.DeleteFunc(set.NotFollowed, func(imp Import) bool {
		if read(imp) {
			drop = append(drop, imp.Pos)
			return true
		}
		return false
	})
	set.Diagnostics = slices.DeleteFunc(set.Diagnostics, func(d Diagnostic) bool {
		return d.Code == "not-static" && slices.Contains(drop, d.Pos)
	})
}

// noneFound is the diagnostic of a module that declares no persistence.
func noneFound(d Diagnostic) bool { return d.Code == "none-found" }
