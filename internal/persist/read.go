package persist

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/nix-drift/drift/internal/persist/nix"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/nix-drift/drift/internal/safefile"
)

// maxInput caps what Read accepts; declaration files are small.
const maxInput = 64 << 20

// Read reads one declaration source and returns its normalised entries and
// diagnostics. name is the source's path, used for positions and to choose
// the format; "-" means standard input. The content is read from r; when r
// is nil, Read opens name (or uses os.Stdin for "-").
//
// Format: a name ending in ".nix" is read with the static Nix reader
// (ParseNix); ".json" with ParseJSON; otherwise content whose first
// non-blank byte is '[', or '{' followed by '}' or by a string and ':', is
// JSON, and anything else is Nix.
//
// Errors are for unreadable or malformed input and read
// "file:line:col: message"; problems inside well-formed input are
// Diagnostics in the Set.
func Read(name string, r io.Reader, opts Options) (*Set, error) {
	return ReadContext(context.Background(), name, r, opts)
}

// ReadContext is Read that gives up, returning ctx.Err(), when ctx is done:
// it looks at ctx while it parses, evaluates and reads the declarations
// (every few thousand tokens, steps or entries).
func ReadContext(ctx context.Context, name string, r io.Reader, opts Options) (*Set, error) {
	data, err := readInput(ctx, name, r, "a declaration file")
	if err != nil {
		return nil, err
	}
	return ReadData(ctx, name, data, opts)
}

// ReadData is ReadContext of data already read from the source name: the
// Set shares data's memory (paths are slices of it, not copies), so data
// must not be modified afterwards.
func ReadData(ctx context.Context, name string, data []byte, opts Options) (*Set, error) {
	return warned(readData(ctx, name, data, opts))
}

// readData is ReadData without the warnings of repeated paths (Load
// makes them once, for every file read).
func readData(ctx context.Context, name string, data []byte, opts Options) (*Set, error) {
	if parsedHook != nil {
		parsedHook(name, false)
	}
	if isJSON(name, data) {
		return parseJSON(ctx, nix.NewSource(displayName(name), data, true), opts)
	}
	return parseNix(ctx, nix.NewSource(displayName(name), data, true), opts)
}

// warned is s with the warnings of its repeated paths (warnRepeats).
func warned(s *Set, err error) (*Set, error) {
	if err == nil {
		s.warnRepeats()
	}
	return s, err
}

// readInput reads the content of the input name (up to maxInput bytes):
// from r, or when r is nil from the file name (a regular file: a FIFO or
// device is an error at once, safefile.Open), or standard input for "-".
// what names the kind of file expected, for the error on a larger one.
// It gives up with ctx's error when ctx is done, even in a blocked read.
func readInput(ctx context.Context, name string, r io.Reader, what string) ([]byte, error) {
	if r == nil {
		if name == "-" {
			r = os.Stdin
		} else {
			f, _, err := safefile.Open(name, 0)
			if err != nil {
				return nil, err
			}
			defer f.Close()
			r = f
		}
	}
	return safefile.ReadAll(ctx, r, safefile.Limit{Name: displayName(name), Max: maxInput, What: what})
}

// ReadFile opens name (standard input for "-") and calls Read.
func ReadFile(name string, opts Options) (*Set, error) {
	return Read(name, nil, opts)
}

func displayName(name string) string {
	if name == "-" {
		return "<stdin>"
	}
	return name
}

func isJSON(name string, data []byte) bool {
	switch {
	case strings.HasSuffix(name, ".nix"):
		return false
	case strings.HasSuffix(name, ".json"):
		return true
	}
	t := bytes.TrimLeft(data, " \t\r\n")
	if len(t) == 0 {
		return false
	}
	switch t[0] {
	case '[':
		return true
	case '{':
		t = bytes.TrimLeft(t[1:], " \t\r\n")
		if len(t) == 0 || t[0] != '"' {
			return len(t) > 0 && t[0] == '}'
		}
		// { "key" : → JSON; { "key" = or { "key".a → Nix
		for i := 1; i < len(t); i++ {
			switch t[i] {
			case '\\':
				i++
			case '"':
				rest := bytes.TrimLeft(t[i+1:], " \t\r\n")
				return len(rest) > 0 && rest[0] == ':'
			}
		}
	}
	return false
}

// ParseJSON reads JSON declarations. Accepted shapes (spec §0-§4):
//
//   - nix eval --json …config.environment.persistence, classic and current
//     impermanence: {"<name>": {enable, persistentStoragePath, directories,
//     files, users: {<u>: {directories, files, home?}}}} with entries
//     normalised by the module (dirPath, filePath). Live paths come from
//     dirPath/filePath, cleaned lexically; users' entries repeated in the
//     top-level lists (classic) are counted once; enable = false paths are
//     dropped.
//   - the same map written by hand (raw entries: strings or {directory,
//     user, group, mode} / {file, parentDirectory, method}), to which the
//     module's defaults and path rules are applied.
//   - a single raw entry: {"persistentStoragePath": …, "directories": …,
//     "files": …, "users": …}.
//   - nix eval --json …config.preservation: {"enable": …, "preserveAt":
//     {…}}; nothing when enable is false; how = "_intermediate" entries
//     skipped.
//   - home-manager v1 home.persistence: {"/persist/home/alice": {allowOther,
//     defaultDirectoryMethod, removePrefixDirectory, directories, files}};
//     the owner comes from a storage path ending in /home/<user>, or from
//     the only Options.Homes entry.
//
// Entries and diagnostics carry the line:col of the path's JSON string in
// data (EvalFlake clears them: nix prints one line).
//
// A top-level value that is not an object is an error, e.g.
// "x.json:1:1: expected an object of persistent storage paths, got array".
func ParseJSON(data []byte, name string, opts Options) (*Set, error) {
	return warned(parseJSON(context.Background(), nix.NewSource(name, data, false), opts))
}

func parseJSON(ctx context.Context, src *nix.Source, opts Options) (set *Set, err error) {
	src.Ctx = ctx
	defer nix.RecoverCancelled(&err)
	v, err := decodeJSON(src)
	if err != nil {
		return nil, err
	}
	if v.Kind != nix.KindAttrs {
		return nil, fmt.Errorf("%s: expected an object of persistent storage paths, got %s", src.Pos(v.Off), jsonKind(v))
	}
	r := newReader(src, opts, nil)
	switch {
	case v.Attrs.Get("preserveAt") != nil:
		r.preservation(v, "preservation")
	case hasAny(v, "directories", "files", "users", "persistentStoragePath"):
		psp, _, ok := r.str(v, "persistentStoragePath", "")
		if !ok {
			return nil, fmt.Errorf("%s: a single persistence entry needs a \"persistentStoragePath\" string", src.Pos(v.Off))
		}
		r.jsonPath(psp, v.Off, v, nix.AttrName(psp))
	default:
		for _, k := range v.Attrs.Keys {
			pv := r.attr(v, k, "")
			if pv.Kind != nix.KindAttrs {
				return nil, fmt.Errorf("%s: expected an object for storage path %q, got %s", src.Pos(pv.Off), k, jsonKind(pv))
			}
			r.jsonPath(k, r.attrOff(v, k), pv, nix.AttrName(k))
		}
	}
	return r.set, nil
}

// jsonPath reads one storage path object, choosing the module by its keys.
func (r *reader) jsonPath(name string, off int, pv *nix.Value, where string) {
	switch {
	case hasAny(pv, hmKeys...):
		r.homeManagerPath(name, off, pv, where, "", "")
	case hasAny(pv, "commonMountOptions") || r.hasHow(pv):
		r.preservationPath(name, off, pv, where)
	default:
		r.impermanencePath(name, off, pv, where)
	}
}

func (r *reader) hasHow(pv *nix.Value) bool {
	for _, key := range []string{"directories", "files"} {
		l := r.attr(pv, key, "")
		if l == nil || l.Kind != nix.KindList {
			continue
		}
		for _, it := range l.Items { // not l.At: a string has no `how`
			if hasAny(r.force(it), "how") {
				return true
			}
		}
	}
	return false
}

// ParseNix reads a NixOS or home-manager module statically, without Nix.
// The whole file is parsed (a syntax error anywhere is an error naming
// file:line:col); then these declarations are interpreted:
//
//   - environment.persistence.<name> (impermanence), its users.<u>;
//   - home.persistence.<path> (a home-manager module; the user from
//     home.username / home.homeDirectory, a storage path ending in
//     /home/<user>, or the only Options.Homes entry);
//   - home-manager.users.<u>.home.persistence.<path>;
//   - preservation.preserveAt.<name>, unless preservation.enable is
//     literally false.
//
// Literals, let/rec/inherit, ++ and // of literals, functions defined in the
// file, and lib.mkIf/mkMerge/mkDefault/mkForce/mkBefore/mkAfter/mkOverride/
// mkOrder/optional(s) wrappers are understood (mkIf and optionals add an
// Info diagnostic: the value is conditional). Any value that cannot be
// known statically (a variable from `with`, `map …`, an interpolation of
// config, an import) becomes a Warning diagnostic at its position with the
// hint to use --flake; it is never silently left out.
func ParseNix(data []byte, name string, opts Options) (*Set, error) {
	return warned(parseNix(context.Background(), nix.NewSource(name, data, false), opts))
}

func parseNix(ctx context.Context, src *nix.Source, opts Options) (set *Set, err error) {
	src.Ctx, src.Nix = ctx, true
	defer nix.RecoverCancelled(&err)
	ast, err := nix.Parse(src)
	if err != nil {
		return nil, err
	}
	ev := &nix.Evaluator{Src: src}
	r := newReader(src, opts, ev)
	root := ev.Eval(ast, &nix.Env{Vars: map[string]*nix.Lazy{}})
	for i := 0; root.Kind == nix.KindFunc && i < 8; i++ {
		root = ev.Apply(root, nix.Known(nix.UnknownAt(root.Off, "the module arguments")))
	}
	r.conds(root, "the module")
	if root.Kind != nix.KindAttrs {
		why := root.Why
		if why == "" {
			why = root.Kind.String()
		}
		r.diagCode("not-static", root.Off, Warning, flakeHint, "the file is not a module (an attribute set): cannot read %s statically", why)
	} else {
		r.module(root)
	}
	r.readStrings(ast) // after module: readConfig makes the Config
	r.set.Texts = slices.DeleteFunc(r.set.Texts, func(t Import) bool {
		return slices.ContainsFunc(r.set.Imports, func(i Import) bool { return i.Pos == t.Pos })
	})
	return r.set, nil
}

// imports records the modules root's imports list names by a path
// (Set.Imports: a path literal, relative or absolute, or `import PATH`),
// for the home-manager user user ("" for the system's), and reports
// every other item as not-static, a Warning, and in Set.NotFollowed:
// what it sets is not read.
func (r *reader) imports(root *nix.Value, user string) {
	im := r.quiet(root, "imports")
	if im == nil {
		return
	}
	if im.Kind != nix.KindList {
		why := im.Why
		if why == "" {
			why = im.Kind.String()
		}
		r.unfollowed(im.Off, why, "imports: cannot read %s statically; the modules it imports are not read", why)
		return
	}
	for _, it := range r.src.List(im) {
		if nixpkgsModule(it.Node) {
			continue
		}
		v := r.force(it)
		if v.Kind == nix.KindUnknown && strings.HasPrefix(v.RelPath, "<nixpkgs/") {
			continue
		}
		if p := modulePath(v); p != "" {
			r.set.Imports = append(r.set.Imports, Import{Path: p, Pos: r.pos(v.Off), User: user})
			continue
		}
		why := v.Why
		if why == "" {
			why = v.Kind.String()
		}
		r.unfollowed(v.Off, why, "imports: cannot follow %s statically; the declarations and options in it are not read", why)
	}
}

// modulePath is the file v, used as a module, is read from: a path
// literal (relative or absolute) or `import PATH`; "" for any other
// value.
func modulePath(v *nix.Value) string {
	switch {
	case v.Kind == nix.KindUnknown && v.RelPath != "":
		return v.RelPath
	case v.Kind == nix.KindUnknown && v.ImportPath != "":
		return v.ImportPath
	case v.Kind == nix.KindString && strings.HasPrefix(v.Str, "/"):
		return v.Str
	}
	return ""
}

// unfollowed reports, at off, a module import that cannot be followed
// (why is what it is, a noun phrase): a not-static Warning, and an entry
// of Set.NotFollowed (the configuration read is not whole).
func (r *reader) unfollowed(off int, why, format string, args ...any) {
	r.diagCode("not-static", off, Warning, "import it with a path literal (./file.nix), or use --flake REF#HOST", format, args...)
	r.set.NotFollowed = append(r.set.NotFollowed, Import{Path: why, Pos: r.pos(off)})
}

// nixpkgsModule reports whether n is `modulesPath + "…"`, the import of
// one of nixpkgs' own modules that nixos-generate-config writes
// ((modulesPath + "/installer/scan/not-detected.nix"),
// "/profiles/qemu-guest.nix"): nixpkgs' modules declare no persistence,
// so not following it loses nothing.
func nixpkgsModule(n nix.Node) bool {
	b, ok := n.(*nix.Binop)
	if !ok || b.Op != "+" {
		return false
	}
	id, ok := b.L.(*nix.Ident)
	return ok && id.Name == "modulesPath"
}

// module interprets a module's attribute set.
func (r *reader) module(root *nix.Value) {
	r.imports(root, r.opts.homeUser)
	cfg := root
	if c := r.attr(root, "config", "config"); c != nil && (root.Attrs.Get("options") != nil || c.Kind == nix.KindAttrs) {
		if !r.isSet(c, "config") {
			return
		}
		cfg = c
	}
	r.readUsers(cfg)
	r.set.Config = r.readConfig(cfg)
	found := false
	if v := r.path(cfg, "environment", "persistence"); v != nil {
		found = true
		r.impermanenceMap(v, "environment.persistence")
	}
	if v := r.path(cfg, "home", "persistence"); v != nil {
		found = true
		owner, _, _ := r.str(r.path(cfg, "home"), "username", "home")
		if owner == "" {
			owner = r.opts.homeUser // a home-manager user's module
		}
		home, _, _ := r.str(r.path(cfg, "home"), "homeDirectory", "home")
		if owner != "" && home == "" {
			home = r.homeOf(owner)
		}
		if h, ok := r.opts.Homes[owner]; ok && owner != "" {
			home = h
		}
		r.homeManagerMap(v, "home.persistence", owner, home)
	}
	if us := r.path(cfg, "home-manager", "users"); us != nil && r.isSet(us, "home-manager.users") {
		for _, u := range us.Attrs.Keys {
			r.set.Config.HomeManagerUsers = append(r.set.Config.HomeManagerUsers, u)
			w := "home-manager.users." + nix.AttrName(u)
			uv := r.attr(us, u, w)
			for i := 0; uv.Kind == nix.KindFunc && i < 8; i++ {
				uv = r.ev.Apply(uv, nix.Known(nix.UnknownAt(uv.Off, "the module arguments")))
			}
			if p := modulePath(uv); p != "" {
				r.set.Imports = append(r.set.Imports, Import{Path: p, Pos: r.pos(uv.Off), User: u})
				continue
			}
			if uv.Kind == nix.KindUnknown {
				r.unfollowed(uv.Off, uv.Why, "%s: cannot read %s statically; home.persistence in it, if any, is not read", w, uv.Why)
				continue
			}
			if uv.Kind != nix.KindAttrs {
				continue
			}
			r.imports(uv, u)
			if c := r.attr(uv, "config", w+".config"); c != nil && c.Kind == nix.KindAttrs {
				uv = c
			}
			if v := r.path(uv, "home", "persistence"); v != nil {
				found = true
				r.homeManagerMap(v, w+".home.persistence", u, r.homeOf(u))
			}
		}
	}
	if v := r.path(cfg, "preservation"); v != nil && r.attr(v, "preserveAt", "") != nil {
		found = true
		r.preservation(v, "preservation")
	}
	if !found {
		r.diagCode("none-found", 0, Warning, "pass the file that declares them, or use --flake REF#HOST",
			"no persistence declarations found (environment.persistence, home.persistence, home-manager.users.<name>.home.persistence, preservation.preserveAt)")
	}
}

// path follows attribute names from v; it returns nil when a name is
// absent. A level that cannot be read is reported (Info above the last
// name, Warning at it) and gives nil.
func (r *reader) path(v *nix.Value, names ...string) *nix.Value {
	where := ""
	for i, n := range names {
		if v == nil || v.Kind != nix.KindAttrs {
			return nil
		}
		where = sub(where, n)
		v = r.attr(v, n, where)
		if v == nil {
			return nil
		}
		if v.Kind == nix.KindUnknown {
			if i == len(names)-1 {
				r.notRead(v, where)
			} else {
				r.diagCode("not-static", v.Off, Info, flakeHint, "%s: cannot read %s statically; persistence declarations in it, if any, are not read", where, v.Why)
			}
			return nil
		}
		if i < len(names)-1 && v.Kind == nix.KindAttrs {
			for _, u := range v.Attrs.Unknown {
				if u.Kind == nix.KindUnknown {
					r.diagCode("not-static", u.Off, Info, flakeHint, "%s: cannot read %s statically; persistence declarations in it, if any, are not read", where, u.Why)
				}
			}
		}
	}
	return v
}

// readUsers collects users.users.<u>.home and .group literals.
func (r *reader) readUsers(cfg *nix.Value) {
	uu := cfg
	for _, n := range []string{"users", "users"} {
		if uu = r.quiet(uu, n); uu == nil || uu.Kind != nix.KindAttrs {
			return
		}
	}
	for _, u := range uu.Attrs.Keys {
		uv := r.quiet(uu, u)
		var ui userInfo
		if h := r.quiet(uv, "home"); h != nil && h.Kind == nix.KindString && strings.HasPrefix(h.Str, "/") {
			ui.home = h.Str
		}
		if g := r.quiet(uv, "group"); g != nil && g.Kind == nix.KindString {
			ui.group = g.Str
		}
		r.users[u] = ui
	}
}

// quiet is attr without reporting conditions.
func (r *reader) quiet(v *nix.Value, name string) *nix.Value {
	if v == nil || v.Kind != nix.KindAttrs {
		return nil
	}
	at := v.Attrs.Get(name)
	if at == nil {
		return nil
	}
	if r.ev == nil {
		return at.Defs[0].Value
	}
	return r.ev.AttrValue(at)
}

// ErrNoNix is returned by EvalFlake when no nix binary is on PATH.
var ErrNoNix = errors.New("nix not found on PATH: --flake needs Nix installed; pass --persist FILE (a .nix file or nix eval JSON) instead")
