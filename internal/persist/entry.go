package persist

import (
	"context"
	"path"

	"golang.org/x/sys/unix"
)

// parsedHook, when not nil, is called with the name of every source
// parsed (readData), and of every flake.nix read for its hosts' modules
// (readFlakeModules, flake true): tests count what a command parses.
var parsedHook func(name string, flake bool)

// readHook, when not nil, is called with the name of every file of the
// root whose text is read (inRoot.readRegular, readBeneath, and a file
// named, readNamed): tests count the reads.
var readHook func(name string)

// entryFile is the module nixos-rebuild evaluates in a directory of the
// root (Parses.in): its flake.nix read for the modules its hosts list
// (readFlakeModules), else its configuration.nix read as a module.
type entryFile struct {
	walkFile
	// unknown is, for a flake.nix, why its hosts may evaluate modules it
	// does not list by a path ("" when they may not): what
	// readFlakeModules recorded in the set's NotFollowed.
	unknown string
	// err says why it could not be read (unread) or parsed; set is then
	// nil.
	err    error
	unread bool
}

// in is the module nixos-rebuild evaluates in dir (relative to the root
// r opens): dir/flake.nix when it is a regular file, read for the modules
// its hosts list (readFlakeModules), else dir/configuration.nix, read as a
// module; nil when neither is a regular file. Its text and parse are p's
// (read and parsed once per command: discovery's walk may have read it,
// keepImported and machineConfiguration both ask); its set is a copy.
func (p *Parses) in(ctx context.Context, r *inRoot, dir string, opts Options) *entryFile {
	flake := true
	rel := path.Join(dir, flakeName)
	st, err := r.stat(rel)
	if err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		flake, rel = false, path.Join(dir, entryName)
		if st, err = r.stat(rel); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
			return nil
		}
	}
	f := &entryFile{walkFile: walkFile{name: r.name(rel), rel: rel, tree: dir, id: FileID{uint64(st.Dev), st.Ino}}}
	data, ok := p.text(f.id)
	if !ok {
		if data, ok, err = r.readStat(rel, st); err != nil || !ok {
			f.err, f.unread = err, true
			return f
		}
		p.keep(f.id, data)
	}
	if flake {
		f.set, f.unknown, f.err = p.flake(ctx, f.id, f.name, data, opts)
	} else {
		f.set, f.err = p.module(ctx, f.id, f.name, data, opts)
	}
	return f
}
