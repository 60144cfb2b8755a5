package report

import (
	"fmt"
	"time"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/escape"
)

// copyComesBack says that the persistent copy's other object at it's
// place (copy, escaped), CopyDiffers, comes back there at the next boot,
// and which of the two is newer (diff.Item.CopyNewer), with both
// modification times (to the fraction of a second that tells them apart,
// stamps), each after now marked (futureStamps): a newer copy is never
// called stale, and one newer only by a wrong clock says so.
func copyComesBack(it *diff.Item, copy string, now time.Time) string {
	ct := it.CopyMtime()
	cs, ls := futureStamps(ct, it.Mtime, now)
	switch {
	case it.CopyKind() != 0:
		// Two types: a directory's time and a file's say different things.
		return fmt.Sprintf("the persistent copy %s, a %s where the live one is a %s (the types differ, neither is newer), comes back in its place",
			copy, Type(&diff.Item{Mode: it.CopyKind()}), Type(&diff.Item{Mode: it.Mode}))
	case ct == 0:
		return "the persistent copy " + copy + ", other content, comes back in its place"
	case it.CopyNewer():
		return fmt.Sprintf("the persistent copy %s, other content and NEWER (modified %s; the live one %s), comes back in its place", copy, cs, ls)
	case ct < it.Mtime:
		return fmt.Sprintf("the older persistent copy %s (modified %s; the live one %s) comes back in its place", copy, cs, ls)
	}
	return fmt.Sprintf("the persistent copy %s, other content modified at the same time (%s), comes back in its place", copy, cs)
}

// escapeAll is ps, each escaped (escape.Name).
func escapeAll(ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = escape.Name(p)
	}
	return out
}

// shownOver names what the mount over the Shadowed item it (it.Mount)
// shows, which it was compared with: the persistent copy of the
// declaration covering it, or else the filesystem mounted there (a
// persistent subvolume at /var/log is no copy of anything).
func shownOver(a *diff.Audit, it *diff.Item) string {
	if a.Decls != nil {
		if _, ok := a.Decls.Covering(it.Path); ok {
			return fmt.Sprintf("the copy mount %d shows", it.Mount)
		}
	}
	if p, ok := a.ShownAt[it.Mount]; ok {
		return fmt.Sprintf("the filesystem mounted at %s (mount %d)", escape.Name(p), it.Mount)
	}
	return fmt.Sprintf("the filesystem mount %d shows", it.Mount)
}

// futureNote is what follows a time after now (ns since the epoch) where
// it is printed: a file modified in the future was written under a wrong
// clock (this one or another machine's), and "newer" means nothing then.
const futureNote = " (in the future: check the clock)"

// futureStamps is stamps of a and b, futureNote after each that is after
// now (the zero time: time.Now()).
func futureStamps(a, b int64, now time.Time) (string, string) {
	if now.IsZero() {
		now = time.Now()
	}
	sa, sb := stamps(a, b)
	if a > now.UnixNano() {
		sa += futureNote
	}
	if b > now.UnixNano() {
		sb += futureNote
	}
	return sa, sb
}
