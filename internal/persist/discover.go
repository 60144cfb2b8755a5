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
// resolve inside root is a Warning diagnostic naming it. Discover returns
// the merged set and the files read (their names as found under root),
// sorted. A missing etc/nixos is not an error: the set is empty. Errors: a
// declarations file or a matching .nix file that cannot be read or parsed.
func Discover(root string, opts Options) (*Set, []string, error) {
	r, err := openRoot(root)
	if err != nil {
		return nil, nil, err
	}
	defer r.close()
	set, name, diags, err := r.readDeclarationsFile(opts)
	if err != nil {
		return nil, nil, err
	}
	if set != nil {
		return set, []string{name}, nil
	}
	w := &nixosWalk{r: r, seen: map[fileID]bool{}, opts: opts}
	w.diags = diags
	if err := w.dir(nixosDir, 0); err != nil {
		return nil, nil, err
	}
	sort.Slice(w.found, func(i, j int) bool { return w.found[i].name < w.found[j].name })
	set = &Set{}
	var files []string
	for _, f := range w.found {
		set.Merge(f.set)
		files = append(files, f.name)
	}
	set.Diagnostics = append(set.Diagnostics, w.diags...)
	return set, files, nil
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
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", root, err)
	}
	r := &inRoot{root: root, fd: fd}
	probe, err := unix.Openat2(fd, ".", &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT})
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

// open opens rel (flags: O_PATH, O_NOFOLLOW… ; O_CLOEXEC is added).
func (r *inRoot) open(rel string, flags int) (int, error) {
	flags |= unix.O_CLOEXEC
	if r.plain {
		if r.root != "/" {
			flags |= unix.O_NOFOLLOW
		}
		return unix.Openat(r.fd, rel, flags, 0)
	}
	return unix.Openat2(r.fd, rel, &unix.OpenHow{Flags: uint64(flags), Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS})
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
	case err != nil:
		return nil, "", nil, fmt.Errorf("%s: %w", name, err)
	case !ok:
		return nil, "", nil, fmt.Errorf("%s: not a regular file", name)
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

// fileID identifies a file or directory (reached through links or not).
type fileID struct{ dev, ino uint64 }

// nixosWalk is Discover's walk of etc/nixos.
type nixosWalk struct {
	r     *inRoot
	opts  Options
	seen  map[fileID]bool
	diags []Diagnostic
	found []struct {
		name string
		set  *Set
	}
}

// dir reads the directory rel (depth levels below etc/nixos), resolved
// inside the root.
func (w *nixosWalk) dir(rel string, depth int) error {
	st, err := w.r.stat(rel)
	if err != nil {
		if d, ok := w.r.brokenLink(rel, err, "the .nix files there are not read"); ok {
			w.diags = append(w.diags, d)
		}
		return nil // missing or unreadable: nothing to read there
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR || w.seen[fileID{st.Dev, st.Ino}] {
		return nil
	}
	w.seen[fileID{st.Dev, st.Ino}] = true
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
// yet, and its text mentions persistence or preserveAt.
func (w *nixosWalk) file(rel string) error {
	if !strings.HasSuffix(rel, ".nix") {
		return nil
	}
	st, err := w.r.stat(rel)
	if err != nil || w.seen[fileID{st.Dev, st.Ino}] {
		return nil
	}
	w.seen[fileID{st.Dev, st.Ino}] = true
	data, ok, err := w.r.readRegular(rel)
	if err != nil || !ok {
		return nil
	}
	if !bytes.Contains(data, []byte("persistence")) && !bytes.Contains(data, []byte("preserveAt")) {
		return nil
	}
	name := w.r.name(rel)
	if len(data) > maxInput {
		return fmt.Errorf("%s: larger than %d MiB: not a declaration file", name, maxInput>>20)
	}
	s, err := Read(name, bytes.NewReader(data), w.opts)
	if err != nil {
		return err
	}
	w.found = append(w.found, struct {
		name string
		set  *Set
	}{name, s})
	return nil
}
