package input

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/lint"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/safefile"
	"golang.org/x/sys/unix"
)

// Options are what Load needs besides the arguments.
type Options struct {
	// Stdin is read for the argument "-".
	Stdin io.Reader
	// Layout is the disk layout (--layout) every configuration is linted
	// against.
	Layout []persist.Mount
	// Persist are the reader's options (--home).
	Persist persist.Options
	// Flake, when not "", is a flake output (REF#HOST) evaluated with nix
	// (persist.EvalFlake) into the configuration of the command line.
	Flake string
}

// EmptyDirError is a directory named on the command line with no .nix file
// in it or below it: a CI job must not pass by linting nothing.
type EmptyDirError struct{ Dir string }

func (e *EmptyDirError) Error() string {
	return escape.Name(e.Dir) + ": no .nix file in this directory or below it"
}

// Load reads args (files, directories, "-" for opts.Stdin; see
// collectLintInputs) and the imports they follow into configurations, in
// the order first seen: the command line's files are one configuration, a
// walked directory's files one per host directory (assignHosts). files
// counts the distinct files read (a syntax error included) plus the flake.
// readErrs are the inputs that could not be read (a syntax error is also in
// its configuration's ReadErrors); the error is ctx's when it is cancelled,
// and then the rest is to be ignored.
func Load(ctx context.Context, args []string, opts Options) (configs []*lint.Config, files int, readErrs []error, err error) {
	layout, popts := opts.Layout, opts.Persist
	inputs, errs := collectLintInputs(ctx, args, opts.Stdin)
	groups := map[string]*lint.Config{}
	group := func(g string) *lint.Config {
		c, ok := groups[g]
		if !ok {
			c = &lint.Config{Layout: layout, Sources: map[string][]byte{}, Quiet: map[string]bool{}}
			groups[g] = c
			configs = append(configs, c)
		}
		return c
	}
	// seen holds, per configuration, the files read into it: an import is
	// read once per configuration that imports it (a host importing
	// modules/common.nix gets its declarations), and findings that two
	// configurations share are printed once (below).
	seen := map[string]map[fileID]bool{}
	seenIn := func(g string) map[fileID]bool {
		if seen[g] == nil {
			seen[g] = map[fileID]bool{}
		}
		return seen[g]
	}
	// given are the files named or walked, by identity: an import of one
	// of them from outside its importer's tree is read from there.
	given := map[fileID]lintInput{}
	for _, in := range inputs {
		if in.name != "-" {
			seenIn(in.group)[in.id] = true
			given[in.id] = in
		}
	}
	dirs := map[string]string{}  // a directory of each configuration's files, for its flake.lock
	counted := map[fileID]bool{} // files counts each file once
	count := func(in lintInput) {
		if in.name == "-" || !counted[in.id] {
			counted[in.id] = true
			files++
		}
	}
	for i := 0; i < len(inputs); i++ {
		in := inputs[i]
		if err := ctx.Err(); err != nil {
			return nil, 0, nil, err
		}
		read := persist.ReadConfigFile // a flake.nix named or walked: its hosts' modules
		if in.imported {
			read = persist.ReadData
		}
		s, err := read(ctx, in.name, in.data, popts.ForImport(in.via)) // in.data is never written
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, 0, nil, err
		}
		if err != nil {
			errs = append(errs, err)
			// A syntax error is also a finding, so that json, github and
			// sarif show it at its position.
			c := group(in.group)
			c.ReadErrors = append(c.ReadErrors, err)
			count(in)
			continue
		}
		count(in)
		if in.named && isFlake(in) && len(s.Imports) == 0 {
			errs = append(errs, &FlakeModulesError{File: in.name})
		}
		inputs = append(inputs, followImports(in, s, seenIn, given)...)
		c := group(in.group)
		if _, ok := dirs[in.group]; !ok && (!in.imported || in.flakeDir != "") {
			dirs[in.group] = in.tree
			if in.flakeDir != "" {
				dirs[in.group] = in.flakeDir // its flake.lock
			}
		}
		c.Shared = in.shared
		if in.imported {
			c.Sets = slices.Insert(c.Sets, 0, s)
		} else {
			c.Sets = append(c.Sets, s)
		}
		name := in.name
		if name == "-" {
			name = "<stdin>"
		}
		c.Sources[name] = in.data
		c.Quiet[name] = in.quiet
	}
	for g, dir := range dirs {
		groups[g].Nixpkgs = findPin(ctx, dir)
	}
	for _, c := range configs {
		if len(c.Sources) > 0 && lint.OnlyModules(c.Sources) {
			c.Shared = true
		}
		persist.SettleHomes(c.Sets...) // users.users of any of its files
	}
	if opts.Flake != "" {
		s, err := persist.EvalFlake(ctx, opts.Flake, popts)
		if err != nil {
			errs = append(errs, fmt.Errorf("--flake: %w", err))
		} else {
			files++
			c := group("")
			c.Sets = append(c.Sets, s)
			c.Shared = false // the flake is a host
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, nil, err
	}
	return configs, files, errs, nil
}

// lintInput is one file read for drift lint.
type lintInput struct {
	name  string
	group string // configuration: "" for the command line, else a directory
	// shared marks a walked file outside every host directory, when the
	// walk found host directories (modules/, common.nix): its
	// configuration is linted without the missing-state rules.
	shared bool
	data   []byte
	quiet  bool
	// tree is the directory an import may be followed within: the walked
	// directory, or a named file's own directory ("" for standard input);
	// id is the file's device and inode.
	tree string
	id   fileID
	// imported is set on a file read because another imports it: its
	// declarations count as coming before the importer's, so that a
	// duplicate of a shared module's entry is reported in the host that
	// repeats it (once per host), not in the module.
	imported bool
	// via is the import that led to an imported file: a home-manager
	// user's module is read as that user's (persist.Options.ForImport).
	via persist.Import
	// named marks a file named on the command line; flakeDir, for a
	// module a named flake.nix lists that starts a configuration of its
	// own (flakeHost), is the flake's directory (its flake.lock).
	named    bool
	flakeDir string
}

// collectLintInputs reads the named files, standard input for "-", and the
// .nix files below named directories. A path named on the command line is
// followed when it is a symlink (to a file or to a directory, as a shell
// user expects); below a named directory, symlinks are never followed,
// nothing but regular files is opened, and hidden directories are
// skipped. A named directory without any .nix file is an error (a CI job
// must not pass by linting nothing). A file reached twice (x.nix ./x.nix,
// or a named file inside a named directory) is read once: inputs are told
// apart by device and inode. Between files, and while standard input is
// read, a cancelled ctx stops the collection: the error is ctx.Err().
func collectLintInputs(ctx context.Context, args []string, stdin io.Reader) ([]lintInput, []error) {
	var ins []lintInput
	var errs []error
	seen := map[fileID]bool{}
	for _, a := range args {
		if err := ctx.Err(); err != nil {
			return ins, append(errs, err)
		}
		if a == "-" {
			data, err := readCancelable(ctx, "-", stdin)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			ins = append(ins, lintInput{name: "-", data: data})
			continue
		}
		fi, err := os.Stat(a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !fi.IsDir() {
			if !fi.Mode().IsRegular() {
				typ := "file of unknown type"
				if st, ok := fi.Sys().(*syscall.Stat_t); ok {
					typ = safefile.TypeName(st.Mode)
				}
				errs = append(errs, &safefile.NotRegularError{Name: a, Type: typ}) // check's words for the same input
				continue
			}
			data, id, err := readRegular(a, false)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if seen[id] {
				continue
			}
			seen[id] = true
			ins = append(ins, lintInput{name: a, data: data, tree: filepath.Dir(a), id: id, named: true})
			continue
		}
		root := a
		if li, err := os.Lstat(a); err == nil && li.Mode()&fs.ModeSymlink != 0 {
			// Named on the command line: followed, as a named file is.
			// WalkDir does not follow its root itself; with a trailing
			// slash the kernel does.
			root = a + string(filepath.Separator)
		}
		var walked []lintInput
		nix := 0
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, err)
				if d != nil && d.IsDir() && p != root {
					return fs.SkipDir
				}
				return nil
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if d.IsDir() {
				if p != root && strings.HasPrefix(d.Name(), ".") {
					return fs.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() || !strings.HasSuffix(d.Name(), ".nix") {
				return nil
			}
			nix++
			data, id, err := readRegular(p, true)
			if err != nil {
				errs = append(errs, err)
				return nil
			}
			if seen[id] {
				return nil
			}
			seen[id] = true
			walked = append(walked, lintInput{name: p, data: data, quiet: true, tree: root, id: id})
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		} else if nix == 0 {
			errs = append(errs, &EmptyDirError{Dir: a})
		}
		assignHosts(root, walked)
		sort.SliceStable(walked, func(i, j int) bool { return walked[i].name < walked[j].name })
		ins = append(ins, walked...)
	}
	return ins, errs
}

// followImports reads the files in s.Imports (path literals of in's
// imports list; of a flake.nix's modules lists) as part of in's
// configuration (seenIn(group) holds the files a configuration has read):
// persist.ReadImport, the
// one way drift follows an import (beneath in.tree, or beyond it where
// persist.ImportPlace says: ../common.nix; never through a symlink). A
// file already read (by device and inode) is not read again, which also
// makes import cycles end. An import that cannot be followed is
// persist.Set.NotFollowedImport's warning at its position in s. A
// flake.nix's module in a host directory is its host's configuration
// (flakeHost); one the walk reads in another configuration is linted
// there only.
func followImports(in lintInput, s *persist.Set, seenIn func(string) map[fileID]bool, given map[fileID]lintInput) []lintInput {
	seen := seenIn(in.group)
	var out []lintInput
	notFollowed := func(imp persist.Import, why string) {
		s.NotFollowedImport(imp, why, "name the file on the command line, or lint the directory that holds both")
	}
	for _, imp := range s.Imports {
		if in.tree == "" {
			notFollowed(imp, "standard input has no directory")
			continue
		}
		got, err := persist.ReadImport("/", in.tree, -1, in.name, imp, true)
		if errors.Is(err, persist.ErrImportOutside) {
			target := filepath.Join(filepath.Dir(in.name), imp.Path)
			if filepath.IsAbs(imp.Path) {
				target = imp.Path // lint reads the running system's files
			}
			if id, ok := statID(target); ok && seen[id] {
				continue // named on the command line too: read as part of this configuration
			} else if g, ok := given[id]; ok {
				// Named or walked too, in another configuration: read
				// as part of this one as well.
				seen[id] = true
				out = append(out, lintInput{name: g.name, group: in.group, shared: in.shared, data: g.data, quiet: true, tree: g.tree, id: id, imported: true, via: imp})
				continue
			}
		}
		if persist.MissingHardwareConfiguration(imp, err) {
			continue
		}
		if err != nil {
			notFollowed(imp, err.Error())
			continue
		}
		id := fileID{got.ID.Dev, got.ID.Ino}
		next := lintInput{name: got.Name, group: in.group, shared: in.shared, data: got.Data, quiet: true, tree: in.tree, id: id, imported: true, via: imp}
		if isFlake(in) {
			if g, ok := given[id]; ok && g.group != in.group {
				continue // a host's module a walked flake lists: linted as that host's
			}
			if h := flakeHost(in, got.Name); h != in.group {
				next.group, next.shared, next.flakeDir = h, false, filepath.Dir(in.name)
			}
		}
		if seenIn(next.group)[id] {
			continue
		}
		seenIn(next.group)[id] = true
		out = append(out, next)
	}
	return out
}

// fileID tells files apart: device and inode.
type fileID struct{ dev, ino uint64 }

// statID is the identity of the file at p (a directory: its default.nix),
// following symlinks as naming it on the command line does.
func statID(p string) (fileID, bool) {
	var st unix.Stat_t
	if unix.Stat(p, &st) != nil {
		return fileID{}, false
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR && unix.Stat(filepath.Join(p, "default.nix"), &st) != nil {
		return fileID{}, false
	}
	return fileID{uint64(st.Dev), st.Ino}, true
}

// readCancelable reads r like readLimited, but returns ctx.Err() as soon
// as ctx is done (a `sleep 30 | drift lint -` that is interrupted). The
// read itself goes on in the background until r ends; the process exits
// before that matters.
func readCancelable(ctx context.Context, name string, r io.Reader) ([]byte, error) {
	data, err := safefile.ReadAll(ctx, r, inputLimit(name))
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("%s: %w", displayName(name), ctx.Err())
	}
	return data, err
}

// inputLimit bounds one input (maxInput).
func inputLimit(name string) safefile.Limit {
	return safefile.Limit{Name: displayName(name), Max: maxInput, What: "a declaration file"}
}

func displayName(name string) string {
	if name == "-" {
		return "<stdin>"
	}
	return escape.Name(name)
}

// hostParents are the directory names whose sub-directories are hosts
// (hosts/<name>/, machines/<name>/), the layout of most NixOS flakes.
var hostParents = map[string]bool{"hosts": true, "machines": true}

// isHostDir reports whether dir holds a host's entry point: it contains
// configuration.nix (nixos-generate-config's and /etc/nixos's layout), or it
// is hosts/<name> or machines/<name>. files are the .nix files walked.
func isHostDir(dir string, hasConfiguration map[string]bool) bool {
	if hasConfiguration[dir] {
		return true
	}
	parent := filepath.Base(filepath.Dir(filepath.Clean(dir)))
	if filepath.Dir(filepath.Clean(dir)) == "." {
		if abs, err := filepath.Abs(dir); err == nil {
			parent = filepath.Base(filepath.Dir(abs))
		}
	}
	return hostParents[parent]
}

// assignHosts sets the configuration (group) of the files walked below
// root. A configuration is a host directory (isHostDir) with everything
// below it that is not in a deeper host directory: hosts/a/** with its
// own modules/, /etc/nixos/** (configuration.nix at the top). When the walk
// finds no host directory, all of root is one configuration, as it would
// be for a single host's files. Otherwise the files outside every host
// directory (a shared modules/, a flake's top-level .nix files) are one
// shared configuration, linted without the missing-state rules: they are
// not a host.
func assignHosts(root string, walked []lintInput) {
	hasConfiguration := map[string]bool{}
	for _, in := range walked {
		if filepath.Base(in.name) == "configuration.nix" {
			hasConfiguration[filepath.Dir(in.name)] = true
		}
	}
	anyHost := false
	hostOf := func(p string) (string, bool) {
		rootClean := filepath.Clean(root)
		for d := filepath.Dir(p); ; d = filepath.Dir(d) {
			if isHostDir(d, hasConfiguration) {
				return d, true
			}
			if filepath.Clean(d) == rootClean || d == "." || d == "/" {
				return "", false
			}
		}
	}
	hosts := make([]string, len(walked))
	for i, in := range walked {
		if h, ok := hostOf(in.name); ok {
			hosts[i], anyHost = h, true
		}
	}
	for i := range walked {
		switch {
		case hosts[i] != "":
			walked[i].group = hosts[i]
		case anyHost:
			walked[i].group, walked[i].shared = filepath.Clean(root)+string(filepath.Separator)+" (shared)", true
		default:
			walked[i].group = filepath.Clean(root)
		}
	}
}

// maxInput caps one input's size; declaration files are small.
const maxInput = 64 << 20

// readRegular reads a regular file (never a FIFO or a device: checked
// once open, which O_NONBLOCK keeps from hanging). With nofollow, a
// symlink at its last component is refused (O_NOFOLLOW): a walk never
// follows one.
// It returns the file's content and identity.
func readRegular(name string, nofollow bool) ([]byte, fileID, error) {
	flags := 0
	if nofollow {
		flags |= unix.O_NOFOLLOW
	}
	f, st, err := safefile.Open(name, flags)
	if err != nil {
		return nil, fileID{}, err
	}
	defer f.Close()
	data, err := readLimited(name, f)
	return data, fileID{uint64(st.Dev), st.Ino}, err
}

func readLimited(name string, r io.Reader) ([]byte, error) {
	return safefile.ReadAll(context.Background(), r, inputLimit(name))
}
