package audit

import (
	"errors"
	"fmt"

	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
)

// LoadMounts reads the mount table (file, --mountinfo; "" for the live
// /proc/self/mountinfo) and keeps what lies at or below root, relative to
// it. An explicit file none of whose mounts is at or below root is taken to
// describe the system at root already (fixtures). Errors are
// mounts.ReadFile's, those of an explicit file prefixed with --mountinfo
// unless they are a *mounts.ParseError (which names file and line).
func LoadMounts(root, file string) (*mounts.Table, error) {
	t, _, err := loadMounts(root, file)
	return t, err
}

// loadMounts is LoadMounts, also returning the live mount table whole
// (nil with file): what btrfs.OpenTop looks the filesystem up in, so that
// a command reads the table once.
func loadMounts(root, file string) (t, live *mounts.Table, err error) {
	name := file
	if name == "" {
		name = "/proc/self/mountinfo"
	}
	t, err = mounts.ReadFile(name)
	if err != nil {
		var pe *mounts.ParseError
		if file != "" && !errors.As(err, &pe) {
			return nil, nil, fmt.Errorf("--mountinfo: %w", err)
		}
		return nil, nil, err
	}
	if file == "" {
		live = t
	}
	if root == "/" {
		return t, live, nil
	}
	if file != "" {
		below := false
		for _, m := range t.Mounts {
			if pathx.Contains(root, m.MountPoint) {
				below = true
				break
			}
		}
		if !below {
			return t, nil, nil
		}
	}
	return t.Relative(root), live, nil
}
