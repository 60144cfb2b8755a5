package report

import (
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/escape"
)

// wipedOn says which wiped filesystem the lost item it lies on, for its
// WHY: where "on the root subvolume" (a btrfs root, which the wipe moves
// away) or "on the wiped root (tmpfs)", "on the wiped filesystem at /home"
// (another one the next boot wipes), "on a wiped filesystem" when not
// known; with, what "deleted with …" names: "the root", "that
// filesystem". A hidden item lies on the filesystem it was read on
// beneath the mounts (diff.Audit.LiesOn), a visible one on the deepest of
// diff.Audit.Ephemeral holding it (diff.Audit.WipedAt).
func wipedOn(a *diff.Audit, it *diff.Item) (where, with string) {
	mp := a.LiesOn(it)
	if it.Visible() {
		if m := a.WipedAt(it.Path); m != nil {
			mp = m.MountPoint
		}
	}
	fs := ""
	for _, m := range a.Ephemeral {
		if m.MountPoint == mp {
			fs = m.FSType
		}
	}
	switch {
	case mp == "/" && fs == "btrfs":
		return "on the root subvolume", "the root"
	case mp == "/" && fs != "":
		return "on the wiped root (" + escape.Name(fs) + ")", "the root"
	case mp == "/":
		return "on the wiped root", "the root"
	case mp != "":
		return "on the wiped filesystem at " + escape.Name(mp), "that filesystem"
	}
	return "on a wiped filesystem", "it"
}
