package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/restore"
)

// TestAdoptErrorNamesASubvolumeASubvolume: drift adopt stopped at a live
// btrfs subvolume ("destination .../sv is a btrfs subvolume") with the
// hint "adopt what is below the mount point, or unmount it first", a
// fresh user's run: it is no mount, and nothing unmounts it. A subvolume
// is named one; a mount point keeps its hint.
func TestAdoptErrorNamesASubvolumeASubvolume(t *testing.T) {
	for _, c := range []struct {
		sub       bool
		want, not string
	}{
		{true, "it is a btrfs subvolume, not a mount point: drift never deletes or replaces one", "unmount"},
		{false, "adopt what is below the mount point, or unmount it first", "subvolume"},
	} {
		err := adoptError(&restore.MountError{Side: "destination", Path: "/mnt/var/lib/newsvc/sv", Subvolume: c.sub})
		var h *hintError
		if !errors.As(err, &h) || !strings.HasPrefix(h.hint, c.want) || strings.Contains(h.hint, c.not) {
			t.Errorf("subvolume %v: %v, want the hint %q", c.sub, err, c.want)
		}
	}
}
