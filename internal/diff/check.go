package diff

import (
	"context"
	"errors"
	"fmt"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
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
	// (--home, the declarations' users): a symlink into /nix/store inside
	// a home is home-manager's, made again by its activation (Recreated).
	Homes []string
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

// Item is one lost path.
type Item struct {
	// Path is relative to the audited root, starting with "/", byte-exact.
	Path     string
	Category Category
	// Mode is the raw st_mode; Size the apparent size (st_size) and Bytes the
	// allocated size (st_blocks*512), both in bytes; Mtime in ns since the
	// epoch; Target the symlink target.
	Mode   uint32
	Size   int64
	Bytes  int64
	Mtime  int64
	Target string
	// Decl indexes Audit.Decls.Entries: the declaration of a DeclaredUnbacked
	// path; -1 otherwise.
	Decl int32
	// Mount is the mount ID of the bind mount an Unmounted path is shown
	// through, or of the persistent filesystem a Covered path (also when
	// Ignored) lies on, or of the mount from persistent storage that a
	// Shadowed path (also when Ignored) lies under and whose copy was
	// compared with it (Copy); 0 otherwise.
	Mount int32
	// Subvolume is true for a nested btrfs subvolume (inode 256 on another
	// st_dev than its parent, and not a mount point): it is part of the root
	// and lost with it.
	Subvolume bool
	// History is what the path was in the previous boot's root
	// (Audit.PreviousRoot); NoHistory without one.
	History History
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
	// next links the lost entries of one directory during the walk
	// (dirState.lost); nil once they are put in order.
	next *Item
	// Below, for a directory whose contents Check counted instead of
	// listing (Config.Collapse), counts the entries at any depth below it,
	// all lost with its Category and none of them in Audit.Lost, and sums
	// the apparent sizes of the regular files among them. Zero for every
	// other item.
	Below Total
}

// Total is what the item stands for: itself and the entries Below, with
// the apparent sizes of the regular files among them, in bytes.
func (it *Item) Total() Total {
	t := Total{Count: 1 + it.Below.Count, Bytes: it.Below.Bytes}
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
	// CopiedOtherMeta are the Copied paths (not in Lost) whose persistent
	// copy holds the same bytes with another mode, owner or group: not
	// lost, but drift adopt of the declared path above them refuses them
	// without --prefer (the next boot would show the copy's metadata).
	CopiedOtherMeta []string
	// NotAdoptable are the declared paths (persist.Entry.Path) drift adopt
	// refuses whatever it is asked, with the reason: their persistent
	// storage path is unusable (not mounted, on the wiped root), or the
	// declared path is itself the mount point of another filesystem.
	// Renderings print no drift adopt command for the rows below them.
	// Set by audit.Build.
	NotAdoptable map[string]string
	// Decls are the declarations the audit used (never nil).
	Decls *persist.Set
	// Lost holds every lost path (Ignored included), sorted by path
	// component by component ("/a/b" before "/a-b"); with Collapsed, the
	// paths below an item with a non-zero Item.Below are counted there
	// instead.
	Lost []*Item
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

// ErrNotImpermanent is returned (wrapped, with what was found at /) when
// nothing marks the audited root as ephemeral: no declarations, the root is
// not a tmpfs, and no --ephemeral mount point was given.
var ErrNotImpermanent = errors.New("not an impermanent root")

type mountKind uint8

const (
	persistent mountKind = iota
	ephemeral
	unmounted
)

// node is a trie over the paths that matter to classification: visible
// mount points, declared paths, storage paths and activation outputs. Every
// ancestor of such a path has a node, so a directory on the ephemeral root
// that has a node with keep set is re-created at boot.
type node struct {
	children map[string]*node
	mount    *mounts.Mount
	decl     int32
	keep     bool // a path re-made at boot lies at or below this node
	// ephBelow: an ephemeral mount point lies strictly below this node, so
	// the walk passes through a persistent mount here on its way to it.
	ephBelow bool
	// remount: the next boot mounts another filesystem here (fileSystems,
	// /etc/fstab: Config.Remounted), and nothing is mounted here now.
	remount bool
	// shadow marks a mount point under which Check looks for Shadowed
	// entries (Config.Under): the paths below it are listed, never
	// counted (Config.Collapse), so that the shadowed ones merge with them.
	shadow bool
}

func (n *node) child(name string) *node {
	if n.children == nil {
		n.children = map[string]*node{}
	}
	c := n.children[name]
	if c == nil {
		c = &node{decl: -1}
		n.children[name] = c
	}
	return c
}

// insert returns the node for p (absolute, clean), creating the path.
func (n *node) insert(p string, keep bool) *node {
	cur := n
	if keep {
		cur.keep = true
	}
	for _, c := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		if c == "" {
			continue
		}
		cur = cur.child(c)
		if keep {
			cur.keep = true
		}
	}
	return cur
}

// markEphBelow sets ephBelow on every node strictly above p (absolute,
// clean, already inserted): an ephemeral mount at p nested in a persistent
// one (a tmpfs at /home/carol inside a /home subvolume) is walked.
func (n *node) markEphBelow(p string) {
	cur := n
	for _, c := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		if c == "" {
			continue
		}
		cur.ephBelow = true
		cur = cur.children[c]
	}
}

// activationPaths are re-created by NixOS activation on every boot when they
// are symlinks into the Nix store (nixos/modules/system/activation and
// nixos/modules/system/etc): /bin/sh, /usr/bin/env and /etc/static. Entries
// of /etc that link into /etc/static are re-created too.
var activationPaths = []string{"/bin/sh", "/usr/bin/env", "/etc/static"}

func isActivation(p, target string) bool {
	for _, a := range activationPaths {
		if p == a {
			return pathx.Contains("/nix/store", pathx.Clean(target)) && target != "/nix/store"
		}
	}
	return strings.HasPrefix(p, "/etc/") && path.IsAbs(target) && pathx.Contains("/etc/static", pathx.Clean(target))
}

// inHome reports whether p lies inside a home: /root, /home/NAME, or one
// of Config.Homes (the home itself not included).
func (c *classifier) inHome(p string) bool {
	if rest, ok := strings.CutPrefix(p, "/home/"); ok && strings.Contains(rest, "/") {
		return true
	}
	if strings.HasPrefix(p, "/root/") {
		return true
	}
	for _, h := range c.cfg.Homes {
		if pathx.Contains(h, p) && p != h {
			return true
		}
	}
	return false
}

// homeManagerLink reports whether p, a symlink to target, is home-manager's
// (HomeManagerTarget) inside a home. home-manager's activation (the
// home-manager-USER unit its NixOS module runs at every boot) makes it
// again, and the directories holding it.
func (c *classifier) homeManagerLink(p, target string) bool {
	return HomeManagerTarget(target) && c.inHome(p)
}

// HomeManagerTarget reports whether a symlink's target is where
// home-manager links a home's files: inside its home-files derivation in
// the Nix store (/nix/store/HASH-home-manager-files/…; home-manager's
// modules/files.nix). Links into other store paths (~/.nix-profile made by
// nix-env) are not made again at boot.
func HomeManagerTarget(target string) bool {
	rest, ok := strings.CutPrefix(target, "/nix/store/")
	if !ok {
		return false
	}
	name, _, _ := strings.Cut(rest, "/")
	return strings.HasSuffix(name, "-home-manager-files") && strings.Contains(rest, "/")
}

type classifier struct {
	// copiedMeta collects Audit.CopiedOtherMeta (copies).
	copiedMeta []string
	cfg        Config
	entries    []persist.Entry
	trie       *node
	kinds      map[*mounts.Mount]mountKind
	ignore     *Ignore
	rootDev    uint64

	mu        sync.Mutex
	top       *dirState // the root's state: the tree of lost entries
	tallies   []tallied // the directories counted whole (Config.Collapse)
	arenas    []arena   // where lost Items live, one per walk worker
	lost      []*Item   // in path order, after the walk
	hidden    []Item    // Shadowed (and ignored) entries under mount points
	errs      []PathError
	activated []string // activation outputs found, for their ancestors
	views     []view   // the views under mount points, open until Check ends
	rootView  string   // the view of the filesystem at /, when one is open
	warnings  []Warning
	unmounted []unmountedDecl // declared paths not mounted (warnUnmounted)

	recreated      atomic.Int64
	recreatedBytes atomic.Int64
}

// tallied is a directory lost whole whose contents the walk counts into
// tally (Config.Collapse); item.Below is set from it after the walk.
type tallied struct {
	item  *Item
	tally *scan.Tally
}

// dirState is what the walk knows of a directory it descends into: its
// lost entries, linked through Item.next, and the subdirectories the walk
// descends into, linked through nextSub, each recorded once (in no order)
// on a lock-free list, so that after the walk the lost set can be put in
// path order directory by directory (names sorted with a plain byte
// compare) instead of one global sort, and the size of a subtree's lost
// set counted from its directories alone. Nothing but the Item itself is
// allocated for a lost entry.
type dirState struct {
	node    *node
	mount   *mounts.Mount
	kind    mountKind
	decl    int32
	ignored bool
	shadow  bool   // at or below a node.shadow mount point
	covered bool   // below a node.remount mount point
	name    string // the directory's name in its parent

	lost    atomic.Pointer[Item]     // the newest lost entry
	items   atomic.Int64             // how many entries lost holds
	subs    atomic.Pointer[dirState] // the first subdirectory's state
	nextSub *dirState                // the next sibling's, in the parent's subs
}

// addItem records a lost entry, addSub a subdirectory the walk descends
// into (its state's name set). The children of one directory are recorded
// by the worker that read it (and, for an entry replaced mid-walk, by
// another later), so the pushes rarely if ever meet; they are atomic all
// the same.
func (s *dirState) addItem(it *Item) {
	for {
		old := s.lost.Load()
		it.next = old
		if s.lost.CompareAndSwap(old, it) {
			break
		}
	}
	s.items.Add(1)
}

func (s *dirState) addSub(sub *dirState) {
	for {
		old := s.subs.Load()
		sub.nextSub = old
		if s.subs.CompareAndSwap(old, sub) {
			break
		}
	}
}

// arena hands out Items from chunks that never move, one arena per walk
// worker (scan.Entry.Worker), so storing a lost entry takes no lock and no
// copy when the set grows. Padded to keep workers off each other's cache
// lines.
type arena struct {
	cur     []Item
	visited atomic.Int64 // entries this worker visited, for Config.Progress
	bytes   atomic.Int64 // the sizes of the regular files among them
	_       [24]byte
}

const arenaChunk = 4096

func (a *arena) alloc() *Item {
	if len(a.cur) == cap(a.cur) {
		a.cur = make([]Item, 0, arenaChunk)
	}
	a.cur = a.cur[:len(a.cur)+1]
	return &a.cur[len(a.cur)-1]
}

// lostIn is the number of lost Items in s's subtree (s's own excluded).
func lostIn(s *dirState) int {
	n := int(s.items.Load())
	for d := s.subs.Load(); d != nil; d = d.nextSub {
		n += lostIn(d)
	}
	return n
}

// kid is one child of a dirState while its children are put in order: a
// lost entry (item) or a subdirectory's state (sub); a lost directory the
// walk descended into is both, an item kid followed by a sub kid of the
// same name.
type kid struct {
	name string
	item *Item
	sub  *dirState
}

// sortedKids appends s's children to *scratch, sorts them by name (a lost
// entry before the state of the same name) and returns them (a window of
// *scratch that stays valid while *scratch grows). It unlinks the lost
// entries (Item.next).
func sortedKids(s *dirState, scratch *[]kid) []kid {
	from := len(*scratch)
	for it := s.lost.Load(); it != nil; {
		next := it.next
		it.next = nil
		*scratch = append(*scratch, kid{name: it.Path[strings.LastIndexByte(it.Path, '/')+1:], item: it})
		it = next
	}
	s.lost.Store(nil)
	for d := s.subs.Load(); d != nil; d = d.nextSub {
		*scratch = append(*scratch, kid{name: d.name, sub: d})
	}
	w := (*scratch)[from:]
	slices.SortFunc(w, func(a, b kid) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if a.item != nil {
			return -1
		}
		if b.item != nil {
			return 1
		}
		return 0
	})
	return w
}

// flatten appends the lost entries of s's subtree to out in path order (a
// directory, then its subtree, siblings by name). scratch is the caller's
// buffer for sorting, left as it was found.
func flatten(s *dirState, out []*Item, scratch *[]kid) []*Item {
	from := len(*scratch)
	for _, k := range sortedKids(s, scratch) {
		if k.item != nil {
			out = append(out, k.item)
		}
		if k.sub != nil {
			out = flatten(k.sub, out, scratch)
		}
	}
	clear((*scratch)[from:])
	*scratch = (*scratch)[:from]
	return out
}

// flattenParallel is flatten of the root into one slice of n Items (the
// number of lost Items in the tree), its top-level subtrees put in order
// concurrently, each into its own part of the slice.
func flattenParallel(top *dirState, n int) []*Item {
	var scratch []kid
	kids := sortedKids(top, &scratch)
	out := make([]*Item, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	at := 0
	for _, k := range kids {
		if k.item != nil {
			out[at] = k.item
			at++
		}
		if k.sub == nil {
			continue
		}
		size := lostIn(k.sub)
		part := out[at : at : at+size]
		at += size
		wg.Add(1)
		sem <- struct{}{}
		go func(sub *dirState) {
			defer func() { <-sem; wg.Done() }()
			var scratch []kid
			flatten(sub, part, &scratch)
		}(k.sub)
	}
	wg.Wait()
	return out[:at]
}

// Check walks cfg.Root and classifies every path on the ephemeral side.
// Errors: cfg.Root cannot be walked; an --ephemeral mount point that is not a
// mount point; ErrNotImpermanent (wrapped) when nothing at / is ephemeral.
func Check(ctx context.Context, cfg Config) (*Audit, error) {
	decls := cfg.Decls
	if decls == nil {
		decls = &persist.Set{}
	}
	t := cfg.Mounts
	if t == nil {
		t = &mounts.Table{}
	}
	c := &classifier{cfg: cfg, entries: decls.Entries, ignore: cfg.Ignore, kinds: map[*mounts.Mount]mountKind{}}
	defer c.releaseViews()
	a := &Audit{Root: cfg.Root, Decls: decls, Totals: map[Category]Total{}, PreviousRoot: cfg.PreviousRoot}

	rootMount := t.Shows("/")
	if rootMount == nil {
		return nil, fmt.Errorf("the mount table has no mount that shows %s", cfg.Root)
	}
	eph := map[*mounts.Mount]bool{}
	if len(decls.Entries) > 0 || rootMount.FSType == "tmpfs" {
		eph[rootMount] = true
	}
	for _, p := range cfg.Ephemeral {
		m := t.At(pathx.Clean(p))
		if m == nil {
			if pathx.Clean(p) != "/" {
				return nil, fmt.Errorf("--ephemeral %s: no visible mount at %s (mount points are relative to the audited root)", p, p)
			}
			m = rootMount
		}
		eph[m] = true
	}
	// A tmpfs at or above a declared path is thrown away at boot: declaring
	// persistence below it says so (a home or /etc mounted as a tmpfs, with
	// files persisted inside it).
	for _, e := range decls.Entries {
		if m := t.Shows(e.Path); m != nil && m.FSType == "tmpfs" {
			eph[m] = true
		}
	}
	if !eph[rootMount] && len(eph) == 0 {
		return nil, fmt.Errorf("%w: %s is %s, and no persistence declarations were given", ErrNotImpermanent, rootName(cfg.Root), describeMount(rootMount))
	}
	if !eph[rootMount] {
		return nil, fmt.Errorf("%w: %s is %s and not marked ephemeral (declarations or --ephemeral / make it so)", ErrNotImpermanent, rootName(cfg.Root), describeMount(rootMount))
	}

	storage := storagePaths(decls.Entries)
	c.trie = &node{decl: -1, mount: rootMount}
	for i := range t.Mounts {
		m := &t.Mounts[i]
		if !t.Visible(i) {
			continue
		}
		k := persistent
		switch {
		case eph[m]:
			k = ephemeral
		case c.undeclaredBind(t, m, storage):
			k = unmounted
		}
		c.kinds[m] = k
		if m.MountPoint == "/" {
			continue
		}
		n := c.trie.insert(m.MountPoint, k != unmounted)
		n.mount = m
		if k == ephemeral {
			a.Ephemeral = append(a.Ephemeral, *m)
			c.trie.markEphBelow(m.MountPoint)
		}
	}
	if eph[rootMount] {
		a.Ephemeral = append([]mounts.Mount{*rootMount}, a.Ephemeral...)
	}
	if cfg.Under != nil {
		for i := range a.Ephemeral {
			for _, p := range shadowPoints(t, &a.Ephemeral[i]) {
				c.trie.insert(p, false).shadow = true
			}
		}
	}
	c.kinds[rootMount] = ephemeral
	for i, e := range c.entries {
		n := c.trie.insert(e.Path, true)
		if n.decl < 0 {
			n.decl = int32(i)
		}
	}
	for _, s := range storage {
		c.trie.insert(s, true)
	}
	for _, p := range cfg.Remounted {
		if p = pathx.Clean(p); p != "/" && t.At(p) == nil {
			// Not mounted now: the next boot mounts it over what is there.
			c.trie.insert(p, true).remount = true
		}
	}
	for _, p := range activationPaths {
		c.trie.insert(path.Dir(p), true)
	}

	switch rootMount.FSType {
	case "btrfs", "tmpfs", "zfs", "bcachefs":
	default:
		if !slices.Contains(cfg.Ephemeral, "/") {
			a.Warnings = append(a.Warnings, Warning{WarnSetup, "/", fmt.Sprintf("%s is %s: drift treats it as wiped at boot because persistence is declared; if nothing wipes it, this report is not about this system", rootName(cfg.Root), describeMount(rootMount))})
		}
	}
	if cfg.Boot != nil && rootMount.FSType == "btrfs" {
		boot, err := cfg.Boot()
		if err == nil {
			a.Wipe, err = checkWipe(cfg.Root, rootMount, boot)
		}
		if err != nil {
			a.Warnings = append(a.Warnings, Warning{WarnWipe, "/", fmt.Sprintf("cannot tell whether the wipe ran at this boot: %v", err)})
		}
	}
	if rootMount.FSType == "btrfs" && pathx.Contains("/old_roots", rootMount.Root) && rootMount.Root != "/old_roots" {
		// The rollback renamed the root after it was mounted.
		a.Warnings = append(a.Warnings, Warning{WarnWipe, "/", fmt.Sprintf("/ is mounted from %s: the wipe renamed the root after it was mounted; nothing is being wiped, and the old-root cleanup will delete the running root", rootMount.Root)})
	}
	for _, sh := range t.Shadowed() {
		// Only over-mounts that hide persisted data matter here (a persisted
		// file's bind mount under a later mount of its parent), not the stacks
		// a running system has anyway (/dev/pts, /dev/shm).
		if !slices.ContainsFunc(decls.Entries, func(e persist.Entry) bool {
			return pathx.Contains(sh.Hidden.MountPoint, e.Path) || pathx.Contains(e.Path, sh.Hidden.MountPoint)
		}) {
			continue
		}
		a.Warnings = append(a.Warnings, Warning{WarnSetup, sh.Hidden.MountPoint, fmt.Sprintf("mount %d (%s) is over-mounted by mount %d (%s): what it shows is hidden", sh.Hidden.ID, sh.Hidden.MountPoint, sh.By.ID, sh.By.MountPoint)})
	}
	for _, e := range decls.Entries {
		if m := t.At(e.Path); m != nil && eph[m] && m != rootMount {
			a.Warnings = append(a.Warnings, Warning{WarnSetup, e.Path, fmt.Sprintf("%s is covered by a transient %s (mount %d): the persisted %s is not what processes see%s", e.Path, m.FSType, m.ID, e.Kind, transientConsequence(e.Path))})
		}
	}

	if cfg.MountsOnly {
		slices.SortFunc(a.Warnings, func(x, y Warning) int { return strings.Compare(x.Message, y.Message) })
		return a, nil
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = scan.DefaultWorkers()
	}
	c.arenas = make([]arena, workers)
	opts := scan.Options{Workers: workers, ReadLinks: true, OnError: c.onError}
	stopProgress := c.progress()
	st, err := scan.Walk(ctx, cfg.Root, opts, c.visit)
	stopProgress()
	if err != nil {
		return nil, err
	}
	a.Scanned = st.Entries + st.Tallied
	a.Collapsed = cfg.Collapse
	for _, t := range c.tallies {
		t.item.Below = Total{Count: t.tally.Entries.Load(), Bytes: t.tally.Bytes.Load()}
	}
	if c.top != nil {
		c.lost = flattenParallel(c.top, lostIn(c.top))
	}
	if cfg.Under != nil {
		if err := c.shadowed(ctx, t, a); err != nil {
			return nil, err
		}
		hidden := make([]*Item, len(c.hidden))
		for i := range c.hidden {
			hidden[i] = &c.hidden[i]
		}
		slices.SortFunc(hidden, func(x, y *Item) int { return pathx.Compare(x.Path, y.Path) })
		c.lost = mergeSorted(c.lost, hidden)
	}
	c.fixActivationParents()
	if err := c.covered(ctx, t, storage); err != nil {
		return nil, err
	}
	copied, copiedBy := c.copies(ctx, t)
	if copied.Count > 0 {
		a.Totals[Copied] = copied
	}
	a.CopiedOtherMeta = c.copiedMeta
	c.warnUnmounted(copiedBy)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a.Lost = c.lost
	for _, it := range a.Lost {
		tot := a.Totals[it.Category]
		tot.Add(it.Total())
		a.Totals[it.Category] = tot
	}
	if n := c.recreated.Load(); n > 0 {
		a.Totals[Recreated] = Total{Count: n, Bytes: c.recreatedBytes.Load()}
	}
	slices.SortFunc(c.errs, func(x, y PathError) int { return pathx.Compare(x.Path, y.Path) })
	a.Errors = c.errs
	c.history(ctx, t, a)
	if err := ctx.Err(); err != nil {
		// Interrupted while comparing with the previous root: the report
		// would lack what was not compared.
		return nil, err
	}
	a.Warnings = append(a.Warnings, c.warnings...)
	slices.SortFunc(a.Warnings, func(x, y Warning) int { return strings.Compare(x.Message, y.Message) })
	return a, nil
}

func describeMount(m *mounts.Mount) string {
	s := m.FSType
	if m.FSType == "btrfs" {
		s += " subvolume " + m.Root
	}
	return s + " from " + m.Source
}

func storagePaths(es []persist.Entry) []string {
	var out []string
	for _, e := range es {
		if !slices.Contains(out, e.StoragePath) {
			out = append(out, e.StoragePath)
		}
	}
	return out
}

// undeclaredBind reports whether m shows a part of a persistent storage path
// (a bind mount whose source lies inside one, or a bindfs FUSE mount of one)
// that the next boot will not mount there again: no declaration covers the
// mount point, or the declaration of that exact path names another source
// (then a warning says so). A FUSE mount whose source is not a path (bindfs
// writes "bindfs" for a source holding a space) is paired with a
// declaration by its mount point alone. A mount of the declared copy that
// was replaced since the mount (mounts.Mount.Replaced) is declared, with
// a warning.
func (c *classifier) undeclaredBind(t *mounts.Table, m *mounts.Mount, storage []string) bool {
	source := "" // the persistent path m shows, when known
	fromStorage := false
	for _, s := range storage {
		if pathx.Contains(s, m.MountPoint) {
			return false // the storage itself, or something mounted inside it
		}
		if strings.HasPrefix(m.FSType, "fuse") {
			if path.IsAbs(m.Source) && pathx.Contains(s, pathx.Clean(m.Source)) {
				source, fromStorage = pathx.Clean(m.Source), true
				break
			}
			continue
		}
		sm := t.Shows(s)
		if sm == nil || sm == m || !mounts.SameFS(sm, m) {
			continue
		}
		if rest, ok := pathx.Rel(sm.SourcePath(s), m.Root); ok {
			source, fromStorage = path.Join(s, rest), true
			break
		}
	}
	if !fromStorage || slices.Contains(c.cfg.Remounted, m.MountPoint) {
		return false
	}
	for _, e := range c.entries {
		if e.Path == m.MountPoint {
			if m.Replaced && source == e.Source() {
				c.warn(WarnSetup, m.MountPoint, fmt.Sprintf("%s is mounted from its declared copy %s, which was replaced since the mount: the running system still uses the old file, and what is written to it now is lost at reboot; the next boot mounts the new one", m.MountPoint, source))
				return false
			}
			if source == "" || source == e.Source() {
				return false
			}
			c.warn(WarnSetup, m.MountPoint, fmt.Sprintf("%s is mounted from %s, but it is declared%s with the source %s: the next boot mounts that instead", m.MountPoint, source, at(e.Pos), e.Source()))
			return true
		}
	}
	for _, e := range c.entries {
		if e.Kind == persist.Dir && pathx.Contains(e.Path, m.MountPoint) {
			return false
		}
	}
	return true
}

// rootName names the audited root in a message: "/" for the running
// system, "DIR (audited as /)" for --root DIR.
func rootName(root string) string {
	if root == "" || path.Clean(root) == "/" {
		return "/"
	}
	return root + " (audited as /)"
}

// warn records a Warning of kind about p (a path in the audited system, or
// "").
func (c *classifier) warn(kind WarningKind, p, msg string) {
	c.mu.Lock()
	c.warnings = append(c.warnings, Warning{Kind: kind, Path: p, Message: msg})
	c.mu.Unlock()
}

func at(p persist.Pos) string {
	if s := p.String(); s != "" {
		return " (" + s + ")"
	}
	return ""
}

func (c *classifier) onError(p string, err error) {
	c.mu.Lock()
	c.errs = append(c.errs, PathError{Path: p, Err: err})
	c.mu.Unlock()
}

func (c *classifier) visit(parent any, e *scan.Entry) (any, bool) {
	isDir := e.Mode&unix.S_IFMT == unix.S_IFDIR
	if parent == nil {
		c.rootDev = e.Dev
		ig := c.ignore.matchSelf("/")
		// A declaration of / itself (the module warns, but accepts it) covers
		// everything below: what is on the ephemeral root is then declared
		// but not backed, like anything inside an unmounted declared directory.
		decl := int32(-1)
		if d := c.trie.decl; d >= 0 && c.entries[d].Kind == persist.Dir {
			decl = d
		}
		c.top = &dirState{node: c.trie, mount: c.trie.mount, kind: ephemeral, decl: decl, ignored: ig}
		return c.top, isDir
	}
	if e.Replaced {
		// The directory listed here was replaced before it could be read:
		// it was classified by its first visit; nothing below it is read.
		return nil, false
	}
	ps := parent.(*dirState)
	c.arenas[e.Worker].visited.Add(1)
	if e.Mode&unix.S_IFMT == unix.S_IFREG {
		c.arenas[e.Worker].bytes.Add(e.Size)
	}
	name := e.Path[strings.LastIndexByte(e.Path, '/')+1:]
	var nd *node
	if ps.node != nil && ps.node.children != nil {
		nd = ps.node.children[name]
	}
	mount, kind := ps.mount, ps.kind
	if nd != nil && nd.mount != nil {
		mount, kind = nd.mount, c.kinds[nd.mount]
	}
	if kind == persistent {
		if !isDir || nd == nil || !nd.ephBelow {
			return nil, false
		}
		ignored := ps.ignored || c.ignore.matchSelf(e.Path)
		// Persistent, nothing lost here: walked only on the way to an
		// ephemeral mount nested below.
		sub := &dirState{node: nd, mount: mount, kind: kind, decl: -1, ignored: ignored, name: name}
		ps.addSub(sub)
		return sub, true
	}
	ignored := ps.ignored || c.ignore.matchSelf(e.Path)

	cat, declIdx, childDecl := Unpersisted, int32(-1), ps.decl
	declHere := int32(-1)
	if nd != nil {
		declHere = nd.decl
	}
	switch {
	case kind == unmounted:
		cat = Unmounted
	case declHere >= 0:
		d := &c.entries[declHere]
		switch {
		case d.Kind == persist.Dir && isDir:
			cat, childDecl = Recreated, declHere
			c.noteUnmounted(e.Path, declHere, true)
		case e.Mode&unix.S_IFMT == unix.S_IFLNK && linkTarget(e.Path, e.Target) == d.Source():
			// The symlink method (impermanence files, home-manager v1 and
			// preservation how = "symlink"): the link is made again and the
			// data lives at its target in persistent storage.
			cat = Recreated
		default:
			cat, declIdx = DeclaredUnbacked, declHere
			if d.Kind == persist.File {
				c.noteUnmounted(e.Path, declHere, isDir)
				if isDir {
					childDecl = declHere // DeclaredFileIsDir: all below it too
				}
			}
		}
	case isDir && nd != nil && nd.keep:
		cat = Recreated
	case ps.decl >= 0:
		cat, declIdx = DeclaredUnbacked, ps.decl
	case e.Mode&unix.S_IFMT == unix.S_IFLNK && (isActivation(e.Path, e.Target) || c.homeManagerLink(e.Path, e.Target)):
		cat = Recreated
		c.mu.Lock()
		c.activated = append(c.activated, e.Path)
		c.mu.Unlock()
	}
	covered := ps.covered || nd != nil && nd.remount
	if cat == Unpersisted && ps.covered {
		// Below a mount point the next boot mounts another filesystem at:
		// hidden then, and deleted with the root.
		cat = Covered
	}
	if cat.Lost() && ignored {
		cat = Ignored
	}
	var item *Item
	if cat == Recreated {
		c.recreated.Add(1)
		if e.Mode&unix.S_IFMT == unix.S_IFREG {
			c.recreatedBytes.Add(e.Size)
		}
	} else {
		item = c.arenas[e.Worker].alloc()
		*item = Item{Path: e.Path, Category: cat, Mode: e.Mode, Size: e.Size, Bytes: e.Bytes, Mtime: e.Mtime, Target: e.Target, Decl: declIdx}
		if cat == Unmounted {
			item.Mount = int32(mount.ID)
		}
		item.Subvolume = isDir && e.Ino == 256 && e.Dev != c.rootDev && (nd == nil || nd.mount == nil)
		item.onRoot = mount == c.trie.mount
	}
	var tally *scan.Tally
	shadow := ps.shadow || nd != nil && nd.shadow
	if isDir && item != nil && c.cfg.Collapse && nd == nil && declIdx < 0 && !shadow && !strings.HasPrefix(e.Path, "/etc/") && !c.inHome(e.Path) && (ignored || !c.ignore.MayMatchBelow(e.Path)) {
		// Everything below is lost as this directory is (see
		// Config.Collapse): count it.
		tally = &scan.Tally{}
		c.mu.Lock()
		c.tallies = append(c.tallies, tallied{item, tally})
		c.mu.Unlock()
	}
	var sub *dirState
	if isDir && tally == nil {
		sub = &dirState{node: nd, mount: mount, kind: kind, decl: childDecl, ignored: ignored, shadow: shadow, covered: covered, name: name}
	}
	if item != nil {
		ps.addItem(item)
	}
	if sub != nil {
		ps.addSub(sub)
	}
	if !isDir {
		return nil, false
	}
	if tally != nil {
		return tally, true
	}
	return sub, true
}

// mergeSorted merges the live lost set a with the shadowed set b, both
// sorted by pathx.Compare. A path in both (a file mount point under a later
// mount) is reported once, as what is visible now.
func mergeSorted(a, b []*Item) []*Item {
	if len(b) == 0 {
		return a
	}
	out := make([]*Item, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		switch c := pathx.Compare(a[0].Path, b[0].Path); {
		case c == 0:
			out, a, b = append(out, a[0]), a[1:], b[1:]
		case c < 0:
			out, a = append(out, a[0]), a[1:]
		default:
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// visited sums the entries the walk workers have visited so far, and the
// sizes of the regular files among them.
func (c *classifier) visited() (n, bytes int64) {
	for i := range c.arenas {
		n += c.arenas[i].visited.Load()
		bytes += c.arenas[i].bytes.Load()
	}
	c.mu.Lock()
	for _, t := range c.tallies {
		n += t.tally.Entries.Load()
		bytes += t.tally.Bytes.Load()
	}
	c.mu.Unlock()
	return n, bytes
}

// progress starts calling cfg.Progress every ProgressEvery until the
// returned function is called (which waits for the last call to end).
func (c *classifier) progress() func() {
	if c.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(progressEvery)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				c.cfg.Progress(c.visited())
			}
		}
	}()
	// The last call, with the final count, comes after the walk: Progress
	// is called at least once however short the walk.
	return func() { close(done); wg.Wait(); c.cfg.Progress(c.visited()) }
}

// shadowed walks, for each ephemeral mount, what lies on it under the mount
// points stacked on it: those entries are invisible now and deleted with the
// ephemeral filesystem (the shadowed category). The mount point's own
// directory is visible (as the mount's root) and is not reported. A view that cannot be
// opened is a warning: the report then lacks shadowed entries.
func (c *classifier) shadowed(ctx context.Context, t *mounts.Table, a *Audit) error {
	for i := range a.Ephemeral {
		e := &a.Ephemeral[i]
		points := shadowPoints(t, e)
		onRoot := e.ID == c.trie.mount.ID
		if len(points) == 0 {
			continue
		}
		dir, release, err := c.cfg.Under(e.MountPoint)
		if err != nil {
			c.warn(WarnUnreadable, e.MountPoint, fmt.Sprintf("cannot look under the mount points on %s (%v): files hidden under them are not reported", e.MountPoint, err))
			continue
		}
		// Kept open for the history, which reads shadowed paths here too.
		c.views = append(c.views, view{mountPoint: e.MountPoint, dir: dir, release: release})
		if onRoot {
			c.rootView = dir
		}
		viewIdx := uint8(min(len(c.views), 255))
		if len(c.views) > 255 {
			viewIdx = 0 // beyond what an Item can name: no history for them
		}
		for _, mp := range points {
			rel, _ := pathx.Rel(e.MountPoint, mp)
			base := mp
			visit := func(parent any, en *scan.Entry) (any, bool) {
				isDir := en.Mode&unix.S_IFMT == unix.S_IFDIR
				if en.Replaced {
					return nil, false
				}
				if parent == nil {
					return c.ignore.matchSelf(base), isDir
				}
				p := base + en.Path
				ignored := parent.(bool) || c.ignore.matchSelf(p)
				if isDir && c.trie.remade(p) {
					// Only a mount point or a parent of one (a declared
					// bind mount's, say): the next boot makes it again,
					// not data to keep; what it holds is still walked.
					c.recreated.Add(1)
					return ignored, true
				}
				cat := Shadowed
				if ignored {
					cat = Ignored
				}
				it := Item{Path: p, Category: cat, Mode: en.Mode, Size: en.Size, Bytes: en.Bytes, Mtime: en.Mtime, Target: en.Target, Decl: -1, view: viewIdx, onRoot: onRoot}
				it.Subvolume = isDir && en.Ino == 256 && en.Dev != c.rootDev
				c.mu.Lock()
				c.hidden = append(c.hidden, it)
				c.mu.Unlock()
				return ignored, isDir
			}
			onErr := func(p string, err error) { c.onError(base+p, err) }
			_, err := scan.Walk(ctx, dir+rel, scan.Options{Workers: c.cfg.Workers, ReadLinks: true, OnError: onErr}, visit)
			if err != nil && !errors.Is(err, unix.ENOTDIR) && !errors.Is(err, unix.ENOENT) {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				c.warn(WarnUnreadable, mp, fmt.Sprintf("cannot read under mount point %s: %v", mp, err))
				return nil
			}
		}
	}
	return nil
}

// view is a look under the mount points of one ephemeral mount
// (Config.Under): dir shows the filesystem mounted at mountPoint without
// the mounts stacked on it.
type view struct {
	mountPoint, dir string
	release         func()
}

func (c *classifier) releaseViews() {
	for _, v := range c.views {
		v.release()
	}
	c.views = nil
}

// shadowPoints are the visible mount points stacked on the ephemeral mount
// e (their parent directories shown by e): what lies under them on e is
// Shadowed.
func shadowPoints(t *mounts.Table, e *mounts.Mount) []string {
	var points []string
	for j := range t.Mounts {
		m := &t.Mounts[j]
		if !t.Visible(j) || m.MountPoint == e.MountPoint || !pathx.Contains(e.MountPoint, m.MountPoint) {
			continue
		}
		if t.Shows(path.Dir(m.MountPoint)) == t.ByID(e.ID) {
			points = append(points, m.MountPoint)
		}
	}
	return points
}

// linkTarget is the lexical absolute target of the symlink at p (relative
// targets are taken from p's directory). Nothing is resolved on disk.
func linkTarget(p, target string) string {
	if path.IsAbs(target) {
		return path.Clean(target)
	}
	return path.Join(path.Dir(p), target)
}

// fixActivationParents re-classifies the directories that hold activation
// outputs (such as /etc/ssh holding ssh_config -> /etc/static/ssh/ssh_config):
// activation makes them again.
func (c *classifier) fixActivationParents() {
	if len(c.activated) == 0 {
		return
	}
	parents := map[string]bool{}
	for _, p := range c.activated {
		for q := path.Dir(p); q != "/"; q = path.Dir(q) {
			parents[q] = true
		}
	}
	kept := c.lost[:0]
	for _, it := range c.lost {
		if it.IsDir() && parents[it.Path] && (it.Category == Unpersisted || it.Category == Ignored) {
			c.recreated.Add(1)
			continue
		}
		kept = append(kept, it)
	}
	c.lost = kept
}
