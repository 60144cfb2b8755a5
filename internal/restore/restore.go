package restore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/knowledge"
	"github.com/nix-drift/drift/internal/partial"

	"golang.org/x/sys/unix"
)

// ErrExists is returned (wrapped) when the destination exists and
// Request.Force is not set.
var ErrExists = errors.New("already exists")

// Request says what to restore from where to where.
type Request struct {
	// From is the old root's top directory, e.g.
	// /mnt/top/old_roots/2026-11-5_09:03:07. It is opened as given (a
	// symlink in it is the caller's choice); nothing beneath it is ever
	// reached through a symlink.
	From string
	// FromName names From in Result.Source and in errors when From is a
	// private mount the user never sees ("/dev/vda2:/old_roots/NAME");
	// "" means From itself.
	FromName string
	// Path is the live path to restore, absolute: it names the object
	// From+Path. Its final component may be a symlink, which is copied as a
	// symlink; any other component that is a symlink is refused.
	Path string
	// Root is the live system's root directory ("/", or /mnt for a system
	// mounted there). Dest is resolved beneath it.
	Root string
	// Dest is where the copy goes, absolute as the live system sees it (see
	// Destination). Missing parent directories are created; a parent that is
	// a symlink is refused.
	Dest string
	// Base is the directory, Dest itself or one of its parents, down to
	// which mount points are crossed on the way to Dest: the persistent
	// storage path (a mount itself, usually) for a restore into it. Below
	// Base, and everywhere under From, a mount point is a *MountError. ""
	// means Dest's parent directory.
	Base string
	// Force replaces an existing destination (atomically, by
	// RENAME_EXCHANGE, then the old copy is removed). Without it an existing
	// destination is an error wrapping ErrExists.
	Force bool
	// DryRun plans the copy and reports it in the Result, changing nothing.
	DryRun bool
	// SyncOnce flushes the copy with one syncfs(2) of the destination
	// filesystem before the rename, instead of an fsync(2) of every file
	// and directory: the same guarantee (the copy is on disk before it
	// appears), much faster for many small files.
	SyncOnce bool
	// Copied, when set, is called after each object is written into the
	// temporary copy (real runs only), in copy order.
	Copied func(Item)
	// Merge and OnDiffer are read by Merge only.
	Merge    bool
	OnDiffer Action
	// Top, when set and the source's top is a directory, is the owner and
	// mode of the copy's top directory instead of the source's (drift
	// adopt: the declared user, group and mode of a persistent directory
	// it creates). Set before the copy is renamed into place. Merge applies
	// it to Path's copy only.
	Top *Owner
	// Parents, when set, owns the missing parents Run creates at or below
	// Parents.Below (drift adopt: a user's entry, whose persistent
	// directories from the home's copy down are the user's).
	Parents *ParentOwner
	// Storage, when set, is the declared persistent directory and the
	// owner and mode its declaration states: given to it when Run creates
	// it as a missing parent of Dest (ForDeclaration: drift restore and
	// drift adopt alike).
	Storage *StorageDir
	// Verify reads every copied file's source once more (after the copy:
	// its unchanged times then cover that read too) for an xxh3 digest,
	// and reads the copy back once it is flushed (syncfs or fsync), before
	// it is renamed into place: a copy that does not hold the bytes is an
	// error wrapping ErrCopyDiffers, and the copy is removed.
	Verify bool
	// Checked says the caller has just planned this very copy in a dry run
	// (drift adopt plans every path before it writes): the walk for mount
	// points in the source before the copy is not made again. The copy
	// still refuses one it meets (a *MountError, the temporary copy
	// removed).
	Checked bool
	// links, set by Merge, maps the source inodes of multiply-linked files
	// copied by earlier Runs of one Merge to their destination (absolute
	// as the live system sees it): a later name of one is made a hard link
	// to it, not a second file. Run adds the ones it copies.
	links map[devIno]string
	// Command names the drift command in messages about what it copies
	// ("restore" when empty; "adopt" for drift adopt).
	Command string
	// Subvolumes copies a directory that is the root of a btrfs subvolume
	// in the source (its own, nested in the one holding it) as a new
	// subvolume, filled as a directory is (Item.Subvolume), where the
	// destination is on btrfs; elsewhere as a plain directory, and
	// Result.SubvolumesPlain says why. Without it every directory is
	// copied as a plain one.
	Subvolumes bool
	// PlainSubvolumes, when not "", copies such a directory as a plain
	// one even on btrfs, and is Result.SubvolumesPlain (why): the
	// destination is persistent storage, whose backups (a snapshot of its
	// subvolume) would leave a nested subvolume out (PlainInStorage).
	PlainSubvolumes string
	// ShownAt, when set, lists the live mounts that show the object at
	// a destination path (absolute as the live system sees it), or one
	// below it, at another place: its bind mounts
	// (audit.Model.ShownElsewhere). An existing destination shown so is
	// never replaced, dry runs too: a *ShownError, before anything is
	// written.
	ShownAt func(dest string) []audit.Shown
}

// command is req.Command, "restore" when empty.
func (req *Request) command() string {
	if req.Command == "" {
		return "restore"
	}
	return req.Command
}

// Kind is the type of a copied object.
type Kind string

// The kinds of objects restore copies; a fifo is made anew (mknod), never
// opened. Everything else (sockets, devices) is skipped.
const (
	KindDir      Kind = "dir"
	KindFile     Kind = "file"
	KindSymlink  Kind = "symlink"
	KindHardlink Kind = "hardlink"
	KindFifo     Kind = "fifo"
)

// Item is one object copied (or, in a dry run, to be copied).
type Item struct {
	// Dest is the object's destination, absolute as the live system sees
	// it (Root not included).
	Dest string
	Kind Kind
	Mode uint32 // permission bits and setuid/setgid/sticky (st_mode &^ S_IFMT)
	UID  uint32
	GID  uint32
	Size int64 // regular files: st_size
	// Mtime is a regular file's modification time (ns since the epoch),
	// 0 for other kinds: what Deletion.Newer compares.
	Mtime int64
	// Target is a symlink's target, or for a hard link the Dest of the
	// first name of the same file in the copy.
	Target string
	// Subvolume marks a directory that is the root of a btrfs subvolume
	// in the source (Request.Subvolumes only): its copy is a subvolume
	// too, unless Result.SubvolumesPlain says why not.
	Subvolume bool
}

// Skipped is a source object not copied, and why.
type Skipped struct {
	Path   string // the object's live path (as under Request.Path)
	Reason string
}

// Result is what Run did, or in a dry run would do.
type Result struct {
	// Source is the copied object's full path: From (or FromName) joined
	// with Path.
	Source string
	// Dest is Request.Dest; DestFull is it joined with Root.
	Dest, DestFull string
	// MkDirs are the destination's missing parents, created in this order
	// (absolute as the live system sees them).
	MkDirs []string
	// Items are the copied objects in copy order (a directory before its
	// entries, entries by name).
	Items []Item
	// Skipped are the objects left out.
	Skipped []Skipped
	// Replaced is true when an existing destination was (or would be)
	// replaced; Deletes is then what replacing it deletes (or would).
	Replaced bool
	Deletes  Deletion
	// Bytes is the sum of the regular files' sizes.
	Bytes int64
	// Warnings are metadata that could not be kept (an xattr the
	// destination filesystem refuses).
	Warnings []string
	// SubvolumesPlain, when not "", says why the Items marked Subvolume
	// are (or would be) copied as plain directories: "/mnt/persist is not
	// on btrfs" (the destination's deepest existing directory, Root
	// included).
	SubvolumesPlain string
}

// Run copies From+Path to Root+Dest, or with DryRun reports what it would
// copy. The copy is built under a temporary name in the destination's
// directory (every file and directory fsynced, or the filesystem synced
// once: SyncOnce) and renamed into place, so the destination is either
// untouched or complete. Each regular file is verified before the rename:
// its copy has the source's length, and the source did not change while it
// was copied (size, mtime and ctime as before), else the error names it. On
// error the temporary copy is removed; a temporary copy a killed run left
// next to the destination (its process gone) is removed before copying.
func Run(ctx context.Context, req Request) (*Result, error) {
	p, err := CleanPath(req.Path)
	if err != nil {
		return nil, err
	}
	dest, err := CleanPath(req.Dest)
	if err != nil {
		return nil, fmt.Errorf("destination %w", err)
	}
	from := req.FromName
	if from == "" {
		from = req.From
	}
	res := &Result{Source: path.Join(from, p), Dest: dest, DestFull: path.Join(req.Root, dest)}

	src, dst, dcomps, err := openSides(req, dest)
	if err != nil {
		return nil, err
	}
	defer src.close()
	defer dst.close()

	// The source: every parent a directory, reached without a symlink.
	scomps := components(p)
	sparent, n, err := src.openDirs(scomps[:len(scomps)-1])
	if err != nil {
		return nil, err
	}
	defer unix.Close(sparent)
	sname := scomps[len(scomps)-1]
	var top unix.Stat_t
	topMount := false
	if n < len(scomps)-1 {
		err = unix.ENOENT
	} else {
		topMount, err = lstatAt(sparent, sname, &top)
	}
	if errors.Is(err, unix.ENOENT) {
		return nil, fmt.Errorf("%s: not in the old root %s", p, from)
	} else if err != nil {
		return nil, fmt.Errorf("source %s: %w", res.Source, err)
	}
	if top.Mode&unix.S_IFMT == unix.S_IFLNK {
		// The path itself a link activation makes (knowledge.EtcStaticLink):
		// refused, as drift adopt refuses it.
		if t, err := readlinkAt(sparent, sname); err == nil && knowledge.EtcStaticLink(p, t) {
			if req.Merge {
				res.Skipped = append(res.Skipped, Skipped{Path: p, Reason: etcLinkReason(t, req.command())})
				return res, nil
			}
			return nil, withHint(fmt.Errorf("%s: %s", escape.Name(p), etcLinkReason(t, req.command())), "nothing to "+req.command()+": the next boot makes it again")
		}
	}
	if kindOf(top.Mode) == "" {
		if req.Merge {
			// One object of a Merge: skipped, as within a tree.
			res.Skipped = append(res.Skipped, Skipped{Path: p, Reason: skipReason(top.Mode, req.command())})
			return res, nil
		}
		return nil, fmt.Errorf("source %s is a %s: %s copies regular files, directories, symlinks and fifos only", res.Source, typeName(top.Mode), req.command())
	}

	// The destination: its parents as deep as they exist, then whether it
	// exists itself.
	dparents := dcomps[:len(dcomps)-1]
	dname := dcomps[len(dcomps)-1]
	dparent, have, err := dst.openDirs(dparents)
	if err != nil {
		return nil, req.notDirHint(err, p)
	}
	defer func() { unix.Close(dparent) }()
	exists := false
	var dst0 unix.Stat_t
	if have == len(dparents) {
		mnt, err := lstatAt(dparent, dname, &dst0)
		switch {
		case err == nil && mnt && len(dcomps) > dst.cross:
			return nil, withHint(&MountError{Side: "destination", Path: res.DestFull}, req.hint(
				"restore what is below it, or into the persistent copy mounted there (--to persist)",
				"adopt what is below it, or unmount it first"))
		case err == nil:
			exists = true
		case !errors.Is(err, unix.ENOENT):
			return nil, fmt.Errorf("destination %s: %w", res.DestFull, err)
		}
	}
	if exists && req.ShownAt != nil {
		if sh := req.ShownAt(dest); len(sh) > 0 {
			return nil, req.shownError(res.DestFull, sh)
		}
	}
	if exists && !req.Force {
		hint := "--force replaces it (atomically); --dry-run shows what would be copied"
		if req.DryRun {
			hint = "--force replaces it (atomically): run the dry run with --force to see what would be copied"
		}
		return nil, withHint(fmt.Errorf("destination %s %w", res.DestFull, ErrExists), req.hint(hint, appearedForAdopt))
	}
	// Before anything is written: no mount point anywhere in the source
	// tree, nor in the destination that --force replaces (its removal would
	// reach through one). Both walks only stat and open directories. A dry
	// run's own walk is the same as the first; a caller that has just made
	// one (Checked) is not made to wait for it again.
	if !req.DryRun && !req.Checked {
		check := &copier{ctx: ctx, res: &Result{}, dry: true, links: map[devIno]string{}, side: "source", root: from, command: req.command()}
		if err := check.copy(sparent, sname, &top, topMount, -1, "", dest, p); err != nil {
			return nil, err
		}
	}
	// The destination --force replaces: its inventory (what replacing
	// deletes), and no btrfs subvolume in it, nor itself one.
	var there *Result
	if exists {
		if err := notSubvolume(dparent, &dst0, res.DestFull); err != nil {
			return nil, err
		}
		there = &Result{}
		check := &copier{ctx: ctx, res: there, dry: true, links: map[devIno]string{}, side: "destination", root: req.Root, command: req.command(), noSubvol: true}
		if err := check.copy(dparent, dname, &dst0, false, -1, "", dest, dest); err != nil {
			return nil, err
		}
	}
	res.Replaced = exists
	for i := have; i < len(dparents); i++ {
		res.MkDirs = append(res.MkDirs, "/"+path.Join(dparents[:i+1]...))
	}

	c := &copier{ctx: ctx, res: res, dry: req.DryRun, links: map[devIno]string{}, side: "source", root: from, sync: !req.SyncOnce, copied: req.Copied, command: req.command(),
		prior: req.links, dstRoot: dst, verify: req.Verify && !req.DryRun, subvols: req.Subvolumes}
	if req.Subvolumes && req.PlainSubvolumes != "" {
		c.plain = req.PlainSubvolumes
	} else if req.Subvolumes && !btrfs.OnBtrfs(dparent) {
		c.plain = path.Join(req.Root, "/"+path.Join(dparents[:have]...)) + " is not on btrfs"
	}
	if req.DryRun {
		err := c.copy(sparent, sname, &top, topMount, -1, "", dest, p)
		if err == nil {
			req.Top.apply(res, &top)
			res.Deletes = deletion(there, res.Items)
		}
		c.share(req.links)
		return res, err
	}

	// Missing parents, mirroring the old root's directory of the same name
	// where the tails of both paths agree (persist/etc ↔ etc), else
	// 0755 root:root; a user's from the home's copy down (Parents), the
	// declared directory as declared (Storage).
	// Each created directory's parent stays open, so that a run that
	// fails or is interrupted removes the directories it made (empty:
	// nothing else was put in them) before it returns.
	var made madeDirs
	defer func() { made.close() }()
	for i := have; i < len(dparents); i++ {
		meta := dirMeta{mode: 0o755}
		if j := len(scomps) - 1 - (len(dparents) - i); j >= 0 && slices.Equal(dparents[i:], scomps[j:len(scomps)-1]) {
			if m, err := src.statDir(scomps[:j+1]); err == nil {
				meta = m
			}
		}
		req.Parents.apply(&meta, "/"+path.Join(dparents[:i+1]...))
		req.Storage.apply(&meta, "/"+path.Join(dparents[:i+1]...))
		next, err := mkdirMeta(dparent, dparents[i], meta)
		if err != nil {
			made.remove()
			return res, fmt.Errorf("create %s: %w", path.Join(req.Root, "/"+path.Join(dparents[:i+1]...)), err)
		}
		made = append(made, madeDir{parent: dparent, name: dparents[i]})
		dparent = next
	}

	if err := removeStale(dparent, dname); err != nil {
		return res, fmt.Errorf("remove a partial copy left next to %s: %w", res.DestFull, err)
	}
	tmp, err := tempName(dname, req.command())
	if err != nil {
		return res, err
	}
	c.tmpParent, c.tmp = dparent, tmp
	err = c.copy(sparent, sname, &top, topMount, dparent, tmp, dest, p)
	if err == nil && req.Top.apply(res, &top) {
		err = setOwner(dparent, tmp, res.Items[0])
	}
	if err == nil {
		res.Deletes = deletion(there, res.Items)
	}
	if err == nil && req.SyncOnce {
		if err = unix.Syncfs(dparent); err != nil {
			err = fmt.Errorf("syncfs %s: %w", path.Dir(res.DestFull), err)
		}
	}
	if err == nil && c.verify {
		if beforeReadBack != nil {
			beforeReadBack(dparent, tmp)
		}
		err = c.checkSums()
	}
	if err == nil {
		// The last look before the one step that changes the destination:
		// a SIGINT or SIGTERM that came during the copy, even its last
		// object, leaves the destination as it was.
		err = ctx.Err()
	}
	if err != nil {
		if rerr := removeCopy(dparent, tmp); rerr != nil {
			err = fmt.Errorf("%w (and the partial copy %s stays: %v)", err, path.Join(path.Dir(res.DestFull), tmp), rerr)
		} else {
			made.remove()
		}
		return res, err
	}
	if exists {
		err = unix.Renameat2(dparent, tmp, dparent, dname, unix.RENAME_EXCHANGE)
		if err != nil {
			removeCopy(dparent, tmp)
			err = fmt.Errorf("replace %s: %w", res.DestFull, err)
			if errors.Is(err, unix.EBUSY) {
				err = withHint(err, req.hint(
					"it is a mount point: restore what is below it, or into the persistent copy mounted there (--to persist)",
					"it is a mount point: adopt what is below it, or unmount it first"))
			}
			return res, err
		}
		// tmp now names the previous copy.
		if err := removeAll(dparent, tmp); err != nil {
			return res, fmt.Errorf("%s replaced, but its previous copy %s could not be removed: %w", res.DestFull, path.Join(path.Dir(res.DestFull), tmp), err)
		}
	} else {
		err = unix.Renameat2(dparent, tmp, dparent, dname, unix.RENAME_NOREPLACE)
		if err != nil {
			if removeCopy(dparent, tmp) == nil {
				made.remove()
			}
			if errors.Is(err, unix.EEXIST) {
				return res, withHint(fmt.Errorf("destination %s %w (it appeared during the copy)", res.DestFull, ErrExists), req.hint(appearedForRestore(req.Force), appearedForAdopt))
			}
			return res, fmt.Errorf("rename into %s: %w", res.DestFull, err)
		}
	}
	if err := unix.Fsync(dparent); err != nil {
		return res, fmt.Errorf("fsync %s: %w", path.Dir(res.DestFull), err)
	}
	c.share(req.links)
	return res, nil
}

// madeDir is a directory a Run created on the way to its destination:
// name under the open directory parent.
type madeDir struct {
	parent int
	name   string
}

// madeDirs are the directories a Run created, outermost first.
type madeDirs []madeDir

// remove removes the directories made, innermost first, as long as they
// are empty: a run that failed leaves no trace of itself (a directory
// something else wrote into meanwhile stays, and so do the ones above it).
func (m madeDirs) remove() {
	for i := len(m) - 1; i >= 0; i-- {
		if unix.Unlinkat(m[i].parent, m[i].name, unix.AT_REMOVEDIR) != nil {
			return
		}
	}
}

// close closes the parents kept open.
func (m madeDirs) close() {
	for _, d := range m {
		unix.Close(d.parent)
	}
}

// tempName is a fresh hidden name next to name for the command by
// (partial.Restore or partial.Adopt), within NAME_MAX (partial.Name).
func tempName(name, by string) (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return partial.Name(name, by, os.Getpid(), hex.EncodeToString(b[:])), nil
}

// removeStale removes the temporary copies under dirfd whose process is
// gone (a run killed mid-copy): of name, or with name "", every one.
func removeStale(dirfd int, name string) error {
	names, err := readNames(dirfd)
	if err != nil {
		return err
	}
	for _, n := range names {
		pc, ok := partial.Parse(n)
		if !ok || name != "" && !isPartialOf(n, name) || !partial.Gone(pc.PID) {
			continue
		}
		if err := removeCopy(dirfd, n); err != nil {
			return err
		}
	}
	return nil
}

func isPartialOf(n, name string) bool {
	_, ok := partial.Of(n, name)
	return ok
}

// HintError is an error with a suggested fix.
type HintError struct {
	Err  error
	Hint string
}

func (e *HintError) Error() string { return e.Err.Error() }
func (e *HintError) Unwrap() error { return e.Err }

func withHint(err error, hint string) error { return &HintError{Err: err, Hint: hint} }

// hint is the hint for the command req copies for (Request.Command):
// forRestore for drift restore, forAdopt for drift adopt. Each names only
// the flags its command has (drift adopt has no --force nor --to);
// TestHintsNameTheirCommandsFlags reads both from here.
func (req Request) hint(forRestore, forAdopt string) string {
	if req.command() == "adopt" {
		return forAdopt
	}
	return forRestore
}

// notDirHint is err with drift restore's hint where it is a
// *NotDirError of the destination's parents: a component of the copy
// (or of the live path, --to live) that is no directory now, such as a
// file the persistent copy holds where the old root had a directory.
// Restoring p (the live path) below it cannot work; restoring the live
// path of that component itself, with --force, replaces it with the old
// root's directory. err unchanged otherwise, and for drift adopt.
func (req Request) notDirHint(err error, p string) error {
	var nd *NotDirError
	if !errors.As(err, &nd) || nd.Side != "destination" || req.command() != "restore" {
		return err
	}
	lcomps := components(p)
	n := len(lcomps) - nd.Below - 1 // the depth of the dest's entry
	if n < 1 {
		return err
	}
	at := "/" + path.Join(lcomps[:n]...)
	return withHint(err, fmt.Sprintf("nothing can be restored below it: restore %s itself, which replaces what is there with the old root's directory: drift restore %s --force, with the same --from and flags",
		escape.Name(at), escape.Shell(at)))
}

// appearedForRestore is drift restore's hint for a destination that
// appeared during the copy, fit to the flags given: without --force, that
// --force replaces it; with --force (which replaces only what is there
// when the run starts), to look at it and run again.
func appearedForRestore(force bool) string {
	const who = "something wrote it during the copy (another drift restore or drift adopt, or a service writing there)"
	if force {
		return who + ": look at what is there now, and run drift restore --force again to replace it"
	}
	return who + ": --force replaces it"
}

// appearedForAdopt is drift adopt's hint for an object that appeared in
// the persistent copy after its plan (another drift adopt, or a service
// writing there).
const appearedForAdopt = "something wrote it after drift adopt planned the copy (another drift adopt, or a service writing there): run drift adopt again; it compares what is there now with the live object (--prefer live or --prefer persistent where they differ)"
