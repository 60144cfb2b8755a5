package btrfs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// maxBareEntries bounds the walk of rootLike through a subvolume that
// holds only directories: a root no boot got far in holds a few mount
// points, never hundreds.
const maxBareEntries = 256

// rootLike is the one rule for "looks like a root", read where a wipe
// takes a subvolume for a root: the --subvol it retires (checkRoot) and
// the old roots it deletes (Plan). It returns "" when the subvolume at dir
// (a directory of the top level's mount, never followed as a link)
// looks like a root: drift wipe made or retired it (XattrCreated or
// XattrRetired is set), or it holds every one of bootedMarks (a root a
// boot reached switch-root on: stage 1 mounts the Nix store on nix and
// moves proc, sys, dev and run there), or it holds nothing but directories
// (an empty root, made by a wipe and retired before a boot mounted it, or
// one a boot stopped in early: mount points made in it, empty once
// unmounted). Otherwise it says why not: "lacks …, which every booted root
// has (…), and holds alice/thesis.txt", the marks it lacks and the first
// entry found that is not a directory (or that the walk stopped).
func rootLike(dir string) string {
	if hasXattr(dir, XattrCreated) || hasXattr(dir, XattrRetired) {
		return ""
	}
	missing := missingOf(dir, bootedMarks)
	if len(missing) == 0 {
		return ""
	}
	n := 0
	what, err := firstNonDir(dir, "", &n)
	switch {
	case err != nil:
		what = "cannot be read (" + err.Error() + ")"
	case what == "":
		return ""
	case n > maxBareEntries:
		what = fmt.Sprintf("holds more than %d entries", maxBareEntries)
	default:
		what = "holds " + what
	}
	return lacksMarks(missing) + ", and " + what
}

// hasXattr reports whether the extended attribute name is set on p (not
// following a symlink), whatever its value: an empty XattrRetired is a
// mark too.
func hasXattr(p, name string) bool {
	_, err := unix.Lgetxattr(p, name, nil)
	return err == nil
}

// firstNonDir walks the directory tree dir/rel (no link followed: entry
// types come from the directory itself) and returns the path (relative to
// dir) of the first entry that is not a directory, "" when there is none;
// *n counts the entries seen, and the walk stops, returning ".", past
// maxBareEntries.
func firstNonDir(dir, rel string, n *int) (string, error) {
	f, err := os.Open(filepath.Join(dir, rel))
	if err != nil {
		return "", err
	}
	defer f.Close()
	for {
		ents, err := f.ReadDir(64)
		for _, e := range ents {
			p := filepath.Join(rel, e.Name())
			if *n++; *n > maxBareEntries {
				return ".", nil
			}
			if !e.IsDir() {
				return p, nil
			}
			if bad, err := firstNonDir(dir, p, n); err != nil || bad != "" {
				return bad, err
			}
		}
		if errors.Is(err, io.EOF) || len(ents) == 0 {
			return "", nil
		}
		if err != nil {
			return "", err
		}
	}
}
