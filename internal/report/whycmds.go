package report

import (
	"bufio"
	"fmt"
	"path"
	"slices"

	"github.com/nix-drift/drift/internal/adopt"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/units"
)

// cmdRefs numbers the commands a table's cells refer to: a cell says
// "run [N]" and the lines after the table give each command whole, "[N]
// COMMAND", as printed it runs. A command in a cell, with the absolute
// paths of --root and the declarations, wrapped over many lines and hid
// the reason around it. A nil *cmdRefs leaves each command in the text
// (JSON, which carries it whole).
type cmdRefs struct{ cmds []string }

// ref is what a cell says for cmd: "run [N]", the same N for the same
// command; cmd itself when c is nil.
func (c *cmdRefs) ref(cmd string) string {
	if c == nil {
		return cmd
	}
	i := slices.Index(c.cmds, cmd)
	if i < 0 {
		c.cmds = append(c.cmds, cmd)
		i = len(c.cmds) - 1
	}
	return fmt.Sprintf("run [%d]", i+1)
}

// write prints the commands referred to, one a line, in the order first
// referred to.
func (c *cmdRefs) write(w *bufio.Writer) {
	for i, cmd := range c.cmds {
		fmt.Fprintf(w, "[%d] %s\n", i+1, cmd)
	}
}

// rowWhy is Why for a row, with the ignored entries it leaves out and the
// drift adopt command that keeps it (RowAdopt), or, where its persistent
// copy differs, the two that say which side wins (RowAdoptPrefer), or what
// to do by hand (keepByHand); each command through refs.
func rowWhy(a *diff.Audit, r Row, refs *cmdRefs) string {
	it := r.Item
	if r.Inside != nil {
		// The directory's own history is not the row's (InsideWhy says
		// what is below it): the WHY does not speak of it.
		own := *it
		own.History, own.Regen = diff.NoHistory, diff.RegenUnknown
		it = &own
	}
	why := Why(a, it)
	if r.Hidden.Count > 0 {
		why += fmt.Sprintf("; %s ignored inside, not shown", units.Plural(r.Hidden.Count, "entry", "entries"))
	}
	if in := InsideWhy(r); in != "" {
		why += "; " + in
	}
	if cmd := RowAdopt(a, r.Item); cmd != "" {
		if k, _ := a.Keep(r.Item); k == diff.KeepUndeclare {
			why += "; " + persist.NotNeeded + "; or keep it declared: " + refs.ref(cmd)
			return why
		}
		why += "; keep it: " + refs.ref(cmd)
	} else if live, _ := RowAdoptPrefer(a, r.Item); live != "" {
		// diff.KeepCopyBack: --prefer persistent would change nothing.
		why += "; " + copyBackWhy(r.Item) + ": " + refs.ref(live)
	} else {
		why += keepByHand(a, r.Item, refs)
	}
	return why
}

// keepByHand is what rowWhy adds for a row drift adopt refuses because a
// live mount shows it (diff.KeepShownDeleted: the by-hand copy of what
// the mount shows; diff.KeepHidden: the copy is the live data, and how to
// look beneath the mount), "" for any other row.
func keepByHand(a *diff.Audit, it *diff.Item, refs *cmdRefs) string {
	switch k, src := a.Keep(it); k {
	case diff.KeepShownDeleted:
		d := a.DeletedAt(it.Path)
		return "; drift adopt refuses it (it would copy what lies beneath the mount, not what the mount shows): decide which version to keep, and to keep what the mount shows copy it by hand: " +
			refs.ref(adopt.KeepDeletedCommand(a.Root, d.Mount.MountPoint, src, it.Path != d.Mount.MountPoint || it.IsDir()))
	case diff.KeepHidden:
		on := a.LiesOn(it)
		if on == "" {
			on = "/"
		}
		return "; the copy is what the running system uses, and this hidden object is stale: no drift adopt replaces the copy with it; to look at it: " +
			refs.ref("mkdir -p /mnt/beneath && mount --bind "+escape.Shell(path.Join(a.Root, on))+" /mnt/beneath") + ", copy it by hand only if you really want it, then umount /mnt/beneath"
	}
	return ""
}

// copyBackWhy is what a row whose persistent copy holds another object
// (diff.KeepCopyBack) says after the row's reason (which says the copy's
// comes back in its place) and before the --prefer live command: where
// the live one goes at the next boot (with the wiped filesystem, into the
// old root where old roots are kept; covered, on a persistent filesystem,
// hidden beneath the copy's mount),
// and, where the persistent copy is the newer (diff.Item.CopyNewer), that
// keeping the live one replaces it. --prefer persistent is never offered:
// it would change nothing.
func copyBackWhy(it *diff.Item) string {
	s := "the live one " + liveGoes(it.Mount == 0) // covered (Mount): on a persistent filesystem
	if it.CopyNewer() {
		return s + "; to keep the live version instead, replacing the NEWER copy"
	}
	return s + "; to keep the live version instead"
}

// liveGoes is where the live object of a path whose persistent copy holds
// another object (diff.KeepCopyBack) goes at the next boot: with the wiped
// filesystem (wiped), else, covered on a persistent filesystem, beneath
// the copy's mount (diff.Item.Mount non-zero).
func liveGoes(wiped bool) string {
	if wiped {
		return "goes with the wiped filesystem (into the old root where old roots are kept, restorable with drift restore while it is kept)"
	}
	return "is hidden beneath the copy's mount from the next boot (not deleted)"
}
