package audit

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/diff"
)

// CompareOptions are drift diff's: the two trees and how to compare them.
type CompareOptions struct {
	// A and B are the directories compared, as the user named them.
	A, B string
	// Compare says how (--quick, --ignore, --workers).
	Compare diff.CompareOptions
	// NoOpenTree makes open_tree(2) fail as before Linux 5.2, so that a
	// tree is read beneath its mounts through the top level (tests).
	NoOpenTree bool
	// Say, when set, is given a note (Said.Note) for each tree read beneath
	// the mounts below it, before the comparison starts: its Path is the
	// tree as named, its Message says which mounts are not compared.
	Say func(Said)
}

// BeneathError is a tree of drift diff (Side 0: A, 1: B) with mounts
// below it that no view beneath them could be made of
// (btrfs.BeneathError). Root says whether drift ran as root (the command
// that works differs: sudo, or a bind mount without --rbind).
type BeneathError struct {
	*btrfs.BeneathError
	A, B string
	Side int
	Root bool
}

// Unwrap is the btrfs.BeneathError.
func (e *BeneathError) Unwrap() error { return e.BeneathError }

// Compare compares the trees A and B as drift diff does: like with like.
// Each tree with mounts below it in the live mount table (LoadMounts, the
// one reading of it) is read beneath them, as an old root is
// (btrfs.OpenBeneath: what is mounted there is not compared), and o.Say
// is told so. The Comparison names the trees as given. Errors: reading the
// mount table, a tree missing or not a directory, *BeneathError when a
// tree cannot be read beneath its mounts, diff.Compare's.
func Compare(ctx context.Context, o CompareOptions) (*diff.Comparison, error) {
	table, err := LoadMounts("/", "")
	if err != nil {
		return nil, err
	}
	var dirs [2]string
	for i, d := range []string{o.A, o.B} {
		b, err := btrfs.OpenBeneath(ctx, d, table, o.NoOpenTree)
		var be *btrfs.BeneathError
		if errors.As(err, &be) {
			return nil, &BeneathError{BeneathError: be, A: o.A, B: o.B, Side: i, Root: os.Geteuid() == 0}
		}
		if err != nil {
			return nil, err
		}
		defer b.Close()
		if len(b.Mounts) > 0 && o.Say != nil {
			o.Say(Said{Note: true, Warning: diff.Warning{Path: d, Message: fmt.Sprintf("reading %s beneath the %s below it, as an old root is read: what is mounted there is not compared", d, btrfs.MountList(b.Mounts, 3))}})
		}
		dirs[i] = b.Dir
	}
	c, err := diff.Compare(ctx, dirs[0], dirs[1], o.Compare)
	if err != nil {
		return nil, err
	}
	c.A, c.B = o.A, o.B
	return c, nil
}
