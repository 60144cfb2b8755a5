package diff

import (
	"cmp"
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/scan"
)

// classifier is the state of one Check: the configuration, the tree of
// paths that matter (tree), the kind of each visible mount, and what the
// walk collects (the lost set by directory, per-worker arenas, errors,
// warnings, the views beneath mount points).
type classifier struct {
	// copiedMeta collects Audit.CopiedOtherMeta (copies).
	copiedMeta []string
	cfg        Config
	entries    []persist.Entry
	tree       *tree
	kinds      map[*mounts.Mount]mountKind
	// wrongSource maps a visible mount of a declared path from another
	// source than the declaration's copy (undeclaredBind) to that
	// declaration: the next boot mounts the copy there instead.
	wrongSource map[*mounts.Mount]int32
	ignore      *Ignore
	rootDev     uint64

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
	fold      fold     // the walk with the history (fold.go)
	warnings  []Warning
	unmounted []unmountedDecl // declared paths not mounted (warnUnmounted)
	// tmpLinks are the links systemd-tmpfiles makes at boot, by path:
	// their targets (linkTarget), for the nodes with flagTmpLink.
	tmpLinks map[string]string
	// blank is what the blank snapshot holds that is not a directory, by
	// path (readBlank), for the nodes with flagBlank.
	blank map[string]blankEntry
	// coveredDecls are the declarations on another persistent filesystem
	// than their copy (covered, warnCovered).
	coveredDecls []coveredAt
	// hiddenPoints are the declared mount points on persistent
	// filesystems with data beneath them (coveredBeneath, warnHidden).
	hiddenPoints []hiddenAt
	// shownAt is Audit.ShownAt, filled by copies.
	shownAt map[int32]string

	// The indexes the per-mount questions are answered from (pathindex.go,
	// declindex.go):
	// the ephemeral mounts by filesystem and root, the declared paths (and
	// which are directories), the storage paths, the mount points the next
	// boot mounts again, and the mount points stacked on each mount.
	ephIx     *fsIndex
	persIx    *fsIndex // the visible mounts not wiped (persistentBind)
	declIx    *declIndex
	storeIx   *storageIndex
	remounted map[string]bool // Config.Remounted, as written
	stacked   map[*mounts.Mount][]string

	recreated      atomic.Int64
	recreatedBytes atomic.Int64

	// leftCopies are the partial copies killed drift runs left on the
	// ephemeral side (leftCopy), in walk order; guarded by mu.
	leftCopies []LeftCopy
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
	c := &classifier{cfg: cfg, entries: decls.Entries, ignore: cfg.Ignore, kinds: map[*mounts.Mount]mountKind{}, wrongSource: map[*mounts.Mount]int32{}}
	defer c.releaseViews()
	a := &Audit{Root: cfg.Root, Decls: decls, Homes: cfg.Homes, HomeManagerHomes: cfg.HomeManagerHomes, Totals: map[Category]Total{}, PreviousRoot: cfg.PreviousRoot}

	rootMount, eph, err := ephemeralMounts(cfg, t, decls)
	if err != nil {
		return nil, err
	}
	storage := storagePaths(decls.Entries)
	c.index(t, eph, storage)
	if err := c.buildTree(ctx, t, a, rootMount, eph, storage); err != nil {
		return nil, err
	}
	c.readBlank(ctx)
	if err := c.setupWarnings(ctx, t, a, rootMount, eph); err != nil {
		return nil, err
	}
	if cfg.MountsOnly {
		slices.SortFunc(a.Warnings, func(x, y Warning) int { return strings.Compare(x.Message, y.Message) })
		return a, nil
	}
	if err := c.walk(ctx, t, a); err != nil {
		return nil, err
	}
	if err := c.finish(ctx, t, a, storage); err != nil {
		return nil, err
	}
	return a, nil
}

// ephemeralMounts finds the mount that shows / and the mounts whose
// contents the next boot throws away: / when anything is declared or it is
// a tmpfs, the --ephemeral mount points, and a tmpfs at or above a
// declared path. Errors: no mount shows /, an --ephemeral path that is not
// a mount point, ErrNotImpermanent (wrapped) when / is not ephemeral.
func ephemeralMounts(cfg Config, t *mounts.Table, decls *persist.Set) (*mounts.Mount, map[*mounts.Mount]bool, error) {
	rootMount := t.Shows("/")
	if rootMount == nil {
		return nil, nil, fmt.Errorf("the mount table has no mount that shows %s", cfg.Root)
	}
	eph := map[*mounts.Mount]bool{}
	if len(decls.Entries) > 0 || rootMount.FSType == "tmpfs" {
		eph[rootMount] = true
	}
	for _, p := range cfg.Ephemeral {
		m := t.At(pathx.Clean(p))
		if m == nil {
			if pathx.Clean(p) != "/" {
				return nil, nil, fmt.Errorf("--ephemeral %s: no visible mount at %s (mount points are relative to the audited root)", p, p)
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
		return nil, nil, fmt.Errorf("%w: %s is %s, and no persistence declarations were given", ErrNotImpermanent, rootName(cfg.Root), describeMount(rootMount))
	}
	if !eph[rootMount] {
		return nil, nil, fmt.Errorf("%w: %s is %s and not marked ephemeral (declarations or --ephemeral / make it so)", ErrNotImpermanent, rootName(cfg.Root), describeMount(rootMount))
	}
	return rootMount, eph, nil
}

// pollEvery is how many mounts Check looks at between two looks at its
// context: a signal stops it within a fraction of a second, whatever the
// size of the table.
const pollEvery = 1024

// index builds the indexes the questions asked of each mount are answered
// from (pathindex.go, declindex.go), once.
func (c *classifier) index(t *mounts.Table, eph map[*mounts.Mount]bool, storage []string) {
	c.ephIx = newFSIndex(t, func(i int) bool { return eph[&t.Mounts[i]] })
	c.persIx = newFSIndex(t, func(i int) bool { return t.Visible(i) && !eph[&t.Mounts[i]] && !t.Mounts[i].Replaced })
	c.declIx = newDeclIndex(c.entries)
	c.storeIx = newStorageIndex(t, storage)
	c.remounted = make(map[string]bool, len(c.cfg.Remounted))
	for _, p := range c.cfg.Remounted {
		c.remounted[p] = true
	}
}

// buildTree sorts the visible mounts into kinds (c.kinds; a.Ephemeral, /
// first; a.RootBinds) and builds c.tree from the mount points, the points
// to look beneath, the declarations, their storage paths, the mount
// points the next boot mounts again and the activation outputs'
// directories. Errors: ctx's.
func (c *classifier) buildTree(ctx context.Context, t *mounts.Table, a *Audit, rootMount *mounts.Mount, eph map[*mounts.Mount]bool, storage []string) error {
	c.tree = newTree(c.entries, rootMount, len(t.Mounts)+len(storage)+len(c.cfg.Remounted)+len(activationPaths))
	var sources *mounts.Sources // made at the first deleted mount
	for i := range t.Mounts {
		if i%pollEvery == pollEvery-1 && ctx.Err() != nil {
			return ctx.Err()
		}
		m := &t.Mounts[i]
		if !t.Visible(i) {
			continue
		}
		k := persistent
		switch {
		case eph[m]:
			k = ephemeral
		case m.Replaced:
			k = deleted
			if sources == nil {
				sources = mounts.NewSources(t)
			}
			src := deletedSource(sources, m)
			a.Deleted = append(a.Deleted, DeletedMount{Source: src, Mount: *m})
			c.warnDeleted(m, src)
		case c.rootBind(m, a):
			k = fromRoot
		case c.undeclaredBind(m), c.persistentBind(m):
			k = unmounted
		}
		c.kinds[m] = k
		if m.MountPoint == "/" {
			continue
		}
		c.tree.setMount(c.tree.insertPath(m.MountPoint, k != unmounted && k != deleted), m)
		if k == ephemeral {
			a.Ephemeral = append(a.Ephemeral, *m)
		}
		if k != persistent && k != fromRoot {
			// Walked wherever it lies: on the root, or inside a
			// persistent mount (/home), one rule for both.
			c.tree.markEphBelow(m.MountPoint)
		}
	}
	slices.SortStableFunc(a.RootBinds, func(x, y RootBind) int { return cmp.Compare(int32(x.Mount.ID), int32(y.Mount.ID)) })
	a.Ephemeral = append([]mounts.Mount{*rootMount}, a.Ephemeral...)
	if c.cfg.Under != nil {
		for i := range a.Ephemeral {
			for _, p := range c.shadowPoints(t, &a.Ephemeral[i]) {
				c.tree.at(c.tree.insertPath(p, false)).flags |= flagShadow
			}
		}
	}
	c.kinds[rootMount] = ephemeral
	for i := range c.entries {
		if n := c.tree.at(c.tree.insertDecl(i)); n.decl < 0 {
			n.decl = int32(i)
		}
	}
	for _, s := range storage {
		c.tree.insertPath(s, true)
	}
	for _, p := range append(slices.Clip(c.cfg.Remounted), apiMountPoints...) {
		if p = pathx.Clean(p); p != "/" && t.At(p) == nil {
			// Not mounted now: the next boot mounts it over what is there.
			c.tree.at(c.tree.insertPath(p, true)).flags |= flagRemount
		}
	}
	for _, p := range activationPaths {
		c.tree.insertPath(path.Dir(p), true)
	}
	for _, p := range bootDirs {
		c.tree.insertPath(p, true)
	}
	if usersWritten(c.cfg.Decls) {
		for _, p := range usersFiles {
			c.tree.at(c.tree.insertPath(p, false)).flags |= flagUsersFile
		}
	}
	if d := c.cfg.Decls; d != nil && d.Config != nil {
		for _, l := range d.Config.TmpfilesLinks {
			if c.tmpLinks == nil {
				c.tmpLinks = map[string]string{}
			}
			c.tmpLinks[l.Path] = linkTarget(l.Path, l.Target)
			c.tree.at(c.tree.insertPath(l.Path, false)).flags |= flagTmpLink
		}
	}
	return nil
}

// setupWarnings adds to a.Warnings what the mounts alone say: a root
// filesystem nothing is known to wipe, whether the wipe ran at this boot
// (Config.Boot), a root mounted from an old root, over-mounts hiding
// persisted data, and declared paths under a transient mount. Errors:
// ctx's.
func (c *classifier) setupWarnings(ctx context.Context, t *mounts.Table, a *Audit, rootMount *mounts.Mount, eph map[*mounts.Mount]bool) error {
	cfg, decls := c.cfg, c.entries
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
	for i, sh := range t.Shadowed() {
		if i%pollEvery == pollEvery-1 && ctx.Err() != nil {
			return ctx.Err()
		}
		// Only over-mounts that hide persisted data matter here (a persisted
		// file's bind mount under a later mount of its parent), not the stacks
		// a running system has anyway (/dev/pts, /dev/shm).
		indexProbes.Add(2)
		if len(c.declIx.below(sh.Hidden.MountPoint)) == 0 && !c.declIx.above(sh.Hidden.MountPoint) {
			continue
		}
		a.Warnings = append(a.Warnings, Warning{WarnSetup, sh.Hidden.MountPoint, fmt.Sprintf("mount %d (%s) is over-mounted by mount %d (%s): what it shows is hidden", sh.Hidden.ID, sh.Hidden.MountPoint, sh.By.ID, sh.By.MountPoint)})
	}
	for _, e := range decls {
		if m := t.At(e.Path); m != nil && eph[m] && m != rootMount {
			a.Warnings = append(a.Warnings, Warning{WarnSetup, e.Path, fmt.Sprintf("%s is covered by a transient %s (mount %d): the persisted %s is not what processes see%s", e.Path, m.FSType, m.ID, e.Kind, transientConsequence(e.Path))})
		}
	}
	return ctx.Err()
}

// walk classifies every entry of the audited root (visit), counts the
// directories lost whole (Config.Collapse), puts the lost set in path
// order, merges in what lies beneath the mount points (Config.Under) and
// takes out the directories activation makes again.
func (c *classifier) walk(ctx context.Context, t *mounts.Table, a *Audit) error {
	workers := c.cfg.Workers
	if workers <= 0 {
		workers = scan.DefaultWorkers()
	}
	c.arenas = make([]arena, workers)
	// Transient paths: visit keeps the few it needs (arena.keep).
	opts := scan.Options{Workers: workers, ReadLinks: true, OnError: c.onError, TransientPaths: true}
	stopProgress := c.progress()
	var st scan.Stats
	var err error
	folded := false
	if c.folds() {
		c.openRootView(t)
		st, folded, err = c.walkFolded(ctx, opts)
	}
	if !folded {
		st, err = scan.Walk(ctx, c.cfg.Root, opts, c.visit)
	}
	stopProgress()
	if err != nil {
		return err
	}
	a.Scanned = st.Entries + st.Tallied
	a.Collapsed = c.cfg.Collapse
	for _, t := range c.tallies {
		socks := t.tally.Sockets.Load() // Remade: recreated, as a visit says
		t.item.SetBelow(Total{Count: t.tally.Entries.Load() - socks, Bytes: t.tally.Bytes.Load()})
		c.recreated.Add(socks)
		for _, p := range t.tally.Skipped() {
			c.addLeft(p, t.item.Category)
		}
	}
	if c.top != nil {
		c.lost = c.setAside(flattenParallel(c.top, lostIn(c.top)))
	}
	if c.cfg.Under != nil {
		if err := c.shadowed(ctx, t, a); err != nil {
			return err
		}
		if err := c.coveredBeneath(ctx, t); err != nil {
			return err
		}
		hidden := make([]*Item, len(c.hidden))
		for i := range c.hidden {
			hidden[i] = &c.hidden[i]
		}
		slices.SortFunc(hidden, func(x, y *Item) int { return pathx.Compare(x.Path, y.Path) })
		c.lost = mergeSorted(c.lost, hidden)
	}
	c.fixActivationParents()
	c.fixEmptyBootPoints()
	return nil
}

// finish reads the persistent side for what the walk found (covered,
// copies), sums the totals, and compares with the previous root (history),
// filling in the rest of a. Errors: ctx's, when interrupted (the report
// would lack what was not compared).
func (c *classifier) finish(ctx context.Context, t *mounts.Table, a *Audit, storage []string) error {
	if err := c.covered(ctx, t, storage); err != nil {
		return err
	}
	copied, copiedBy := c.copies(ctx, t)
	if copied.Count > 0 {
		a.Totals[Copied] = copied
	}
	a.CopiedOtherMeta = c.copiedMeta
	c.warnUnmounted(copiedBy)
	c.warnCovered(copiedBy)
	c.warnHidden(t)
	if err := ctx.Err(); err != nil {
		return err
	}
	a.Lost = c.lost
	a.ShownAt = c.shownAt
	a.LeftCopies = c.sortedLeftCopies()
	for _, v := range c.views {
		a.beneath = append(a.beneath, v.mountPoint)
	}
	// Summed by category in an array, then into the map: two map
	// operations per category, not per lost path (a million of them for
	// drift suggest).
	var sums [256]Total
	var met [256]bool
	for _, it := range a.Lost {
		sums[it.Category].Add(it.Total())
		met[it.Category] = true
	}
	for i := range sums {
		if met[i] {
			tot := a.Totals[Category(i)]
			tot.Add(sums[i])
			a.Totals[Category(i)] = tot
		}
	}
	if n := c.recreated.Load(); n > 0 {
		a.Totals[Recreated] = Total{Count: n, Bytes: c.recreatedBytes.Load()}
	}
	slices.SortFunc(c.errs, func(x, y PathError) int { return pathx.Compare(x.Path, y.Path) })
	a.Errors = c.errs
	c.history(ctx, t, a)
	if err := ctx.Err(); err != nil {
		return err
	}
	markRootBinds(a, a.Lost)
	a.Warnings = append(a.Warnings, c.warnings...)
	slices.SortFunc(a.Warnings, func(x, y Warning) int { return strings.Compare(x.Message, y.Message) })
	return nil
}

func describeMount(m *mounts.Mount) string {
	s := m.FSType
	if m.FSType == "btrfs" {
		s += " subvolume " + m.Root
	}
	return s + " from " + m.Source
}

// storagePaths are the storage paths of es, each once, in order.
func storagePaths(es []persist.Entry) []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range es {
		if !seen[e.StoragePath] {
			seen[e.StoragePath] = true
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
// (A mount whose root was unlinked since, mounts.Mount.Replaced, is of
// its own kind: deleted.)
func (c *classifier) undeclaredBind(m *mounts.Mount) bool {
	source, fromStorage := c.storeIx.sourceOf(m) // the persistent path m shows, when known
	if !fromStorage || c.remounted[m.MountPoint] {
		return false
	}
	if i := c.declIx.at(m.MountPoint); i >= 0 {
		e := &c.entries[i]
		if source == "" || source == e.Source() {
			return false
		}
		c.warn(WarnSetup, m.MountPoint, fmt.Sprintf("%s is mounted from %s, but it is declared%s with the source %s: the next boot mounts that instead", m.MountPoint, source, at(e.Pos), e.Source()))
		c.wrongSource[m] = int32(i)
		return true
	}
	indexProbes.Add(1)
	return !c.declIx.dirAbove(m.MountPoint)
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
