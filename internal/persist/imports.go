package persist

import (
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/safefile"
	"golang.org/x/sys/unix"
)

// FileID tells files apart: device and inode.
type FileID struct{ Dev, Ino uint64 }

// ErrImportOutside is an import that leads outside the tree imports are
// followed in.
var ErrImportOutside = errors.New("outside the tree")

// ImportRel is where the import imp of the module name (a path below the
// directory tree, both as paths on this machine) leads, relative to tree:
// a relative path from name's directory, an absolute one inside root (the
// root of the system the configuration is of: /etc/nixos/extra.nix is
// root/etc/nixos/extra.nix, never outside it); ErrImportOutside (wrapped,
// naming tree) when it leads outside tree.
func ImportRel(root, tree, name string, imp Import) (string, error) {
	target := filepath.Join(filepath.Dir(name), imp.Path)
	if filepath.IsAbs(imp.Path) {
		target = filepath.Join(root, imp.Path)
	}
	rel, err := filepath.Rel(tree, target)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%w: it is outside %s", ErrImportOutside, escape.Name(tree))
	}
	return rel, nil
}

// ImportPlace is where the import imp of the module name is read: beneath
// tree, the directory the imports of name's configuration are followed in
// (ImportRel), when it leads there; else beneath the widest directory a
// configuration reaches, bound: root, the system's root (an absolute
// import, or name lying in root: nothing of a system lies outside it),
// or / for a relative import of a module outside root (a file named on
// the command line): a static import such as ../common.nix of
// hosts/a.nix is read as nixos-rebuild reads it. It returns that
// directory and the path relative to it; the error is ImportRel's (tree)
// when the import leads outside bound too.
func ImportPlace(root, tree, name string, imp Import) (dir, rel string, err error) {
	rel, err = ImportRel(root, tree, name, imp)
	if !errors.Is(err, ErrImportOutside) {
		return tree, rel, err
	}
	abs, aerr := filepath.Abs(name)
	if aerr != nil {
		return "", "", err
	}
	bound := root
	if !filepath.IsAbs(imp.Path) && !pathx.Contains(root, abs) {
		bound = "/"
	}
	if r, berr := ImportRel(root, bound, abs, imp); berr == nil {
		return bound, r, nil
	}
	return "", "", fmt.Errorf("%w, and outside %s", err, escape.Name(bound))
}

// ImportedName is the name of the module read for the import imp of the
// module name, got (relative to the directory read beneath) for the path
// rel that ImportPlace gave: the import's target written from name's
// directory (a relative name stays relative) or, for an absolute import,
// inside root, with got's default.nix when rel named a directory.
func ImportedName(root, name string, imp Import, rel, got string) string {
	target := filepath.Join(filepath.Dir(name), imp.Path)
	if filepath.IsAbs(imp.Path) {
		target = filepath.Join(root, imp.Path)
	}
	return filepath.Join(target, strings.TrimPrefix(got, rel))
}

// ReadBeneath reads the module rel names below the directory treeFD: a
// .nix file, or a directory's default.nix, opened beneath treeFD without
// following any symbolic link (fsys.Open), a regular file only
// (safefile). It returns the
// content (at most the input limit), the file's identity and its path
// relative to treeFD. This is how every command follows imports: drift
// lint, the discovered configuration, and --persist FILE.nix. Errors:
// unix.ENOENT (wrapped) for a missing module, a symbolic link on the way,
// not a .nix file, a directory without default.nix, no openat2 (Linux <
// 5.6), reading.
func ReadBeneath(treeFD int, rel string) ([]byte, FileID, string, error) {
	return readBeneath(nil, treeFD, rel)
}

// readBeneath is ReadBeneath with the texts of p: a module read already
// (by identity, once opened) is not read again, one read is kept.
func readBeneath(p *Parses, treeFD int, rel string) ([]byte, FileID, string, error) {
	for _, name := range []string{rel, filepath.Join(rel, "default.nix")} {
		fd, err := fsys.Open(treeFD, name, safefile.Flags)
		if errors.Is(err, unix.ENOSYS) {
			return nil, FileID{}, "", errors.New("following imports needs openat2(2), Linux 5.6")
		}
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EXDEV) {
			return nil, FileID{}, "", errors.New("a symlink is on its way")
		}
		if err != nil {
			return nil, FileID{}, "", err
		}
		f, st, err := safefile.FromFD(fd, name)
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			continue // its default.nix (FromFD closed it)
		}
		if err != nil {
			return nil, FileID{}, "", err
		}
		if !strings.HasSuffix(name, ".nix") {
			f.Close()
			return nil, FileID{}, "", errors.New("not a .nix file")
		}
		id := FileID{uint64(st.Dev), st.Ino}
		if data, ok := p.text(id); ok {
			f.Close()
			return data, id, name, nil
		}
		if readHook != nil {
			readHook(f.Name())
		}
		data, err := safefile.ReadAll(context.Background(), f, safefile.Limit{Name: escape.Name(name), Max: maxInput, What: "a module"})
		f.Close()
		if err == nil {
			p.keep(id, data)
		}
		return data, id, name, err
	}
	return nil, FileID{}, "", errors.New("a directory without default.nix")
}

// ReadBeneathDir is ReadBeneath below the directory tree, named.
func ReadBeneathDir(tree, rel string) ([]byte, FileID, string, error) {
	return readBeneathDir(nil, tree, rel)
}

// readBeneathDir is ReadBeneathDir with the texts of p (readBeneath).
func readBeneathDir(p *Parses, tree, rel string) ([]byte, FileID, string, error) {
	dfd, err := fsys.OpenRoot(tree)
	if err != nil {
		return nil, FileID{}, "", err
	}
	defer unix.Close(dfd)
	return readBeneath(p, dfd, rel)
}

// Imported is a module read by following an import (ReadImport): its name
// on this machine, its identity and its content.
type Imported struct {
	Name string
	ID   FileID
	Data []byte
}

// ReadImport reads the module the import imp of the module name leads to:
// the one way every command follows an import (drift lint, the
// discovered configuration, --persist FILE.nix and the system's
// configuration.nix). It is read beneath tree (through treeFD, or by its
// name when treeFD is negative), the directory the imports of name's
// configuration are followed in (ImportRel); with beyond, an import
// leading outside tree is read beneath the directory ImportPlace gives
// (root, or / for a module outside root). ReadBeneath reads it: never
// through a symbolic link, a .nix file or a directory's default.nix.
// Errors: ImportRel's or ImportPlace's (ErrImportOutside, wrapped),
// ReadBeneath's (unix.ENOENT for a missing module:
// MissingHardwareConfiguration); for a module found but not read whole
// (too large: safefile.TooLargeError), Name and ID are set.
func ReadImport(root, tree string, treeFD int, name string, imp Import, beyond bool) (Imported, error) {
	return readImportIn(nil, root, tree, treeFD, name, imp, beyond)
}

// readImportIn is ReadImport with the texts of p (readBeneath): a module
// read already is not read again.
func readImportIn(p *Parses, root, tree string, treeFD int, name string, imp Import, beyond bool) (Imported, error) {
	dir, rel, err := tree, "", error(nil)
	if beyond {
		dir, rel, err = ImportPlace(root, tree, name, imp)
	} else {
		rel, err = ImportRel(root, tree, name, imp)
	}
	if err != nil {
		return Imported{}, err
	}
	var data []byte
	var id FileID
	var got string
	if dir == tree && treeFD >= 0 {
		data, id, got, err = readBeneath(p, treeFD, rel)
	} else {
		data, id, got, err = readBeneathDir(p, dir, rel)
	}
	if got == "" {
		return Imported{}, err
	}
	full := filepath.Join(tree, got)
	if dir != tree {
		full = ImportedName(root, name, imp, rel, got)
	}
	return Imported{Name: full, ID: id, Data: data}, err
}

// NotFollowedImport records that the import imp was not followed (why: what
// stopped it), in the one words every command says it in: a not-static
// Warning diagnostic at its position, with hint (how to have it read:
// each command's own flags), and the import in s.NotFollowed.
func (s *Set) NotFollowedImport(imp Import, why, hint string) {
	s.NotFollowed = append(s.NotFollowed, imp)
	s.Diagnostics = append(s.Diagnostics, Diagnostic{Pos: imp.Pos, Severity: Warning, Code: "not-static",
		Message: fmt.Sprintf("imports: %s is not followed (%s): the declarations and options in it are not read", escape.Name(imp.Path), why),
		Hint:    hint})
}

// MissingHardwareConfiguration reports whether err, following imp, is a
// missing hardware-configuration.nix: nixos-generate-config's file, kept on
// the machine and often not in a repository; it declares no persistence,
// and not following it is no fault of the configuration.
func MissingHardwareConfiguration(imp Import, err error) bool {
	return errors.Is(err, unix.ENOENT) && path.Base(imp.Path) == "hardware-configuration.nix"
}

// module is a .nix module read by following imports: its name on this
// machine, its identity and what it sets.
type module struct {
	name string
	id   FileID
	set  *Set
}

// followImports reads, one after the other, the modules the .nix module
// from imports by a path (Import; an absolute one inside root), and
// theirs, beneath the directory treeFD (named tree; from's name lies
// below it): ReadBeneath; with beyond, an import leading outside tree is
// read beneath the directory ImportPlace gives (root, or / for a module
// outside root). Each file is read once by identity (seen, which also
// ends cycles), as drift lint follows them. An import that cannot be
// followed (outside tree (and beyond it), through a
// symbolic link, missing, unreadable; a missing hardware-configuration.nix
// excepted) is added to notFollowed (Set.notFollowed: a Warning diagnostic
// at its position). The files each module reads (Set.Texts) are read for
// the paths they name (readTexts). A module is read and parsed through p
// (once per command; its set a copy, which readTexts adds to). It returns
// the modules read, in the order read.
// Errors: a module that cannot be parsed (it names the file), ctx's.
func followImports(ctx context.Context, p *Parses, root string, treeFD int, tree string, from module, seen map[FileID]bool, opts Options, notFollowed *Set, beyond bool) ([]module, error) {
	var read []module
	queue := []module{from}
	for len(queue) > 0 {
		m := queue[0]
		queue = queue[1:]
		readTexts(ctx, root, treeFD, tree, m)
		for _, imp := range m.set.Imports {
			got, err := readImport(ctx, p, root, treeFD, tree, m.name, imp, seen, opts, beyond)
			var perr *parseError
			switch {
			case errors.As(err, &perr):
				return nil, perr.err
			case err != nil:
				if !MissingHardwareConfiguration(imp, err) {
					notFollowed.notFollowed(imp, err)
				}
			case got.set != nil:
				read = append(read, got)
				queue = append(queue, got)
			}
		}
	}
	return read, nil
}

// parseError is a module that was read but cannot be parsed (or reading
// was interrupted): an error of the whole read, not an import not followed.
type parseError struct{ err error }

func (e *parseError) Error() string { return e.err.Error() }

// readImport reads and parses (through p) the module the import imp of
// the module name leads to below treeFD; its set is nil when it was read
// already (seen).
func readImport(ctx context.Context, p *Parses, root string, treeFD int, tree, name string, imp Import, seen map[FileID]bool, opts Options, beyond bool) (module, error) {
	if err := ctx.Err(); err != nil {
		return module{}, &parseError{err}
	}
	got, err := readImportIn(p, root, tree, treeFD, name, imp, beyond)
	if err != nil {
		return module{}, err
	}
	if seen[got.ID] {
		return module{}, nil
	}
	seen[got.ID] = true
	full, id, data := got.Name, got.ID, got.Data
	set, err := p.module(ctx, id, full, data, opts.ForImport(imp))
	if err != nil {
		return module{}, &parseError{err}
	}
	return module{full, id, set}, nil
}

// notFollowed records that imp was not followed (NotFollowedImport),
// with the hint of the commands that read --persist.
func (s *Set) notFollowed(imp Import, err error) {
	s.NotFollowedImport(imp, err.Error(), "name that module with --persist too, or the configuration.nix of a tree that holds both")
}
