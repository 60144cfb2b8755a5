package input

import (
	"path/filepath"

	"github.com/nix-drift/drift/internal/escape"
	"golang.org/x/sys/unix"
)

// FlakeModulesError is a flake.nix named on the command line whose hosts
// list no module by a path (nixosSystem { modules = [ ./configuration.nix
// ]; }): nothing of the configuration it evaluates can be read without
// Nix, and a CI job must not pass by linting nothing.
type FlakeModulesError struct{ File string }

func (e *FlakeModulesError) Error() string {
	return escape.Name(e.File) + ": its hosts list no module by a path: none of the configuration it evaluates is read, nothing to lint"
}

// isFlake reports whether in is a flake.nix named or walked (read for the
// modules its hosts list: persist.ReadConfigFile), not one imported.
func isFlake(in lintInput) bool {
	return !in.imported && filepath.Base(in.name) == "flake.nix"
}

// flakeHost is the configuration a module that the named flake.nix in lists
// is linted in: the host directory it lies in below the flake's, as
// assignHosts finds one in a walk (hosts/NAME, machines/NAME, a directory
// holding a configuration.nix), so that `drift lint flake.nix` lints each
// host as `drift lint DIR` does, not every host's modules as one machine;
// else in's own. A walked flake's modules are assigned by the walk.
func flakeHost(in lintInput, module string) string {
	if !in.named {
		return in.group
	}
	top := filepath.Clean(filepath.Dir(in.name))
	for d := filepath.Dir(module); d != top && d != "." && d != "/" && len(d) > len(top); d = filepath.Dir(d) {
		var st unix.Stat_t
		hasConfiguration := unix.Lstat(filepath.Join(d, "configuration.nix"), &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG
		if isHostDir(d, map[string]bool{d: hasConfiguration}) {
			return d
		}
	}
	return in.group
}
