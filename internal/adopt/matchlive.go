package adopt

import (
	"context"
	"fmt"
	"path"

	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/restore"
)

// What --prefer persistent does to the live data. drift check decides a
// declared path's category by comparing its live object with the
// persistent copy's: the same is copied (not lost), another object is
// declared-unbacked, its --prefer commands offered. Keeping the copy's
// object (restore.Keep) leaves that comparison as it was, so check would
// ask the same question again after the user answered it. The live object
// on the wiped filesystem is what the next boot discards in favour of the
// copy's: adopt replaces it with the copy's now, so that the live path
// shows what the next boot will and check's one rule finds it copied.
// Data on a persistent filesystem (covered: hidden at the next boot, not
// deleted) or beneath a mount is never replaced.

// Match is a live object --prefer persistent replaced (or, planned, would
// replace) with the persistent copy's.
type Match struct {
	// Live is the live path (absolute as the live system sees it); Copy
	// the persistent copy's object copied over it.
	Live, Copy string
	// Kept is the outcome that kept the copy's object (restore.Keep): how
	// the two differ, their kinds and modification times.
	Kept restore.Outcome
	// Result is the copy's (restore.Run with Force): every object written
	// at Live, and what replacing the live object deletes.
	Result *restore.Result
}

// matchesLive says whether adopt replaces p's live objects whose
// persistent copy's version it keeps (matchLive): with --prefer
// persistent, for data read on a wiped filesystem in view (not beneath a
// mount, shown says a live mount shows the copy; not on a persistent
// filesystem).
func (a *adopter) matchesLive(p *Path, shown bool) bool {
	return a.o.Prefer == PreferPersistent && !shown && p.Ephemeral != "" && p.HiddenBy == "" && p.Covered == ""
}

// matchLive plans (dry) or makes p.Matched from out, restore.Merge's
// outcomes for p: each object kept with other bytes or of another kind
// (restore.Keep; not restore.MetadataOnly, which check counts copied) has
// the copy's object copied over the live one by restore.Run: under a
// temporary name beside it, verified, then swapped in (RENAME_EXCHANGE)
// and the live object removed; never through a symlink, crossing no mount
// below the wiped filesystem's mount point (p.Ephemeral) on the live side
// nor below the mount showing the copy, never over a live object a bind
// mount shows elsewhere (restore.ShownError).
func (a *adopter) matchLive(ctx context.Context, p *Path, out []restore.Outcome, dry bool) error {
	p.Matched = nil
	for _, o := range out {
		if o.Action != restore.Keep || restore.MetadataOnly(o) {
			continue
		}
		m := a.m.Mounts.Shows(o.Dest)
		if m == nil {
			return fmt.Errorf("%s: no mount shows its persistent copy %s", o.Path, o.Dest)
		}
		rel, _ := pathx.Rel(m.MountPoint, o.Dest)
		if rel == "/" {
			return fmt.Errorf("%s: its persistent copy %s is a mount point: drift does not copy a whole filesystem over the live data", o.Path, o.Dest)
		}
		res, err := restore.Run(ctx, restore.Request{From: path.Join(a.m.Root, m.MountPoint), FromName: path.Join(a.m.Root, m.MountPoint), Path: rel,
			Root: a.m.Root, Dest: o.Path, Base: p.Ephemeral, Force: true, DryRun: dry, SyncOnce: true, Verify: !dry, Merge: true,
			Command: "adopt", ShownAt: a.m.ShownElsewhere})
		if err != nil {
			return fmt.Errorf("%s (replaced with its persistent copy's %s, --prefer persistent): %w", o.Path, o.Dest, err)
		}
		p.Matched = append(p.Matched, Match{Live: o.Path, Copy: o.Dest, Kept: o, Result: res})
	}
	return nil
}
