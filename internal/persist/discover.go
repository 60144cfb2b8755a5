package persist

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/safefile"
	"golang.org/x/sys/unix"
)

// discoverMaxDepth bounds how deep Discover looks below etc/nixos.
const discoverMaxDepth = 4

// DeclarationsFile is where the services.drift NixOS module (nix/module.nix)
// writes the system's evaluated declarations, relative to the system's root:
// a JSON object of persistent storage paths, environment.persistence and
// preservation.preserveAt merged (ParseJSON reads it).
const DeclarationsFile = "etc/drift/declarations.json"

// nixosDir is the NixOS configuration directory, relative to the root.
const nixosDir = "etc/nixos"

// Discover finds the declarations of the system at root when none were
// named. Every path below root is resolved as if root were / (openat2
// RESOLVE_IN_ROOT): an absolute symlink such as /etc/static/… or
// /nix/persist/etc/nixos is followed into root's own /nix, never the
// host's, and nothing outside root is read.
//
// When root/etc/drift/declarations.json exists (DeclarationsFile, written by
// the services.drift module from the evaluated configuration), that file
// alone is read: it is the evaluated truth. It must be a regular file. When
// it is a symbolic link that does not resolve inside root (a rescue system
// with root's /nix not mounted), that is a Warning diagnostic naming the link
// and its target, and Discover falls back to etc/nixos, saying so.
//
// Otherwise Discover reads the .nix files under root/etc/nixos (at most 4
// levels deep, hidden directories skipped) whose text mentions
// "persistence" or "preserveAt", statically; etc/nixos itself, the
// directories and the .nix files below it may be symbolic links (an
// impermanence setup links /etc/nixos to /nix/persist/etc/nixos), followed
// inside root, each file and directory read once. A link that does not
// resolve inside root is a Warning diagnostic naming it. The modules joined
// to those files by relative imports, in either direction, are read too
// for the options they set (configuration.nix importing ./secrets.nix;
// withImports follows imports as drift lint does: beneath the tree, never
// through a symbolic link). When etc/nixos holds flake.nix (the modules
// its hosts list) or else configuration.nix, a declaring file they do not
// import (directly or through another module) is left out, with a Warning
// naming it (keepImported): nixos-rebuild does not read it. Discover returns
// the merged set and the files read (their names as found under root),
// sorted.
//
// When etc/nixos yields no declarations (missing, as on a rescue mount of
// a root whose /etc/nixos is itself persisted and bind-mounted at boot, or
// an empty mount point), Discover reads the persisted copy instead:
// STORAGE/etc/nixos below root for the first storage path that holds one
// (persistedNixos), saying so in an Info diagnostic. When nothing at all is
// found, a Warning diagnostic says where Discover looked and what to do;
// the set is then empty, which is not an error. Errors: a declarations
// file or a matching .nix file that cannot be read or parsed.
func Discover(root string, opts Options) (*Set, []string, error) {
	set, files, _, err := discover(context.Background(), root, opts, NewParses())
	return set, files, err
}

// discover is Discover, with the identities of the .nix files read (none
// for the declarations file); what it reads and parses of the modules
// (the walk, the entry keepImported reads, the imports) is p's. It gives
// up reading the entry when ctx is done.
func discover(ctx context.Context, root string, opts Options, p *Parses) (*Set, []string, []FileID, error) {
	r, err := openRoot(root)
	if err != nil {
		return nil, nil, nil, err
	}
	defer r.close()
	set, name, diags, err := r.readDeclarationsFile(opts)
	if err != nil {
		return nil, nil, nil, err
	}
	if set != nil {
		return set, []string{name}, nil, nil
	}
	w := &nixosWalk{r: r, seen: map[FileID]bool{}, opts: opts, parses: p}
	defer w.closeTrees()
	w.diags = diags
	if err := w.nixos(); err != nil {
		return nil, nil, nil, err
	}
	w.keepImported(ctx)
	found := w.withImports()
	sort.Slice(found, func(i, j int) bool { return found[i].name < found[j].name })
	set = &Set{}
	var files []string
	var ids []FileID
	for _, f := range found {
		set.Merge(f.set)
		files = append(files, f.name)
		ids = append(ids, f.id)
	}
	set.Diagnostics = append(set.Diagnostics, w.diags...)
	return set, files, ids, nil
}

// inRoot opens paths relative to a root directory, resolving them inside
// it.
type inRoot struct {
	root string
	fd   int
	// plain: no openat2 (Linux < 5.6). At / links resolve where they
	// should anyway; under another root they are not followed at all.
	plain bool
}

func openRoot(root string) (*inRoot, error) {
	fd, err := fsys.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", root, err)
	}
	r := &inRoot{root: root, fd: fd}
	probe, err := fsys.OpenInRoot(fd, ".", unix.O_PATH)
	if errors.Is(err, unix.ENOSYS) {
		r.plain = true
	} else if err == nil {
		unix.Close(probe)
	}
	return r, nil
}

func (r *inRoot) close() { unix.Close(r.fd) }

// name is rel as a path on this machine, for messages.
func (r *inRoot) name(rel string) string { return filepath.Join(r.root, rel) }

// open opens rel (flags: O_PATH, O_NOFOLLOW… ; O_CLOEXEC is added)
// resolved inside the root (fsys.OpenInRoot), or, plain, by openat(2).
func (r *inRoot) open(rel string, flags int) (int, error) {
	if r.plain {
		flags |= unix.O_CLOEXEC
		if r.root != "/" {
			flags |= unix.O_NOFOLLOW
		}
		return unix.Openat(r.fd, rel, flags, 0)
	}
	return fsys.OpenInRoot(r.fd, rel, flags)
}

// stat resolves rel and returns what it is.
func (r *inRoot) stat(rel string) (unix.Stat_t, error) {
	var st unix.Stat_t
	fd, err := r.open(rel, unix.O_PATH)
	if err != nil {
		return st, err
	}
	defer unix.Close(fd)
	if err = unix.Fstat(fd, &st); err == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
		err = unix.ELOOP // O_NOFOLLOW: a link not followed
	}
	return st, err
}

// brokenLink reports whether rel is a symbolic link that does not resolve
// inside the root (or, without openat2 under another root, is not
// followed), with its target and a diagnostic saying so; what after the
// message says what drift does instead.
func (r *inRoot) brokenLink(rel string, resolveErr error, what string) (Diagnostic, bool) {
	fd, err := r.open(rel, unix.O_PATH|unix.O_NOFOLLOW)
	if err != nil {
		return Diagnostic{}, false
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFLNK {
		return Diagnostic{}, false
	}
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(fd, "", buf)
	target := "?"
	if err == nil {
		target = string(buf[:n])
	}
	why := "which does not resolve inside " + r.root
	if r.plain && r.root != "/" {
		why = "which is not followed under another root without openat2(2) (Linux 5.6)"
	} else if resolveErr != nil && !errors.Is(resolveErr, unix.ENOENT) {
		why += " (" + resolveErr.Error() + ")"
	}
	hint := "name the declarations with --persist or --flake"
	switch {
	case r.root == "/":
	case strings.HasPrefix(target, "/etc/static/") || strings.HasPrefix(target, "/nix/"):
		// NixOS's /etc links go through /etc/static into /nix/store.
		hint = "mount the system's /nix at " + filepath.Join(r.root, "nix") + ", or " + hint
	case strings.HasPrefix(target, "/"):
		hint = "mount the file system holding " + target + " under " + r.root + ", or " + hint
	}
	return Diagnostic{
		Pos:      Pos{File: r.name(rel)},
		Severity: Warning,
		Message:  fmt.Sprintf("a symbolic link to %s, %s: %s", target, why, what),
		Hint:     hint,
	}, true
}

// readRegular opens rel, resolved inside the root, and reads it when it is
// a regular file; ok is false (and err nil) when it is something else.
func (r *inRoot) readRegular(rel string) (data []byte, ok bool, err error) {
	st, err := r.stat(rel)
	if err != nil {
		return nil, false, err
	}
	return r.readStat(rel, st)
}

// readStat is readRegular of rel, which r.stat said is st: it is not
// looked at again before it is opened.
func (r *inRoot) readStat(rel string, st unix.Stat_t) (data []byte, ok bool, err error) {
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, false, nil
	}
	fd, err := r.open(rel, safefile.Flags)
	if err != nil {
		return nil, false, err
	}
	f, st2, err := safefile.FromFD(fd, r.name(rel))
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	if st2.Dev != st.Dev || st2.Ino != st.Ino {
		return nil, false, fmt.Errorf("%s: changed while being opened", escape.Name(r.name(rel)))
	}
	if readHook != nil {
		readHook(r.name(rel))
	}
	data, err = safefile.ReadAll(context.Background(), f, safefile.Limit{Name: r.name(rel), Max: maxInput, What: "a declaration file"})
	return data, err == nil, err
}

// readDeclarationsFile reads root/DeclarationsFile. A missing file (or
// missing directory on the way) gives a nil set and no error; a dangling
// link gives a nil set and a Warning diagnostic.
func (r *inRoot) readDeclarationsFile(opts Options) (*Set, string, []Diagnostic, error) {
	name := r.name(DeclarationsFile)
	if r.plain && r.root != "/" {
		if _, err := os.Lstat(name); err != nil {
			return nil, "", nil, nil
		}
		return nil, "", nil, fmt.Errorf("%s: reading it under another root needs openat2(2) (Linux 5.6): name the declarations with --persist", name)
	}
	data, ok, err := r.readRegular(DeclarationsFile)
	switch {
	case errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ELOOP):
		if d, broken := r.brokenLink(DeclarationsFile, err, "reading the .nix files under "+r.name(nixosDir)+" instead, which may declare a different set"); broken {
			return nil, "", []Diagnostic{d}, nil
		}
		if errors.Is(err, unix.ENOENT) {
			return nil, "", nil, nil
		}
		return nil, "", nil, fmt.Errorf("%s: %w", name, err)
	case errors.As(err, new(*safefile.TooLargeError)):
		return nil, "", nil, err // it names the file
	case err != nil:
		return nil, "", nil, fmt.Errorf("%s: %w", name, err)
	case !ok:
		st, _ := r.stat(DeclarationsFile)
		return nil, "", nil, &safefile.NotRegularError{Name: name, Type: safefile.TypeName(st.Mode)}
	}
	if len(data) > maxInput {
		return nil, "", nil, fmt.Errorf("%s: larger than %d MiB: not a declaration file", name, maxInput>>20)
	}
	set, err := Read(name, bytes.NewReader(data), opts)
	if err != nil {
		return nil, "", nil, err
	}
	return set, name, nil, nil
}

// knownStoragePaths are the persistent storage paths most setups use
// (relative to the root), looked at first for a persisted etc/nixos.
var knownStoragePaths = []string{"nix/persist", "persist", "persistent", "nix/persistent", "state", "nix/state"}

// notStorage are names directly under the root or under nix that are never
// a persistent storage path.
var notStorage = map[string]bool{"etc": true, "nix": true, "store": true, "var": true, "proc": true, "sys": true, "dev": true, "run": true, "tmp": true}

// nixos reads etc/nixos and, when it yields nothing, the persisted copy
// of it (persistedNixos); when that yields nothing either, it adds the
// Warning saying where it looked.
func (w *nixosWalk) nixos() error {
	what := w.status(nixosDir)
	if len(w.found) > 0 {
		return nil
	}
	copies := w.r.persistedNixos()
	var looked []string
	for _, c := range copies {
		if err := w.dir(c, 0); err != nil {
			return err
		}
		if len(w.found) > 0 {
			w.diags = append(w.diags, Diagnostic{Severity: Info,
				Message: fmt.Sprintf("%s holds no declarations (%s): read its persisted copy %s instead", w.r.name(nixosDir), what, w.r.name(c))})
			return nil
		}
		looked = append(looked, w.r.name(c)+" (no declarations)")
	}
	if len(copies) == 0 {
		looked = append(looked, "none of "+w.r.name("{"+strings.Join(knownStoragePaths, ",")+"}/etc/nixos")+" or "+w.r.name("{*,nix/*}/etc/nixos")+" exists")
	}
	hint := "name the declarations with --persist FILE or --flake REF#HOST"
	if w.r.root != "/" {
		hint = "on a rescue system, mount the persistent storage where the system mounts it (" + w.r.name("nix/persist") + ", or the system's /nix at " + w.r.name("nix") + ") and run drift again, or " + hint
	}
	w.diags = append(w.diags, Diagnostic{Severity: Warning,
		Message: fmt.Sprintf("no persistence declarations found: no %s, no .nix file mentioning persistence or preserveAt in %s (%s), nor in a persisted copy of it: %s",
			w.r.name(DeclarationsFile), w.r.name(nixosDir), what, strings.Join(looked, "; ")),
		Hint: hint})
	return nil
}

// status reads the directory rel with dir and says what it held, for
// messages: "missing", "not a directory", "a link that does not resolve
// inside ROOT", "no .nix file", "none of its N .nix files mentions
// persistence or preserveAt", or "" when it declared something.
func (w *nixosWalk) status(rel string) string {
	st, err := w.r.stat(rel)
	switch {
	case errors.Is(err, unix.ELOOP) || err != nil && w.r.isLink(rel):
		w.dir(rel, 0) // the warning naming the link
		return "a link that does not resolve inside " + w.r.root
	case errors.Is(err, unix.ENOENT):
		return "missing"
	case err != nil:
		return err.Error()
	case st.Mode&unix.S_IFMT != unix.S_IFDIR:
		return "not a directory"
	}
	n := w.nixFiles
	if err := w.dir(rel, 0); err != nil {
		return err.Error()
	}
	switch n = w.nixFiles - n; {
	case len(w.found) > 0:
		return ""
	case n == 0:
		return "no .nix file"
	case n == 1:
		return "its one .nix file mentions neither persistence nor preserveAt"
	}
	return fmt.Sprintf("none of its %d .nix files mentions persistence or preserveAt", n)
}

// isLink reports whether rel itself (not followed) is a symbolic link.
func (r *inRoot) isLink(rel string) bool {
	fd, err := r.open(rel, unix.O_PATH|unix.O_NOFOLLOW)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK
}

// persistedNixos lists, relative to the root, the persisted copies of
// etc/nixos that exist as directories: STORAGE/etc/nixos for the known
// storage paths first (knownStoragePaths), then for every other directory
// directly under the root or under nix (not etc, nix/store, var…), in
// name order. An impermanence setup that persists /etc/nixos keeps it at
// /nix/persist/etc/nixos; a rescue mount of the root alone has no
// etc/nixos.
func (r *inRoot) persistedNixos() []string {
	var out []string
	seen := map[string]bool{}
	add := func(storage string) {
		c := path.Join(storage, nixosDir)
		if seen[c] {
			return
		}
		seen[c] = true
		if st, err := r.stat(c); err == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
			out = append(out, c)
		}
	}
	for _, p := range knownStoragePaths {
		add(p)
	}
	for _, parent := range []string{".", "nix"} {
		fd, err := r.open(parent, unix.O_RDONLY|unix.O_DIRECTORY)
		if err != nil {
			continue
		}
		f := os.NewFile(uintptr(fd), r.name(parent))
		names, _ := f.Readdirnames(-1)
		f.Close()
		sort.Strings(names)
		for _, n := range names {
			if !strings.HasPrefix(n, ".") && !notStorage[n] {
				add(path.Join(parent, n))
			}
		}
	}
	return out
}

// nixosWalk is Discover's walk of etc/nixos.
type nixosWalk struct {
	r     *inRoot
	opts  Options
	seen  map[FileID]bool
	diags []Diagnostic
	// nixFiles counts the .nix files read (declaring or not).
	nixFiles int
	// found are the files that declare; others the ones that do not but
	// have an imports list (withImports); tree is the directory the walk
	// started at (etc/nixos or a persisted copy of it).
	found  []walkFile
	others []walkFile
	tree   string
	// parses are the texts and parses of the modules of the command
	// (Parses): what the walk reads is read once.
	parses *Parses
	// trees are the directories imports are followed beneath (importOf),
	// by path relative to the root, opened once (treeFD); closeTrees
	// closes them.
	trees map[string]int
}

// treeFD is the directory rel (relative to the root, resolved inside it)
// opened O_PATH, once per walk.
func (w *nixosWalk) treeFD(rel string) (int, error) {
	if fd, ok := w.trees[rel]; ok {
		return fd, nil
	}
	fd, err := w.r.open(rel, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return -1, err
	}
	if w.trees == nil {
		w.trees = map[string]int{}
	}
	w.trees[rel] = fd
	return fd, nil
}

// closeTrees closes the directories treeFD opened.
func (w *nixosWalk) closeTrees() {
	for _, fd := range w.trees {
		unix.Close(fd)
	}
	w.trees = nil
}

// dir reads the directory rel (depth levels below etc/nixos), resolved
// inside the root.
func (w *nixosWalk) dir(rel string, depth int) error {
	if depth == 0 {
		w.tree = rel
	}
	st, err := w.r.stat(rel)
	if err != nil {
		if d, ok := w.r.brokenLink(rel, err, "the .nix files there are not read"); ok {
			w.diags = append(w.diags, d)
		}
		return nil // missing or unreadable: nothing to read there
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR || w.seen[FileID{uint64(st.Dev), st.Ino}] {
		return nil
	}
	w.seen[FileID{uint64(st.Dev), st.Ino}] = true
	fd, err := w.r.open(rel, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return nil
	}
	f := os.NewFile(uintptr(fd), w.r.name(rel))
	ents, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return nil
	}
	// Links last: a file reached both directly and through a link is
	// named by its own path.
	sort.Slice(ents, func(i, j int) bool {
		li, lj := ents[i].Type()&os.ModeSymlink != 0, ents[j].Type()&os.ModeSymlink != 0
		if li != lj {
			return lj
		}
		return ents[i].Name() < ents[j].Name()
	})
	for _, e := range ents {
		p := path.Join(rel, e.Name())
		switch t := e.Type(); {
		case t.IsDir():
			if depth+1 <= discoverMaxDepth && !strings.HasPrefix(e.Name(), ".") {
				if err := w.dir(p, depth+1); err != nil {
					return err
				}
			}
		case t.IsRegular():
			if err := w.file(p); err != nil {
				return err
			}
		case t&os.ModeSymlink != 0:
			st, err := w.r.stat(p)
			if err != nil {
				if d, ok := w.r.brokenLink(p, err, "not read"); ok {
					w.diags = append(w.diags, d)
				}
				continue
			}
			switch st.Mode & unix.S_IFMT {
			case unix.S_IFDIR:
				if depth+1 <= discoverMaxDepth && !strings.HasPrefix(e.Name(), ".") {
					if err := w.dir(p, depth+1); err != nil {
						return err
					}
				}
			case unix.S_IFREG:
				if err := w.file(p); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// file reads rel when its name ends in .nix, it is a regular file not read
// yet, and its text mentions persistence or preserveAt; a file that does
// not but has an imports list is kept for withImports (other).
func (w *nixosWalk) file(rel string) error {
	if !strings.HasSuffix(rel, ".nix") {
		return nil
	}
	st, err := w.r.stat(rel)
	if err != nil || w.seen[FileID{uint64(st.Dev), st.Ino}] {
		return nil
	}
	id := FileID{uint64(st.Dev), st.Ino}
	w.seen[id] = true
	data, ok := w.parses.text(id)
	if !ok {
		data, ok, err = w.r.readStat(rel, st)
		if errors.As(err, new(*safefile.TooLargeError)) {
			return err // it names the file
		}
		if err != nil || !ok {
			return nil
		}
		w.parses.keep(id, data)
	}
	w.nixFiles++
	if !bytes.Contains(data, []byte("persistence")) && !bytes.Contains(data, []byte("preserveAt")) {
		w.other(rel, id, data)
		return nil
	}
	name := w.r.name(rel)
	if len(data) > maxInput {
		return fmt.Errorf("%s: larger than %d MiB: not a declaration file", name, maxInput>>20)
	}
	s, err := w.parses.module(context.Background(), id, name, data, w.opts)
	if err != nil {
		return err
	}
	w.found = append(w.found, walkFile{name: name, rel: rel, tree: w.tree, id: id, set: s})
	return nil
}
