package prune

import (
	"fmt"
	"path"
	"path/filepath"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/pathx"
)

// nixStoreDirs are where, below a directory holding a Nix store
// (btrfs.NixStore), the store and the Nix database lie: at its top (a
// filesystem mounted on /nix) or under nix/ (one holding /nix).
var nixStoreDirs = []string{"store", "var/nix", "nix/store", "nix/var"}

// nixStoreRefusal refuses (an *audit.HintError; nil when sp is none of
// these) the storage path sp (absolute, live; root is the audited
// system's /) when pruning it could move a part of a Nix store or of the
// Nix database: sp is /nix/store or /nix/var or lies below one, holds a
// Nix store (btrfs.NixStore, the recognition drift wipe refuses a --subvol
// by), or lies in the store or database of a directory above it that
// holds one. A store path moved away breaks every program referring to
// it, and the Nix database would list paths that are not there.
func nixStoreRefusal(root, sp string) error {
	why := ""
	for _, d := range []string{"/nix/store", "/nix/var"} {
		if pathx.Contains(d, sp) {
			why = "lies in " + d
		}
	}
	if why == "" {
		if mark := btrfs.NixStore(filepath.Join(root, sp)); mark != "" {
			why = fmt.Sprintf("holds a Nix store (%s)", path.Join(sp, mark))
		}
	}
	for a := path.Dir(sp); why == "" && a != sp; a = path.Dir(a) {
		if mark := btrfs.NixStore(filepath.Join(root, a)); mark != "" {
			for _, d := range nixStoreDirs {
				if pathx.Contains(path.Join(a, d), sp) {
					why = fmt.Sprintf("lies in the Nix store of %s (%s)", a, path.Join(a, mark))
				}
			}
		}
		if a == "/" {
			break
		}
	}
	if why == "" {
		return nil
	}
	return &audit.HintError{
		Err:  fmt.Errorf("persistent storage path %s %s: drift prune never moves anything of a Nix store or the Nix database; not moving anything", sp, why),
		Hint: "a persistent storage path is a directory of its own (/nix/persist, /persist), never /nix: check the declarations' persistentStoragePath, or prune another one with --storage-path PATH",
	}
}
