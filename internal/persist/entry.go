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

// readHook, when not nil, is called with the name of every file of the
// root whose text is read (inRoot.readRegular): tests count the reads.
var readHook func(name string)

// entryFile is the module nixos-rebuild evaluates in a directory of the
// root (entries.in): its flake.nix read for the modules its hosts list
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

// entries are the entry modules a command read (entries.in), by path
// relative to the root, the .nix files Discover's walk parsed (walked),
// and the text of each flake.nix and configuration.nix the walk read
// (texts, by path relative to the root): discovery (keepImported) and
// the configuration reader (machineConfiguration) read and parse each
// once per command.
type entries struct {
	read   map[string]*entryFile
	walked []walkFile
	texts  map[string]walkText
}

// walkText is the text of a file Discover's walk read, with its identity.
type walkText struct {
	data []byte
	id   FileID
}

// newEntries is an empty entries.
func newEntries() *entries { return &entries{read: map[string]*entryFile{}} }

// walk records the .nix files the walk w parsed, and the entries' texts
// it read: they are not read nor parsed again.
func (e *entries) walk(w *nixosWalk) {
	e.walked = append(append(e.walked[:0:0], w.found...), w.others...)
	e.texts = w.entryTexts
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
	if !e.regular(r, rel) {
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

// regular reports whether rel is a regular file: one whose text the walk
// read, or as r.stat says.
func (e *entries) regular(r *inRoot, rel string) bool {
	if _, ok := e.texts[rel]; ok {
		return true
	}
	st, err := r.stat(rel)
	return err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG
}

// parse reads rel, a regular file (the walk's text when it read it), and
// parses it (in); nil when it is not a regular file.
func (e *entries) parse(ctx context.Context, r *inRoot, rel, dir string, flake bool, opts Options) *entryFile {
	f := &entryFile{walkFile: walkFile{name: r.name(rel), rel: rel, tree: dir}}
	data := e.texts[rel].data
	if t, ok := e.texts[rel]; ok {
		f.id = t.id
	} else {
		st, err := r.stat(rel)
		if err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
			return nil
		}
		f.id = FileID{uint64(st.Dev), st.Ino}
		var ok bool
		if data, ok, err = r.readRegular(rel); err != nil || !ok {
			f.err, f.unread = err, true
			return f
		}
	}
	if flake {
		f.set, f.unknown, f.err = readFlakeModules(ctx, f.name, data, opts)
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
