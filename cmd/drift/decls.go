package main

import (
	"context"

	"github.com/nix-drift/drift/internal/persist"
)

// loadDecls reads every declaration source the flags name; with none, the
// .nix files under root/etc/nixos that declare persistence. It returns the
// merged set and the names of the sources read.
func loadDecls(ctx context.Context, root string, files []string, flake string, opts persist.Options, st Streams) (*persist.Set, []string, error) {
	set := &persist.Set{}
	var sources []string
	for _, f := range files {
		var s *persist.Set
		var err error
		if f == "-" {
			s, err = persist.Read("-", st.In, opts)
		} else {
			s, err = persist.ReadFile(f, opts)
		}
		if err != nil {
			return nil, nil, err
		}
		set.Merge(s)
		sources = append(sources, f)
	}
	if flake != "" {
		s, err := persist.EvalFlake(ctx, flake, opts)
		if err != nil {
			return nil, nil, err
		}
		set.Merge(s)
		sources = append(sources, "--flake "+flake)
	}
	if len(files) == 0 && flake == "" {
		s, found, err := persist.Discover(root, opts)
		if err != nil {
			return nil, nil, err
		}
		set.Merge(s)
		sources = append(sources, found...)
	}
	return set, sources, nil
}
