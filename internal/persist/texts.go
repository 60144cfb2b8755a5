package persist

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/safefile"
	"golang.org/x/sys/unix"
)

// readTexts reads the files the module m names by a relative path literal
// (Set.Texts: builtins.readFile ./backup.sh, source = ./x.sh) beneath
// treeFD (named tree, m's name below it), as imports are followed: never
// through a symbolic link, a regular file only, at most the input limit.
// Every absolute path their text holds (pathsIn, line by line) is added
// to m's Config.Strings at its line: the configuration names it as much
// as a string literal would. A directory is not read (Nix copies it to
// the store; what the files in it name is not known) and a missing file
// is no text (Nix refuses to build the configuration). Any other file that
// cannot be read (outside tree, a link on the way, too large) is in m's
// NotFollowed, with a not-static Warning: the configuration is then not
// read whole (Set.Whole).
func readTexts(ctx context.Context, root string, treeFD int, tree string, m module) {
	if len(m.set.Texts) == 0 {
		return
	}
	if m.set.Config == nil {
		m.set.Config = &Config{}
	}
	for _, t := range m.set.Texts {
		if ctx.Err() != nil {
			return
		}
		rel, err := ImportRel(root, tree, m.name, Import{Path: t.Path})
		var data []byte
		if err == nil {
			data, err = readTextBeneath(treeFD, rel)
		}
		switch {
		case errors.Is(err, errDirectory), errors.Is(err, unix.ENOENT):
			continue
		case err != nil:
			m.set.NotFollowed = append(m.set.NotFollowed, t)
			m.set.Diagnostics = append(m.set.Diagnostics, Diagnostic{Pos: t.Pos, Severity: Warning, Code: "not-static",
				Message: fmt.Sprintf("%s is not read (%v): the paths its text names are not known to be in use", escape.Name(t.Path), err),
				Hint:    "keep the file beside the module that names it, as a regular file"})
			continue
		}
		name := filepath.Join(filepath.Dir(m.name), t.Path)
		seen := map[string]bool{}
		for i, line := range strings.Split(string(data), "\n") {
			for _, p := range pathsIn(line) {
				if !seen[p] {
					seen[p] = true
					m.set.Config.Strings = append(m.set.Config.Strings, Ref{Path: p, Pos: Pos{File: name, Line: i + 1}})
				}
			}
		}
	}
}

// errDirectory is a text path literal that names a directory.
var errDirectory = errors.New("a directory")

// readTextBeneath reads the regular file rel below treeFD, never through
// a symbolic link (fsys.Open), at most maxInput bytes.
func readTextBeneath(treeFD int, rel string) ([]byte, error) {
	fd, err := fsys.Open(treeFD, rel, safefile.Flags)
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EXDEV) {
		return nil, errors.New("a symlink is on its way")
	}
	if err != nil {
		return nil, err
	}
	f, st, err := safefile.FromFD(fd, rel)
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return nil, errDirectory
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return safefile.ReadAll(context.Background(), f, safefile.Limit{Name: escape.Name(rel), Max: maxInput, What: "a file the configuration reads"})
}
