package diff

import (
	"errors"
	"time"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/scan"
	"golang.org/x/sys/unix"
)

// Config is the input of Check.
type Config struct {
	// Root is the directory to audit as "/" (the live root, or a system
	// mounted elsewhere, e.g. /mnt from a rescue ISO).
	Root string
	// Mounts is the mount table relative to Root (mounts.Table.Relative):
	// mount points are absolute paths inside the audited system.
	Mounts *mounts.Table
	// Decls are the persistence declarations; nil or empty means none.
	Decls *persist.Set
	// Ephemeral names extra mount points (relative to Root) whose
	// filesystems are thrown away at boot (--ephemeral).
	Ephemeral []string
	// Ignore holds --ignore / --ignore-file rules; nil for none.
	Ignore *Ignore
	// Workers is passed to scan.Walk (0: its default).
	Workers int
	// Under, when set, opens a view of the filesystem mounted at a mount
	// point (a path relative to Root) without the mounts stacked on it
	// (mounts.Under on Root+mountPoint), so that Check can report what is
	// Shadowed under mount points. It returns the view's directory and a
	// release function. Leave it nil when Mounts does not describe real
	// mounts (a --mountinfo fixture).
	Under func(mountPoint string) (dir string, release func(), err error)
	// Boot, when set, makes Check verify that the wipe ran at this boot
	// (Audit.Wipe): when / is an ephemeral btrfs subvolume, its creation
	// time is compared with the boot that Boot returns (CurrentBoot; tests
	// inject one). Set it only when Root is the running system's own /:
	// leave it nil for a system mounted elsewhere (--root DIR, whose root
	// was not made at this machine's boot) and for a --mountinfo fixture.
	Boot func() (Boot, error)
	// PreviousRoot, when set, is the old root of the previous boot (found
	// by internal/audit, as drift check --old-roots asks), its Dir readable
	// while Check runs; Check passes it on in Audit.PreviousRoot.
	PreviousRoot *btrfs.OldRoot
	// PreviousDecls, when set, are the declarations the previous root's
	// boot ran with, as it records them (internal/audit's DeclaredThen):
	// a declared path they cover with the same persistent copy was mounted
	// from it at that boot, so what the previous root holds there lay
	// beneath the mount and is never listed as vanished. nil when the
	// previous root records none: what it holds at a declared path is the
	// evidence then (declaredGone).
	PreviousDecls *persist.Set
	// Progress, when set, is called about every ProgressEvery with the
	// number of entries visited so far and the apparent size (st_size, in
	// bytes) of the regular files among them, from a goroutine of Check's
	// own, while the walk runs, and once more with the final counts when
	// the walk ends (for a progress line on a terminal).
	Progress func(visited, bytes int64)
	// Now is the time the ages of old roots are counted to (Vanished); the
	// zero value means time.Now().
	Now time.Time
	// Remounted are the mount points the next boot mounts again besides
	// the declared persistence: the configuration's fileSystems and the
	// audited system's /etc/fstab (internal/audit reads both). A bind mount
	// from persistent storage at one of them is not Unmounted.
	Remounted []string
	// Homes are the home directories known besides /root and /home/NAME
	// (--home, the declarations' users).
	Homes []string
	// HomeManagerHomes are the homes of the users home-manager's NixOS
	// module manages (persist.Config.HomeManagerUsers): a link into its
	// home-files inside one is made again by its activation at every boot
	// (HomeManagerLink: Recreated). A link into home-files in any other
	// home is lost; with no configuration read there is none, and every
	// such link is lost: the safe prediction.
	HomeManagerHomes []string
	// Collapse lets Check count, instead of list, what lies below a
	// directory that is lost whole by construction: a lost directory with
	// no mount point, declaration, storage path or activation output at or
	// below it, not below a mount point that Under looks beneath (the
	// Shadowed entries there merge with the visible ones), outside /etc
	// (whose symlinks into /etc/static activation re-makes), and either
	// ignored itself or out of reach of every ignore rule
	// (Ignore.MayMatchBelow). Its Item then carries the count in
	// Item.Below and nothing below it is in Audit.Lost; the walk reads the
	// subtree through a scan.Tally (which says what it lstats).
	// Set it only when no per-path detail below such directories is
	// wanted: a report of rows (report.Rows), totals and metrics. With a
	// PreviousRoot, such a directory whose history is not uniform is read
	// again after the walk and listed down to the directories whose
	// history is (lockhist.go), so that a row stands for a directory only
	// when everything below it has one category and one history.
	// Audit.Collapsed says whether it was used.
	Collapse bool
	// Blank, when set, is the directory of the blank snapshot the wipe
	// makes the root from (drift wipe --blank, services.drift.wipe.blank),
	// readable while Check runs; BlankName names it in messages. What it
	// holds comes back at the next boot: a directory there is re-made, a
	// file or link the same as the root's (type, target, bytes) is
	// Recreated; a file with other bytes is lost (the blank's comes back).
	Blank     string
	BlankName string
	// MountsOnly classifies the mounts (Audit.Ephemeral) and says the
	// warnings about them, and walks nothing: Audit.Lost and Totals stay
	// empty. For a command that reads only the paths it is given (drift
	// adopt PATH…), which would otherwise wait for a walk of every
	// ephemeral filesystem it never looks at.
	MountsOnly bool
}

// ProgressEvery is how often Config.Progress is called.
const ProgressEvery = 200 * time.Millisecond

var progressEvery = ProgressEvery // tests shorten it

// RootBind is a bind mount whose source lies on an ephemeral filesystem:
// Mount, and Source, the path in the audited system its root is at (on
// the ephemeral mount, visible or beneath a mount point).
type RootBind struct {
	Source string
	Mount  mounts.Mount
}

// DeletedMount is a mount whose root was unlinked since the mount
// (Audit.Deleted), and Source, where that root lay as the audited system
// shows its filesystem (/nix/persist/etc/.machine-id.tmp), or its root
// and device when no visible mount shows that place.
type DeletedMount struct {
	Source string
	Mount  mounts.Mount
}

// Item is one lost path.
type Item struct {
	// Path is relative to the audited root, starting with "/", byte-exact.
	Path     string
	Category Category
	// Mode is the raw st_mode; Size the apparent size (st_size) and Bytes the
	// allocated size (st_blocks*512), both in bytes; Mtime in ns since the
	// epoch.
	Mode  uint32
	Size  int64
	Bytes int64
	Mtime int64
	// Decl indexes Audit.Decls.Entries: the declaration of a DeclaredUnbacked
	// path; -1 otherwise.
	Decl int32
	// Mount is the mount ID of the bind mount an Unmounted path is shown
	// through, or of the persistent filesystem a Covered path (also when
	// Ignored) lies on, or of the mount from persistent storage that a
	// Shadowed path (also when Ignored) lies under and whose copy was
	// compared with it (Copy), or of the bind mount an Unpersisted path
	// is shown through at another place (Audit.RootBinds: the path is its
	// source on the ephemeral root); 0 otherwise.
	Mount int32
	// Subvolume is true for a nested btrfs subvolume (inode 256 on another
	// st_dev than its parent, and not a mount point): it is part of the root
	// and lost with it.
	Subvolume bool
	// History is what the path was in the previous boot's root
	// (Audit.PreviousRoot); NoHistory without one.
	History History
	// Regen says whether the path is made again at every boot with the
	// same bytes (RegenYes), or why that is not established, for an
	// unpersisted path the same in the previous root (HistorySame); set by
	// the audit (internal/audit), the one place the rule is applied
	// (Regen's doc). RegenUnknown otherwise.
	Regen Regen
	// Copy, for a path inside a declaration that is not mounted
	// (DeclaredUnbacked, or Ignored with Decl set), says what the
	// persistent copy holds at the same place (CopyOf): CopyMissing, or
	// CopyDiffers when the stale copy there comes back instead of it. For
	// a Shadowed path with Mount set, the same of what that mount shows at
	// the path now.
	Copy CopyState
	// view, for a Shadowed path (or one Ignored under a mount point), is
	// 1 + the index in classifier.views of the view it was read through;
	// 0 for a path visible in the audited root.
	view uint8
	// onRoot: the path lies on the filesystem mounted at / (visible, or
	// shadowed and read through its view), where the history compares
	// the whole tree with the previous root in one lockstep walk.
	onRoot bool
	// twin is what the lockstep walk with the previous root saw there
	// (scan.Entry.Twin): MtimeAsPrevious.
	twin scan.Twin
	// next links the lost entries of one directory during the walk
	// (dirState.lost); nil once they are put in order.
	next *Item
	// rare holds what few items have (Target, Below), nil for the others:
	// kept aside, a million items are 24 bytes smaller each (80, not 104).
	rare *itemRare
}

// itemRare is the part of an Item few items have.
type itemRare struct {
	target    string
	below     Total
	copyMtime int64
	copyKind  uint32
}

// CopyMtime is the modification time (ns since the epoch) of the
// persistent copy's object at the path when Copy is CopyDiffers: what
// comes back in the path's place, read when Check compared the two; 0
// for any other item, or a copy whose time was not read.
func (it *Item) CopyMtime() int64 {
	if it.rare == nil {
		return 0
	}
	return it.rare.copyMtime
}

// SetCopyMtime sets what CopyMtime returns.
func (it *Item) SetCopyMtime(ns int64) {
	r := it.rareValue()
	r.copyMtime = ns
	it.setRare(r)
}

// CopyKind is the file type (Mode&S_IFMT) of the persistent copy's
// object at the path when it is another type than the live one's (a
// file where the live one is a directory): CopyDiffers, read when Check
// compared the two; 0 when it is the same type, or for any other item.
func (it *Item) CopyKind() uint32 {
	if it.rare == nil {
		return 0
	}
	return it.rare.copyKind
}

// SetCopyKind sets what CopyKind returns.
func (it *Item) SetCopyKind(kind uint32) {
	r := it.rareValue()
	r.copyKind = kind
	it.setRare(r)
}

// CopyNewer reports whether the persistent copy's object that comes back
// in the path's place (CopyDiffers) was modified after the live one
// (CopyMtime after Mtime): keeping the live object would replace newer
// data. Objects of two types (CopyKind: a directory's time says when an
// entry was added or removed, a file's when its bytes changed) are
// neither newer nor older. The one rule drift check's words and the order
// of its --prefer commands read.
func (it *Item) CopyNewer() bool {
	return it.Copy == CopyDiffers && it.CopyKind() == 0 && it.CopyMtime() > it.Mtime
}

// Target is the symlink target of a link ("" for any other item, or a
// link whose target was not read).
func (it *Item) Target() string {
	if it.rare == nil {
		return ""
	}
	return it.rare.target
}

// SetTarget sets the symlink target Target returns.
func (it *Item) SetTarget(target string) {
	r := it.rareValue()
	r.target = target
	it.setRare(r)
}

// MtimeAsPrevious reports whether the previous root holds an entry at the
// path with the same modification time (to the nanosecond) as Mtime, as
// Check's one walk with the previous root (the lockstep walk of the
// filesystem at /) saw it; known is false where that walk did not compare
// the path (another filesystem, a shadowed path, a directory lost whole
// read again after the walk, side A unreadable): the caller looks.
func (it *Item) MtimeAsPrevious() (same, known bool) {
	return it.twin == scan.TwinSameMtime, it.twin != scan.TwinUnknown
}

// Below, for a directory whose contents Check counted instead of listing
// (Config.Collapse), counts the entries at any depth below it, all lost
// with its Category and none of them in Audit.Lost, and sums the apparent
// sizes of the regular files among them. Zero for every other item.
func (it *Item) Below() Total {
	if it.rare == nil {
		return Total{}
	}
	return it.rare.below
}

// SetBelow sets what Below returns.
func (it *Item) SetBelow(t Total) {
	r := it.rareValue()
	r.below = t
	it.setRare(r)
}

func (it *Item) rareValue() itemRare {
	if it.rare == nil {
		return itemRare{}
	}
	return *it.rare
}

// setRare replaces the rare part by a copy of r (none when r is zero),
// never changing the one it had: an Item copied by value shares it.
func (it *Item) setRare(r itemRare) {
	if r == (itemRare{}) {
		it.rare = nil
		return
	}
	// A copy made here, not &r: r would move to the heap on every call,
	// the most with nothing to keep (a million items, 32 MB of garbage).
	p := new(itemRare)
	*p = r
	it.rare = p
}

// Total is what the item stands for: itself and the entries Below, with
// the apparent sizes of the regular files among them, in bytes.
func (it *Item) Total() Total {
	below := it.Below()
	t := Total{Count: 1 + below.Count, Bytes: below.Bytes}
	if it.Mode&unix.S_IFMT == unix.S_IFREG {
		t.Bytes += it.Size
	}
	return t
}

// Add adds u to t.
func (t *Total) Add(u Total) {
	t.Count += u.Count
	t.Bytes += u.Bytes
}

// Visible reports whether the item was read in the audited root, not
// beneath a mount point (a Shadowed path, or one Ignored under a mount
// point): what a path lookup in the root shows.
func (it *Item) Visible() bool { return it.view == 0 }

// IsDir reports whether the item is a directory.
func (it *Item) IsDir() bool { return it.Mode&unix.S_IFMT == unix.S_IFDIR }

// Total is a count of entries and the sum of the apparent sizes of the
// regular files among them, in bytes.
type Total struct {
	Count int64
	Bytes int64
}

// PathError is per-path trouble met during the walk (EACCES, EIO): the
// entry's contents are unknown; the walk went on.
type PathError struct {
	Path string
	Err  error
}

// Audit is the result of Check.
type Audit struct {
	// Root is Config.Root.
	Root string
	// Args are the flags besides --root that pointed drift at this
	// machine (--persist, --flake, --mountinfo, --home, --ephemeral), one
	// shell word each, so that a drift command the report prints for it
	// (drift adopt …) sees the same machine. Set by audit.Build.
	Args []string
	// Ephemeral are the mounts whose contents the next boot throws away.
	Ephemeral []mounts.Mount
	// RootBinds are the bind mounts whose source lies on an ephemeral
	// filesystem (mount --bind /srv/data /var/lib/docker, /srv/data on the
	// root subvolume): what they show is deleted with that filesystem, and
	// counted once, at the source (Item.Mount names the mount there).
	// Sorted by mount ID (as int32, Item.Mount's type), stably.
	RootBinds []RootBind
	// Deleted are the visible mounts whose root was unlinked since the
	// mount (mounts.Mount.Replaced: mountinfo's "//deleted"): what each
	// shows lies on no path of its filesystem and is gone when it is
	// unmounted, at the next boot. Check counts it lost at the mount point
	// (Unpersisted, or DeclaredUnbacked inside a declaration: DeletedAt).
	Deleted []DeletedMount
	// CopiedOtherMeta are the Copied paths (not in Lost) whose persistent
	// copy holds the same bytes with another mode, owner or group: not
	// lost, but drift adopt of the declared path above them refuses them
	// without --prefer (the next boot would show the copy's metadata).
	CopiedOtherMeta []string
	// NotAdoptable are the declared paths (persist.Entry.Path) drift adopt
	// refuses whatever it is asked because the declared path is itself
	// the mount point of another filesystem, with the reason; Unusable
	// the persistent storage paths (persist.Entry.StoragePath) it refuses
	// every declaration of, with the reason: unusable (not mounted, on
	// the wiped root). One message per storage path, not per declared
	// path (a million declarations: a 70 MB map). Renderings print no
	// drift adopt command for the rows below a declaration Refusal
	// refuses. Set by audit.Build.
	NotAdoptable, Unusable map[string]string
	// BootSecrets are the files the system reads at boot to let users log
	// in or to decrypt its secrets (persist.Config.Secrets, each with what
	// losing it does: persist.Ref.Loss), for what a lost path stands for
	// (SecretsAt). Set by audit.Build.
	BootSecrets []persist.Ref
	// ShownAt maps the mount ID an Item.Mount of a Shadowed path (also
	// when Ignored) names to that mount's mount point, relative to the
	// audited root ("/var/log"): the filesystem whose contents the path was
	// compared with (Item.Copy). Nil when no such path was compared.
	ShownAt map[int32]string
	// Decls are the declarations the audit used (never nil).
	Decls *persist.Set
	// Homes is Config.Homes: the home directories known besides /root and
	// /home/NAME (knowledge.HomeOf reads them with those), for the
	// knowledge base's facts about a home's paths.
	Homes []string
	// HomeManagerHomes is Config.HomeManagerHomes: the homes whose links
	// into home-manager's home-files are made again at boot
	// (HomeManagerLink).
	HomeManagerHomes []string
	// Lost holds every lost path (Ignored included), sorted by path
	// component by component ("/a/b" before "/a-b"); with Collapsed, the
	// paths below an item with a non-zero Item.Below are counted there
	// instead.
	Lost []*Item
	// LeftCopies are the partial copies that killed drift restore or
	// drift adopt runs left on the ephemeral side (LeftCopy), by path:
	// not in Lost, not walked below.
	LeftCopies []LeftCopy
	// Collapsed is Config.Collapse: some directories lost whole may stand
	// for their contents (Item.Below).
	Collapsed bool
	// Totals counts paths per category (Recreated included).
	Totals map[Category]Total
	// Scanned is the number of entries the walk visited.
	Scanned int64
	// Warnings are findings about the setup (over-mounted mounts, declared
	// paths covered by a transient tmpfs), sorted by message.
	Warnings []Warning
	// Errors are per-path walk errors.
	Errors []PathError
	// Wipe says whether the root was wiped at this boot: set when
	// Config.Boot is and / is an ephemeral btrfs subvolume, else nil.
	Wipe *Wipe
	// PreviousRoot is Config.PreviousRoot: the previous boot's root, nil
	// when none was looked for or found.
	PreviousRoot *btrfs.OldRoot
	// Alerts are the findings against the previous root (history.go):
	// host keys regenerated at every boot first, then ownership drift,
	// each by path. Empty without a previous root.
	Alerts []Alert
	// Vanished lists what the last reboot destroyed that is not declared
	// now (previous.go), by path. Empty without a previous root.
	Vanished []Vanished
	// differing is Differing's answer once asked.
	differing *map[string][]string
	// copyBack is copyBacks' answer once asked.
	copyBack *copyBacks
	// beneath are the mount points of the filesystems the items read
	// beneath the mounts were read on, by Item.view-1 (LiesOn).
	beneath []string
}

// LiesOn is the mount point of the filesystem the lost item it was read
// on beneath the mounts stacked on it ("/" for the root, "/home" for a
// home subvolume; Shadowed, or Covered beneath a declared mount); "" for
// a visible item.
func (a *Audit) LiesOn(it *Item) string {
	if it.view == 0 || int(it.view) > len(a.beneath) {
		return ""
	}
	return a.beneath[it.view-1]
}

// LostTotal sums Totals over the lost categories; withIgnored adds Ignored.
func (a *Audit) LostTotal(withIgnored bool) Total {
	var t Total
	for c, v := range a.Totals {
		if c.Lost() && (withIgnored || c != Ignored) {
			t.Count += v.Count
			t.Bytes += v.Bytes
		}
	}
	return t
}

// Refusal is why drift adopt refuses the declaration e whatever it is
// asked (Unusable's reason for its storage path, else NotAdoptable's for
// its path, as audit's Adoptable checks them), and false when it does not.
func (a *Audit) Refusal(e *persist.Entry) (string, bool) {
	if why, ok := a.Unusable[e.StoragePath]; ok {
		return why, true
	}
	why, ok := a.NotAdoptable[e.Path]
	return why, ok
}

// ErrNotImpermanent is returned (wrapped, with what was found at /) when
// nothing marks the audited root as ephemeral: no declarations, the root is
// not a tmpfs, and no --ephemeral mount point was given.
var ErrNotImpermanent = errors.New("not an impermanent root")
