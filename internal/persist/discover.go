package persist

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// discoverMaxDepth bounds how deep Discover looks below etc/nixos.
const discoverMaxDepth = 4

// DeclarationsFile is where the services.drift NixOS module (nix/module.nix)
// writes the system's evaluated declarations, relative to the system's root:
// a JSON object of persistent storage paths, environment.persistence and
// preservation.preserveAt merged (ParseJSON reads it).
const DeclarationsFile = "etc/drift/declarations.json"

// Discover finds the declarations of the system at root when none were
// named. When root/etc/drift/declarations.json exists (DeclarationsFile,
// written by the services.drift module from the evaluated configuration),
// that file alone is read: it is the evaluated truth. It is opened with
// symlinks resolved inside root (on NixOS it is a link through /etc/static
// into /nix/store, which for --root R must be R's store, not the host's),
// and must be a regular file.
//
// Otherwise Discover reads the .nix files under root/etc/nixos (at most 4
// levels deep, never through a symlinked directory) whose text mentions
// "persistence" or "preserveAt", statically. It returns the merged set and
// the files read, sorted. A missing etc/nixos is not an error: the set is
// empty. Errors: a declarations file or a matching .nix file that cannot be
// read or parsed.
func Discover(root string, opts Options) (*Set, []string, error) {
	if set, name, err := readDeclarationsFile(root, opts); err != nil || set != nil {
		if err != nil {
			return nil, nil, err
		}
		return set, []string{name}, nil
	}
	base := filepath.Join(root, "etc", "nixos")
	var files []string
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == base {
				return fs.SkipAll
			}
			return nil
		}
		if d.IsDir() {
			if rel, _ := filepath.Rel(base, p); rel != "." && (strings.Count(rel, string(filepath.Separator)) >= discoverMaxDepth || strings.HasPrefix(d.Name(), ".")) {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasSuffix(d.Name(), ".nix") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		if bytes.Contains(data, []byte("persistence")) || bytes.Contains(data, []byte("preserveAt")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(files)
	set := &Set{}
	for _, f := range files {
		s, err := ReadFile(f, opts)
		if err != nil {
			return nil, nil, err
		}
		set.Merge(s)
	}
	return set, files, nil
}

// readDeclarationsFile reads root/DeclarationsFile, resolving symlinks as if
// root were / (openat2 RESOLVE_IN_ROOT). A missing file (or missing
// directory on the way) gives a nil set and no error.
func readDeclarationsFile(root string, opts Options) (*Set, string, error) {
	name := filepath.Join(root, DeclarationsFile)
	rfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", root, err)
	}
	defer unix.Close(rfd)
	fd, err := unix.Openat2(rfd, DeclarationsFile, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NONBLOCK,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	var f *os.File
	switch {
	case errors.Is(err, unix.ENOSYS) && root == "/":
		// No openat2 (Linux < 5.6): at / the links resolve where they
		// should anyway.
		f, err = os.OpenFile(name, os.O_RDONLY|unix.O_NONBLOCK, 0)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, "", nil
		}
		if err != nil {
			return nil, "", err
		}
	case errors.Is(err, unix.ENOSYS):
		return nil, "", fmt.Errorf("%s: reading it under another root needs openat2(2) (Linux 5.6): name the declarations with --persist", name)
	case errors.Is(err, unix.ENOENT):
		return nil, "", nil
	case err != nil:
		return nil, "", fmt.Errorf("%s: %w", name, err)
	default:
		f = os.NewFile(uintptr(fd), name)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, "", err
	}
	if !fi.Mode().IsRegular() {
		return nil, "", fmt.Errorf("%s: not a regular file", name)
	}
	set, err := Read(name, f, opts)
	if err != nil {
		return nil, "", err
	}
	return set, name, nil
}
