package persist

import (
	"context"
	"maps"
	"path"
	"slices"
)

// Parses is what one command read of a system's configuration, so that
// each .nix module is read and parsed once per command: the text of every
// module read (discovery's walk of etc/nixos, an import followed, the
// entry flake.nix or configuration.nix), by identity (device and inode),
// and every parse of one, by identity, the name it is read as (positions
// carry it), the home-manager user it is read for (Import.User) and
// whether it is a flake.nix read for its hosts' modules. Discovery
// (keepImported's reach, withImports), the reader of the system's
// configuration (machineConfiguration), the imports of a --persist file
// (withImports) and a later Load of the same command (Options.Parses:
// drift suggest's earlier modules, audit.Model.ReadModule) share it, and
// so do the files named with --persist (namedFile). A module larger than
// maxKept is not kept: each reader reads and parses it (a million
// declarations in one file stay garbage once merged, and a Parses a
// command keeps holds little).
//
// A parse is handed out as a copy of the one kept (clone): readers add to
// a module's set (readTexts) and merge it (Set.Merge shares slices,
// SettleHomes and Sort change them in place) without changing what
// another reader gets. A parse depends on Options.Homes: Parses serves
// the Homes of the first Load that uses it (forOptions). Not safe for
// concurrent use.
type Parses struct {
	homes  map[string]string
	bound  bool
	texts  map[FileID][]byte
	parsed map[parseKey]parsed
}

// maxKept is the size of the largest module text Parses keeps, with its
// parses: 1 MiB, some 30,000 declarations; a configuration's modules are
// a few KiB.
const maxKept = 1 << 20

// parseKey is one parse of a module.
type parseKey struct {
	id         FileID
	name, user string
	flake      bool
}

// parsed is what a parse gave: the set (nil with err), and for a
// flake.nix why its hosts may evaluate modules it does not list.
type parsed struct {
	set     *Set
	unknown string
	err     error
}

// NewParses is an empty Parses, for the reads of one command.
func NewParses() *Parses {
	return &Parses{texts: map[FileID][]byte{}, parsed: map[parseKey]parsed{}}
}

// forOptions is p when it may serve a read with opts: nil gives a new
// Parses, and one bound to other Homes (the first read with it binds it
// to its opts.Homes) a new one for this read alone.
func (p *Parses) forOptions(opts Options) *Parses {
	switch {
	case p == nil:
		p = NewParses()
	case p.bound && !maps.Equal(p.homes, opts.Homes):
		return NewParses().forOptions(opts)
	}
	if !p.bound {
		p.homes, p.bound = maps.Clone(opts.Homes), true
	}
	return p
}

// text is the text of the module id when it was read (keep); ok is false
// otherwise, and for a nil p.
func (p *Parses) text(id FileID) (data []byte, ok bool) {
	if p == nil {
		return nil, false
	}
	data, ok = p.texts[id]
	return data, ok
}

// keep records data, the whole text of the module id.
func (p *Parses) keep(id FileID, data []byte) {
	if p != nil && len(data) <= maxKept {
		p.texts[id] = data
	}
}

// module is the parse of data, the text of the module id, read as name
// with opts (ReadData): parsed once, a copy handed out. A parse given up
// when ctx was done is not kept, nor one of a text larger than maxKept.
func (p *Parses) module(ctx context.Context, id FileID, name string, data []byte, opts Options) (*Set, error) {
	got := p.once(ctx, len(data) <= maxKept, parseKey{id: id, name: name, user: opts.homeUser}, func() parsed {
		set, err := warned(readData(ctx, name, data, opts))
		return parsed{set: set, err: err}
	})
	return got.set, got.err
}

// flake is readFlakeModules of data, the text of the flake.nix id read as
// name with opts: once, a copy handed out.
func (p *Parses) flake(ctx context.Context, id FileID, name string, data []byte, opts Options) (*Set, string, error) {
	got := p.once(ctx, len(data) <= maxKept, parseKey{id: id, name: name, user: opts.homeUser, flake: true}, func() parsed {
		set, unknown, err := readFlakeModules(ctx, name, data, opts)
		return parsed{set, unknown, err}
	})
	return got.set, got.unknown, got.err
}

// once is the parse k, made by parse the first time and kept when keep
// says so (unless ctx is done by then), with a copy of its set; one not
// kept is handed out as parsed.
func (p *Parses) once(ctx context.Context, keep bool, k parseKey, parse func() parsed) parsed {
	if p == nil || !keep {
		return parse()
	}
	got, ok := p.parsed[k]
	if !ok {
		got = parse()
		if ctx.Err() != nil {
			return got
		}
		p.parsed[k] = got
	}
	got.set = got.set.clone()
	return got
}

// namedFile is ReadConfigFile of data, the text of the file id named
// name with --persist (readNamed): a flake.nix read for its hosts'
// modules, any other file as ReadData reads it, through p (the walk of
// etc/nixos reads the same file as a module). One larger than maxKept is
// read by readConfigFile alone, without the warnings of its repeats
// (Load gives them once every file is merged).
func (p *Parses) namedFile(ctx context.Context, id FileID, name string, data []byte, opts Options) (*Set, error) {
	if p == nil || len(data) > maxKept {
		return readConfigFile(ctx, name, data, opts)
	}
	if path.Base(name) != flakeName || isJSON(name, data) {
		return p.module(ctx, id, name, data, opts)
	}
	s, _, err := p.flake(ctx, id, displayName(name), data, opts)
	return s, err
}

// clone is a copy of s whose slices, and Config's, are its own: adding to
// it, sorting or changing an item in place leaves s as it is. The items'
// own slices (a Hook's lines) are shared: no reader changes them. nil for
// nil.
func (s *Set) clone() *Set {
	if s == nil {
		return nil
	}
	c := *s
	c.Entries, c.Diagnostics, c.Malformed = slices.Clone(s.Entries), slices.Clone(s.Diagnostics), slices.Clone(s.Malformed)
	c.Duplicates, c.Options, c.Storage = slices.Clone(s.Duplicates), slices.Clone(s.Options), slices.Clone(s.Storage)
	c.Imports, c.NotFollowed, c.Texts = slices.Clone(s.Imports), slices.Clone(s.NotFollowed), slices.Clone(s.Texts)
	c.Configuration.Files = slices.Clone(s.Configuration.Files)
	if s.Config != nil {
		c.Config = s.Config.clone()
	}
	return &c
}

// clone is a copy of c whose slices are its own (Set.clone).
func (c *Config) clone() *Config {
	o := *c
	o.Users, o.Groups, o.FileSystems, o.EtcFiles = slices.Clone(c.Users), slices.Clone(c.Groups), slices.Clone(c.FileSystems), slices.Clone(c.EtcFiles)
	o.SSHKeyPaths, o.HostKeyPaths = slices.Clone(c.SSHKeyPaths), slices.Clone(c.HostKeyPaths)
	o.AgeIdentityPaths, o.GnupgSSHKeyPaths = slices.Clone(c.AgeIdentityPaths), slices.Clone(c.GnupgSSHKeyPaths)
	o.Named, o.Strings, o.Partial = slices.Clone(c.Named), slices.Clone(c.Strings), slices.Clone(c.Partial)
	o.TmpfilesLinks, o.Declared = slices.Clone(c.TmpfilesLinks), slices.Clone(c.Declared)
	o.HomeManagerUsers, o.guesses = slices.Clone(c.HomeManagerUsers), slices.Clone(c.guesses)
	o.Initrd.Hooks, o.Initrd.Units, o.Initrd.Swap = slices.Clone(c.Initrd.Hooks), slices.Clone(c.Initrd.Units), slices.Clone(c.Initrd.Swap)
	return &o
}
