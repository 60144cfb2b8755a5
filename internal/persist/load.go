package persist

import (
	"context"
	"io"
)

// Load reads every declaration source a command names and merges them:
// each of files (nix eval JSON, raw entries or a .nix file; "-" is stdin,
// which may be nil for os.Stdin), then the flake output flake (EvalFlake)
// when not "". With neither, it reads root/etc/drift/declarations.json when
// it exists, else the .nix files under root/etc/nixos that declare
// persistence (Discover, which resolves links inside root; a link that
// leads nowhere there, the declarations file's included, is a warning in
// the set's diagnostics). It returns the merged set and the names of the
// sources read ("--flake REF#HOST" for the flake), and the first error.
func Load(ctx context.Context, root string, files []string, flake string, stdin io.Reader, opts Options) (*Set, []string, error) {
	set := &Set{}
	var sources []string
	for _, f := range files {
		var r io.Reader
		if f == "-" {
			r = stdin
		}
		s, err := ReadContext(ctx, f, r, opts)
		if err != nil {
			return nil, nil, err
		}
		set.Merge(s)
		sources = append(sources, f)
	}
	if flake != "" {
		s, err := EvalFlake(ctx, flake, opts)
		if err != nil {
			return nil, nil, err
		}
		set.Merge(s)
		sources = append(sources, "--flake "+flake)
	}
	if len(files) == 0 && flake == "" {
		s, found, err := Discover(root, opts)
		if err != nil {
			return nil, nil, err
		}
		set.Merge(s)
		sources = append(sources, found...)
	}
	return set, sources, nil
}
