package persist

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// discoverMaxDepth bounds how deep Discover looks below etc/nixos.
const discoverMaxDepth = 4

// Discover finds the declarations of the system at root when none were
// named: the .nix files under root/etc/nixos (at most 4 levels deep, never
// through a symlinked directory) whose text mentions "persistence" or
// "preserveAt", read statically. It returns the merged set and the files
// read, sorted. A missing etc/nixos is not an error: the set is empty.
// Errors: a file that matched but cannot be read or parsed.
func Discover(root string, opts Options) (*Set, []string, error) {
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
