package persist

import (
	"github.com/nix-drift/drift/internal/persist/nix"
)

// Kind says whether a declared path is a persisted directory or a persisted file.
type Kind uint8

const (
	// Dir is a persisted directory: impermanence's `directories` entry,
	// bind-mounted from <storage path><path> onto <path>.
	Dir Kind = iota
	// File is a persisted file: impermanence's `files` entry, bind-mounted or
	// symlinked from <storage path><path> (mount-file.bash).
	File
)

func (k Kind) String() string {
	if k == File {
		return "file"
	}
	return "directory"
}

// Pos is where a declaration was written (nix.Pos).
type Pos = nix.Pos

// Entry is one normalised declaration. What it shares with the other
// entries of its storage path and user (owner, mode, module, home) is held
// once, in Origin, and what few entries have (a Raw other than the path,
// a SourcePath, Attrs) out of line: a million entries cost 88 bytes each,
// not 260 (a million declarations must fit in 10× the input's text).
type Entry struct {
	Kind Kind
	// Evaluated marks an entry read from nix eval output: the module has
	// already applied its options (unknown attributes are impossible, and
	// preservation's user entries are absolute).
	Evaluated bool
	// StoragePath is the persistent storage path (impermanence's
	// persistentStoragePath), absolute and lexically clean, e.g. "/nix/persist".
	StoragePath string
	// Path is the live path, absolute and lexically clean: impermanence's
	// dirPath / filePath (user entries already joined to the home).
	Path string
	// Origin holds the fields an entry shares with its neighbours (User,
	// Group, Mode, Method, Owner, Module, Home, read as e.User and so on).
	// Entries read by this package share one Origin per distinct value, so
	// it must not be written through: set a new one (SetOrigin). Never nil
	// in entries this package returns; an Entry built elsewhere without it
	// panics when one of those fields is read.
	*Origin
	// Pos is where the entry was declared, when known.
	Pos Pos
	// more holds Raw, SourcePath and Attrs when one of them is not what
	// most entries have (Raw the path, or the path below Home; no
	// SourcePath; no Attrs); nil otherwise. Never written through: the
	// setters replace it, so copies of an Entry do not share changes.
	more *entryMore
}

// entryMore is what few entries have (Entry.more).
type entryMore struct {
	raw, sourcePath string
	attrs           []Attr
}

// Raw is the path exactly as written, before the module's normalisation
// ("/var/log/", ".ssh" for a user entry); for nix eval JSON, the entry's
// `directory` or `file` value ("" when absent). An Entry whose Raw was
// never set (SetRaw) has Path's: Path itself, or Path relative to Home
// for a user's entry below the home.
func (e Entry) Raw() string {
	if e.more != nil {
		return e.more.raw
	}
	return e.plainRaw()
}

// plainRaw is the Raw an entry has without more.
func (e Entry) plainRaw() string {
	if e.Origin != nil && e.Home != "" && len(e.Path) > len(e.Home) && e.Path[len(e.Home)] == '/' && e.Path[:len(e.Home)] == e.Home {
		return e.Path[len(e.Home)+1:]
	}
	return e.Path
}

// SourcePath, when not "", is the persistent copy's path where it is not
// StoragePath joined with Path: a home-manager v1 storage path that does
// not end with the home ("/persist/alice" for home /home/alice, entry
// "Music": SourcePath "/persist/alice/Music"). Usually "".
func (e Entry) SourcePath() string {
	if e.more != nil {
		return e.more.sourcePath
	}
	return ""
}

// Attrs are the attributes of an entry written as an attribute set, in
// the order written; nested ones (parentDirectory.mode) are flattened with
// a dot. Nil for an entry written as a string. The slice is the entry's:
// changing its items changes the entry's.
func (e Entry) Attrs() []Attr {
	if e.more != nil {
		return e.more.attrs
	}
	return nil
}

// SetRaw sets what Raw returns. Set Path (and Home) first: a Raw that is
// Path's (Raw) costs nothing more, another is held out of line.
func (e *Entry) SetRaw(raw string) {
	m := e.moreValue()
	m.raw = raw
	e.setMore(m)
}

// SetSourcePath sets what SourcePath returns.
func (e *Entry) SetSourcePath(p string) {
	m := e.moreValue()
	m.sourcePath = p
	e.setMore(m)
}

// SetAttrs sets what Attrs returns.
func (e *Entry) SetAttrs(as []Attr) {
	m := e.moreValue()
	m.attrs = as
	e.setMore(m)
}

// moreValue is what e.more holds, or would.
func (e *Entry) moreValue() entryMore {
	return entryMore{raw: e.Raw(), sourcePath: e.SourcePath(), attrs: e.Attrs()}
}

// setMore points e.more to a copy of m, or to nil when m is what an entry
// without it has.
func (e *Entry) setMore(m entryMore) {
	if m.sourcePath == "" && m.attrs == nil && m.raw == e.plainRaw() {
		e.more = nil
		return
	}
	e.more = new(entryMore) // not &m: that would put m on the heap at every call
	*e.more = m
}

// Origin is what an entry shares with the other entries of its storage path
// and user: who owns the persistent source, how it is linked, which module
// and user declared it.
type Origin struct {
	// User, Group and Mode are the owner and mode the module applies when it
	// creates the persistent source ("root", "root", "0755" by default). Mode
	// is kept as written (octal or symbolic). Group may be "" (home-manager
	// leaves it null).
	User, Group, Mode string
	// Method is "" (impermanence's "auto": bind mount if the source exists,
	// else symlink), "symlink" (method = "symlink" / preservation how =
	// "symlink"), or "bindfs" (home-manager v1 directories).
	Method string
	// Owner is the users.<name> the entry was declared under, "" for
	// system-wide entries.
	Owner string
	// Module names the declaring module: "impermanence", "home-manager" or
	// "preservation".
	Module string
	// Home is the home directory Raw is relative to (users.<name> and
	// home-manager entries), "" for system-wide entries.
	Home string
}

// SetOrigin gives e its own copy of o (never shared with other entries), so
// that it can be changed through e.
func (e *Entry) SetOrigin(o Origin) { e.Origin = &o }

// Attr is one attribute of an entry or of a storage path as written: its
// name (dotted when nested), where the name is, and its value when that is
// a string known statically.
type Attr struct {
	Name string
	Pos  Pos
	// Value is the string value, when IsString; ValuePos is where the value is.
	Value    string
	IsString bool
	ValuePos Pos
	// Removed marks an option reported by a failed removed-option
	// assertion in nix eval output (current impermanence), rather than
	// written.
	Removed bool
}

// StoragePath is one environment.persistence.<name>,
// preservation.preserveAt.<name> or home.persistence.<name>.
type StoragePath struct {
	Path   string // persistentStoragePath, clean and absolute
	Pos    Pos    // where <name> is written
	Module string
	// Owner is the home-manager user, "" for a NixOS storage path.
	Owner string
	// HMv1 marks home-manager's v1 API: the home inside
	// persistentStoragePath, or a v1-only option set.
	HMv1 bool
}

// Option is an attribute set at the level of a persistent storage path
// (environment.persistence.<name>.allowOther) or of one of its users
// (….users.<name>.home).
type Option struct {
	Attr
	// Where is the option set's path ("environment.persistence.\"/p\"").
	Where string
	// Module is "impermanence", "home-manager" or "preservation"; Owner is
	// the users.<name> the option is under, "" at storage-path level.
	Module, Owner string
	// HMv1 marks a home-manager storage path read as the v1 API (home
	// inside persistentStoragePath, bindfs).
	HMv1 bool
	// Evaluated marks an option read from nix eval output (set by the
	// module's defaults as much as by the user).
	Evaluated bool
}

// Source is the path of the persistent copy: SourcePath when set, else
// StoragePath joined with Path.
func (e Entry) Source() string {
	if sp := e.SourcePath(); sp != "" {
		return sp
	}
	if e.StoragePath == "/" {
		return e.Path
	}
	return e.StoragePath + e.Path
}

// Severity orders diagnostics.
type Severity int

const (
	Info Severity = iota
	Warning
	Error
)

func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	}
	return "info"
}

// Diagnostic is a problem found while reading declarations: something that
// could not be read statically, a malformed entry, a path that is not
// absolute. Hint, when set, says how to fix it (for example: use --flake).
type Diagnostic struct {
	Pos      Pos
	Severity Severity
	Message  string
	Hint     string
	// Code classifies the diagnostic for tools that report the same problem
	// themselves (drift lint): "not-static" (a value that cannot be read
	// without Nix), "conditional", "disabled", "duplicate",
	// "path-not-absolute", "user-path-absolute", "path-dot", "path-root",
	// "removed-option", "missing-key", "none-found" (a module without declarations),
	// "flake-input" (a flake input's module a flake.nix lists, not read);
	// "" for the others.
	Code string
}

func (d Diagnostic) String() string {
	s := d.Pos.String()
	if s != "" {
		s += ": "
	}
	return s + d.Severity.String() + ": " + d.Message
}

// Set is everything read from one or more declaration sources.
type Set struct {
	Entries     []Entry
	Diagnostics []Diagnostic
	// Malformed are attribute-set entries without their `directory` or
	// `file` attribute (Path empty, Pos at the set, Attrs as written): a
	// diagnostic with Code "missing-key" reports each.
	Malformed []Entry
	// Duplicates are the entries read again with the kind, storage path
	// and path of one in Entries: one record per key, counting them.
	Duplicates []Duplicate
	// Options are the attributes set at storage-path and users.<name> level.
	Options []Option
	// Storage are the persistent storage paths declared, in order.
	Storage []StoragePath
	// Config holds the other options a .nix module sets that matter to
	// persistence; nil for JSON input.
	Config *Config
	// Imports are the modules a .nix module imports by a path (Import),
	// as written, with their positions: the caller decides whether to
	// follow them (drift lint does, within the tree it was given). Other
	// imports are not-static Warning diagnostics, and in NotFollowed.
	Imports []Import
	// NotFollowed are the imports not followed in the modules read: not
	// a path drift can read (imports = [ (f x) ]), or, by Load, outside
	// the tree, through a symbolic link, missing: what they set is not
	// known (Set.Whole).
	NotFollowed []Import
	// Texts are the files a .nix module names by a relative path literal
	// outside its imports (builtins.readFile ./backup.sh, a script's
	// source = ./x.sh), as written, with their positions: their text is the
	// configuration's, and the paths it names are in use (readTexts adds
	// them to Config.Strings where imports are followed).
	Texts []Import
	// Configuration is what Load read of the system's configuration, for
	// the options naming what is in use (Config.References).
	Configuration Configuration
}

// Import is one module a module imports: a path literal in its imports
// list (./persist.nix; /etc/nixos/extra.nix, absolute, is resolved inside
// the root), or `import PATH` there or as a home-manager user's module
// (home-manager.users.NAME = import ./home.nix, or { imports = [ … ]; }).
// In NotFollowed, Path is what the import is, as said in messages.
type Import struct {
	Path string
	Pos  Pos
	// User is, for a home-manager user's module, the user's name: the
	// owner of the home.persistence the module sets.
	User string
}

// Options control how declarations are normalised.
type Options struct {
	// Homes maps a user name to its home directory (--home NAME=PATH).
	// Users not listed get "/home/<name>", impermanence's classic default.
	Homes map[string]string
	// Parses, when set, are the texts and parses of the modules a command
	// read already (NewParses): Load reads and parses a module they hold
	// no more, and keeps there what it reads (a later Load of the same
	// command, with the same Homes, shares them). nil: Load's own.
	Parses *Parses
	// homeUser is set when the module read is a home-manager user's
	// (home-manager.users.NAME = import ./home.nix): NAME, the owner of
	// the home.persistence it sets without home.username.
	homeUser string
}

// ForImport is o for reading the module imp leads to: a home-manager
// user's module (Import.User) is read as that user's.
func (o Options) ForImport(imp Import) Options {
	if imp.User != "" {
		o.homeUser = imp.User
	}
	return o
}
