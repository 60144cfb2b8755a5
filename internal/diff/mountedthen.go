package diff

import (
	"time"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/persist"
)

// Was a declared path mounted from its persistent copy at an old root's
// boot? The declarations that boot ran with, as the old root records them
// (internal/audit's DeclaredThen), say what it meant to mount, not what
// it mounted: impermanence binds no file over one that exists, and a
// mount can fail. The old root itself tells: the initrd makes the root
// anew, empty, at every boot (the subvolume's otime, OldRoot.OTime), and
// the persistent copies are mounted within MountPhase of that; the kernel
// sets an inode's ctime at every write to it, and no copy (cp -a, rsync)
// can set it back. So the old root's data at a declared path changed
// after the mount phase was written while the path showed the root: the
// copy was not mounted over it, at least then, and that data is the boot's
// own. Only data changed within the mount phase can be what lay beneath
// the mount.

// MountPhase is how long after an old root's subvolume was made (its
// otime) its boot is taken to have mounted the persistent copies: the
// initrd makes the root, then stage 2's activation and the mount units
// bind the copies, seconds later on a running machine; two minutes leaves
// room for a slow one.
const MountPhase = 2 * time.Minute

// MountedThen is the one rule by which drift restore refuses, and check's
// VANISHED leaves out, the old root's data at p (covered now by the
// declaration e) as what lay beneath the mount of e's persistent copy at
// the old root's boot (root): the declarations that boot ran with (then)
// keep p at the same persistent copy, and the old root's object at p was
// changed (ctime, its inode's change time; zero when not known: ChangedAt)
// no later than root's otime plus MountPhase. ctime is called only when
// the rule reads it (then keeps p at the same copy and root's otime is
// known: WrittenAfterMounts), at most once. known is false when then is
// nil (the old root records no declarations drift can read: what it holds
// at the declared path is the evidence). A root whose otime is not known
// (not a subvolume) is taken to have mounted what it declares.
func MountedThen(then *persist.Set, root *btrfs.OldRoot, e persist.Entry, p string, ctime func() time.Time) (mounted, known bool) {
	if then == nil {
		return false, false
	}
	t, covered := then.Covering(p)
	if !covered || CopyOf(&t, p) != CopyOf(&e, p) {
		return false, true
	}
	return !WrittenAfterMounts(root, ctime), true
}

// WrittenAfterMounts reports whether ctime, the change time of the old
// root's object at a path (called only when root's otime is known, at
// most once), is after root's mount phase (its otime plus MountPhase):
// written while the path showed the root. False when the otime or ctime
// is not known.
func WrittenAfterMounts(root *btrfs.OldRoot, ctime func() time.Time) bool {
	if root == nil || root.OTime.IsZero() {
		return false
	}
	t := ctime()
	return !t.IsZero() && t.After(root.OTime.Add(MountPhase))
}
