package persist

import (
	"bytes"
	"context"
	"path"
	"slices"

	"golang.org/x/sys/unix"
)

// parsedHook, when not nil, is called with the name of every source
// parsed (readData), and of every flake.nix read for its hosts' modules
// (readFlakeModules, flake true): tests count what a command parses.
var parsedHook func(name string, flake bool)

// entryFile is the module nixos-rebuild evaluates in a directory of the
// root (entries.in): its flake.nix read for the modules its hosts list
// (readFlakeModules), else its configuration.nix read as a module.
type entryFile struct {
	walkFile
	// err says why it could not be read (unread) or parsed; set is then
	// nil.
	err    error
	unread bool
}

// entries are the entry modules a command read (entries.in), by path
// relative to the root, and the .nix files Discover's walk parsed
// (walked): discovery (keepImported) and the configuration reader
// (machineConfiguration) read and parse each once per command.
type entries struct {
	read   map[string]*entryFile
	walked []walkFile
}

// newEntries is an empty entries.
func newEntries() *entries { return &entries{read: map[string]*entryFile{}} }

// walk records the .nix files the walk w parsed: a configuration.nix
// among them is not parsed again.
func (e *entries) walk(w *nixosWalk) {
	e.walked = append(append(e.walked[:0:0], w.found...), w.others...)
}

// in is the module nixos-rebuild evaluates in dir (relative to the root
// r opens): dir/flake.nix when it is a regular file, read for the modules
// its hosts list (readFlakeModules), else dir/configuration.nix, read as a
// module (or the walk's when it parsed that path); nil when neither is a
// regular file. Each is read and parsed once: kept in e. Its set is
// shared: a reader that adds to it works on a copy (own).
func (e *entries) in(ctx context.Context, r *inRoot, dir string, opts Options) *entryFile {
	flake := true
	rel := path.Join(dir, flakeName)
	if st, err := r.stat(rel); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		flake, rel = false, path.Join(dir, entryName)
		if i := slices.IndexFunc(e.walked, func(f walkFile) bool { return f.rel == rel }); i >= 0 {
			return &entryFile{walkFile: e.walked[i]}
		}
	}
	if got, ok := e.read[rel]; ok {
		return got
	}
	got := e.parse(ctx, r, rel, dir, flake, opts)
	e.read[rel] = got
	return got
}

// parse reads rel, a regular file, and parses it (in); nil when it is
// not a regular file.
func (e *entries) parse(ctx context.Context, r *inRoot, rel, dir string, flake bool, opts Options) *entryFile {
	st, err := r.stat(rel)
	if err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil
	}
	f := &entryFile{walkFile: walkFile{name: r.name(rel), rel: rel, tree: dir, id: FileID{uint64(st.Dev), st.Ino}}}
	data, ok, err := r.readRegular(rel)
	if err != nil || !ok {
		f.err, f.unread = err, true
		return f
	}
	if flake {
		f.set, f.err = readFlakeModules(ctx, f.name, data, opts)
	} else {
		f.set, f.err = ReadContext(ctx, f.name, bytes.NewReader(data), opts)
	}
	return f
}

// own is a copy of s that may be added to (readTexts adds to its Config's
// Strings, NotFollowed and Diagnostics) without writing into s.
func (s *Set) own() *Set {
	c := *s
	c.NotFollowed, c.Diagnostics = slices.Clip(s.NotFollowed), slices.Clip(s.Diagnostics)
	if s.Config != nil {
		cc := *s.Config
		cc.Strings = slices.Clip(cc.Strings)
		c.Config = &cc
	}
	return &c
}
