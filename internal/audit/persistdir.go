package audit

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/safefile"
)

// persistDirHint turns persist.Load's refusal of a --persist that is a
// directory (/etc/nixos) into a HintError naming what to pass instead,
// from what the directory holds: its configuration.nix (the modules it
// imports are read with it), its flake (--flake DIR#HOST), else its .nix
// files. Any other error is returned as it is.
func persistDirHint(err error) error {
	var nr *safefile.NotRegularError
	if !errors.As(err, &nr) || nr.Type != "directory" {
		return err
	}
	dir := nr.Name
	var ways []string
	if fi, e := os.Lstat(filepath.Join(dir, "configuration.nix")); e == nil && fi.Mode().IsRegular() {
		ways = append(ways, "--persist "+escape.Name(filepath.Join(dir, "configuration.nix"))+" (the modules it imports are read too)")
	}
	if fi, e := os.Lstat(filepath.Join(dir, "flake.nix")); e == nil && fi.Mode().IsRegular() {
		ways = append(ways, "--flake "+escape.Name(dir)+"#HOST (evaluated with nix)")
	}
	if len(ways) == 0 {
		var nix []string
		if es, e := os.ReadDir(dir); e == nil {
			for _, de := range es {
				if de.Type().IsRegular() && strings.HasSuffix(de.Name(), ".nix") {
					nix = append(nix, escape.Name(filepath.Join(dir, de.Name())))
				}
			}
		}
		slices.Sort(nix)
		switch {
		case len(nix) > 3:
			ways = append(ways, "--persist FILE, the file of "+strings.Join(nix[:3], ", ")+", … that declares the persistence or imports the others")
		case len(nix) > 0:
			ways = append(ways, "--persist FILE, the file of "+strings.Join(nix, ", ")+" that declares the persistence or imports the others")
		default:
			ways = append(ways, "--persist FILE with the configuration's file (configuration.nix), or --flake REF#HOST")
		}
	}
	return &HintError{Err: err, Hint: "--persist takes a file, not a directory: pass " + strings.Join(ways, ", or ")}
}
