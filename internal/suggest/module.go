package suggest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"

	"github.com/nix-drift/drift/internal/audit"
)

// ModuleName is the name drift suggest --format nix asks its module to be
// saved as, in the directory ModuleDir chooses, when no file holds that
// name yet; else the first of persist-suggested-2.nix,
// persist-suggested-3.nix, … free (ChooseModuleFile).
const ModuleName = "persist-suggested.nix"

// maxModuleRounds bounds the names ChooseModuleFile tries.
const maxModuleRounds = 999

// ModuleFile is where drift suggest --format nix asks its module to be
// saved, as the host names it (the audited root's path included).
type ModuleFile struct {
	// Path is the file to save the module as: a name nothing is at, or an
	// empty regular file (what a shell's > redirection makes before drift
	// runs: it holds nothing to lose).
	Path string
	// Taken are the names tried before Path, in order, each found holding
	// something (a file of an earlier round, most likely imported): the
	// module is saved beside them, never over them.
	Taken []string
	// Err, when not nil, is why Path could not be looked up (permission,
	// or every name tried taken): a file may be there.
	Err error
}

// ModuleDir is the directory drift suggest --format nix asks its module
// to be saved in, as the host names it: that of the first .nix file a
// --persist of args names (the flags that pointed drift at the system,
// audit.Model's Args, as flag/value pairs), else that of a --flake on a
// local path (path:, #attr and ?query taken off), else the audited
// system's etc/nixos (below root).
func ModuleDir(root string, args []string) string {
	flake := ""
	for i := 0; i+1 < len(args); i += 2 {
		switch v := args[i+1]; args[i] {
		case "--persist":
			if strings.HasSuffix(v, ".nix") {
				return path.Dir(v)
			}
		case "--flake":
			flake = v
		}
	}
	dir, _, _ := strings.Cut(strings.TrimPrefix(flake, "path:"), "#")
	dir, _, _ = strings.Cut(dir, "?")
	if strings.HasPrefix(dir, "/") {
		return path.Clean(dir)
	}
	return path.Join(root, "etc/nixos")
}

// ChooseModuleFile is the file in ModuleDir(root, args) drift suggest
// --format nix asks its module to be saved as: ModuleName when free, else
// the first free of persist-suggested-N.nix, N = 2, 3, … (ModuleFile.Path:
// free is nothing there, or an empty regular file). Telling a user to
// save over a file that exists would, on a second round, replace the
// first round's declarations, and its next boot would hide what they
// kept. A name is looked up without following a symlink there (one is
// taken, dangling or not). The search stops at a name that cannot be
// looked up for another reason than that nothing is there (permission),
// and after maxModuleRounds names: that name is Path, and Err says why it
// is not known to be free.
func ChooseModuleFile(root string, args []string) ModuleFile {
	dir := ModuleDir(root, args)
	var mf ModuleFile
	for n := 1; ; n++ {
		name := ModuleName
		if n > 1 {
			name = fmt.Sprintf("persist-suggested-%d.nix", n)
		}
		mf.Path = path.Join(dir, name)
		free, err := moduleNameFree(mf.Path)
		switch {
		case err != nil:
			mf.Err = err
			return mf
		case free:
			return mf
		case n == maxModuleRounds:
			mf.Err = fmt.Errorf("%d names taken", n)
			return mf
		}
		mf.Taken = append(mf.Taken, mf.Path)
	}
}

// moduleNameFree says whether nothing is at p (nor can be: a parent is
// missing or not a directory) or p is an empty regular file; the error is
// os.Lstat's other errors.
func moduleNameFree(p string) (bool, error) {
	fi, err := os.Lstat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return true, nil
	case err != nil:
		return false, err
	}
	return fi.Mode().IsRegular() && fi.Size() == 0, nil
}

// dropEarlier drops the Persist suggestions whose path a module in taken
// declares (the files ChooseModuleFile passed over, an earlier round's
// module most likely, each read on its own with its imports, homes as
// --home gives them: m.ReadModule, which reads no module of the
// configuration the model read again; one that cannot be read is passed
// over), counting
// their lost paths in left (LeftEarlier, naming the files). A suggestion
// the declarations read declare is never made: such a file is one they do
// not include, and saved beside it and imported, the new module would
// declare the path again (impermanence's duplicate assertions refuse
// that, drift lint's duplicate error).
func dropEarlier(ctx context.Context, m *audit.Model, taken []string, sugs []Suggestion, left []Left) ([]Suggestion, []Left) {
	a := m.Audit
	declared := map[string]bool{}
	var files []string
	for _, f := range taken {
		set, err := m.ReadModule(ctx, f)
		if err != nil || len(set.Entries) == 0 {
			continue
		}
		files = append(files, f)
		for _, e := range set.Entries {
			declared[e.Path] = true
		}
	}
	if len(declared) == 0 {
		return sugs, left
	}
	var drop Left
	kept := sugs[:0:0]
	for _, s := range sugs {
		if s.Action != Persist || !s.Declares() || !declared[s.Path] {
			kept = append(kept, s)
			continue
		}
		// Lost paths are counted; vanished ones stay in drift check's
		// VANISHED table, with its restore.
		if len(s.items) > 0 {
			drop.Count += len(s.items)
			drop.Examples = append(drop.Examples, s.Path)
		}
		for _, i := range s.items {
			drop.Paths = append(drop.Paths, a.Lost[i].Path)
		}
	}
	if len(kept) == len(sugs) {
		return sugs, left
	}
	SortSuggestions(kept)
	if drop.Count > 0 {
		left = addLeft(left, LeftEarlier+": "+strings.Join(files, ", "), drop)
	}
	return kept, left
}
