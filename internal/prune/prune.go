package prune

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/suggest"
	"golang.org/x/sys/unix"
)

// Options are drift prune's choices besides the model.
type Options struct {
	// StoragePath limits the prune to one persistent storage path ("":
	// every one the declarations name).
	StoragePath string
	// DryRun plans and moves nothing.
	DryRun  bool
	Workers int
	// Now is the batch's time (its ID and Created).
	Now time.Time
	// Moved, when set, is called after each object is moved (tests:
	// TestHook).
	Moved func(Object)
}

// Refusal is a stray left in place, and why.
type Refusal struct {
	// Path is the stray's path (raw bytes; JSON: pathBase64 holds them
	// when they are not UTF-8).
	Path       string `json:"path"`
	PathBase64 string `json:"pathBase64,omitempty"`
	Reason     string `json:"reason"`
}

func newRefusal(p, reason string) Refusal {
	return Refusal{Path: p, PathBase64: rawBase64(p), Reason: reason}
}

// Result is what a prune did (or, DryRun, would do).
type Result struct {
	// Batches are the batches made, one a storage path with strays to
	// move; with DryRun, their plan (ID empty). Moved lists, per batch,
	// the objects moved.
	Batches []Batch `json:"batches"`
	// Refused are the strays left in place (in use, held open, a mount point below,
	// changed since the audit, a rename that failed).
	Refused []Refusal `json:"refused"`
	// Warnings are the audit's trouble finding strays, then the partial
	// copies killed drift runs left (audit.Model.PartialWarnings).
	Warnings []diff.Warning `json:"-"`
	// Root and Args are the model's root and flags (diff.Audit.Args): the
	// system UndoCommand puts a batch back on.
	Root string   `json:"-"`
	Args []string `json:"-"`
}

// UndoCommand is the drift prune --undo command that puts the batch id
// back, as printed after the run: with the --root and the declarations
// the run was given, so that it finds that system's quarantine.
func (r *Result) UndoCommand(id string) string {
	return escape.DriftCommand([]string{"prune", "--undo", id}, r.Root, r.Args)
}

// Batch is a manifest and which of its objects are in the quarantine.
type Batch struct {
	Manifest
	// Dir is the batch's directory, absolute inside the audited root.
	Dir string `json:"dir"`
	// Quarantined says, per object of Manifest.Objects, whether it is in
	// the quarantine (ID/N present).
	Quarantined []bool `json:"quarantined"`
}

// Run moves the strays of the model m (suggest.Stray over m.Decls and
// m.Uses(): what lies under a persistent storage path that no declaration
// covers and nothing uses) into the quarantine of their storage path, one
// batch a storage path. A stray is refused (left in place, listed in
// Refused) when it is, holds or lies below something in use (m.Uses), a
// file a running process holds open (audit.OpenBelow) or a
// mount point (m.MountPoints), when it is no longer the object the audit
// saw, or when its rename fails (EXDEV: another filesystem). Errors: a
// storage path pruned (o.StoragePath, or every one declared) is unusable
// (audit.Model.Unmounted: not mounted, on the wiped root, a symlink) or
// cannot be read, so prune could not look in it (an *audit.HintError:
// nothing moved, DryRun too; never "no stray data"), the
// storage path or its quarantine cannot be opened or made, the manifest
// cannot be written (nothing of that batch moved then), ctx's.
func Run(ctx context.Context, m *audit.Model, o Options) (*Result, error) {
	if err := wholeConfiguration(m); err != nil {
		return nil, err
	}
	if o.StoragePath != "" {
		declared := declaredStoragePaths(m)
		if !slices.Contains(declared, o.StoragePath) {
			return nil, fmt.Errorf("--storage-path %s: not a persistent storage path of the declarations (they name %s)", o.StoragePath, joinOr(declared))
		}
	}
	// A storage path drift cannot use (not mounted, on the wiped root, a
	// symlink) is one prune could not look in, whether or not it holds
	// strays: said as the refusal it is, never as "no stray data".
	for _, sp := range declaredStoragePaths(m) {
		if o.StoragePath != "" && sp != o.StoragePath {
			continue
		}
		if ue := m.Unmounted(sp); ue != nil {
			return nil, &audit.HintError{Err: ue, Hint: ue.Hint()}
		}
		if err := nixStoreRefusal(m.Root, sp); err != nil {
			return nil, err
		}
	}
	// Uses walks the persistent filesystems for links: once.
	uses, mps := m.Uses(), m.MountPoints()
	refusals := newRefuser(uses, mps)
	strays, warnings := suggest.Stray(ctx, m.Root, m.Decls, m.Homes(), uses, o.Workers)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, w := range warnings {
		// A storage path Stray could not read (I/O, permissions): what it
		// holds is unknown, so prune could not look there.
		if w.Kind == diff.WarnStorage {
			return nil, &audit.HintError{Err: fmt.Errorf("%s: not moving anything", w.Message), Hint: "drift prune moves nothing until it can read every persistent storage path it prunes (--storage-path PATH limits it to one)"}
		}
	}
	// The partial copies killed drift runs left are drift's, never strays
	// (Stray passes over them): said as the model says them, never moved.
	r := &Result{Warnings: append(warnings, m.PartialWarnings()...), Root: m.Root}
	if m.Audit != nil {
		r.Args = m.Audit.Args
	}
	planned := map[string][]Object{}
	var order []string
	for _, s := range strays {
		if s.Action != suggest.DeclareOrRemove || (o.StoragePath != "" && s.StoragePath != o.StoragePath) {
			continue
		}
		if why := refusals.refuse(s.Path); why != "" {
			r.Refused = append(r.Refused, newRefusal(s.Path, why))
			continue
		}
		if s.OtherDevice != "" {
			r.Refused = append(r.Refused, newRefusal(s.Path, s.OtherDevice+" is a btrfs subvolume or a mount point (another device): drift never moves one into the quarantine it empties"))
			continue
		}
		if _, ok := planned[s.StoragePath]; !ok {
			order = append(order, s.StoragePath)
		}
		obj := Object{Path: s.Path, PathBase64: rawBase64(s.Path), LivePath: s.LivePath, Entries: s.Entries, Bytes: s.Bytes, Mtime: time.Unix(0, s.Mtime).UTC(),
			Reason: fmt.Sprintf("under %s, no declaration covers %s and nothing uses it", s.StoragePath, s.LivePath)}
		if how := m.MountedUntilAt(s.Path, s.LivePath); how != "" {
			obj.MountedUntil = s.LivePath
			obj.Reason += fmt.Sprintf("; it was mounted at %s until the last boot (%s): declare %s again to keep it there", s.LivePath, how, s.LivePath)
		}
		planned[s.StoragePath] = append(planned[s.StoragePath], obj)
	}
	order = leaveOpen(m.Root, planned, order, r)
	for _, sp := range order {
		b, refused, err := moveBatch(ctx, m, sp, planned[sp], o)
		r.Refused = append(r.Refused, refused...)
		if b != nil {
			r.Batches = append(r.Batches, *b)
		}
		if err != nil {
			return r, err
		}
	}
	return r, nil
}

// wholeConfiguration refuses (an audit.HintError) to prune with a model
// whose configuration is not the system's whole one (persist.Set.Whole):
// what is in use is read from the options of every module, and a password
// file named in a module not read would be taken for a stray.
func wholeConfiguration(m *audit.Model) error {
	whole, why := m.Decls.Whole()
	if whole {
		return nil
	}
	read := "nothing"
	if len(m.Sources) > 0 {
		read = strings.Join(m.Sources, ", ")
	}
	hint := fmt.Sprintf("name the whole configuration: --persist %s (the modules it imports are read too), or --flake REF#HOST", filepath.Join(m.Root, "etc/nixos/configuration.nix"))
	if m.Decls.Configuration.Entry != "" {
		hint = "name each module an import not followed leads to with --persist too, or the whole configuration with --flake REF#HOST"
		if r, _, ok := m.Decls.PartialBelowStorage(); ok && len(m.Decls.NotFollowed) == 0 {
			hint = fmt.Sprintf("write %s so that it can be read without Nix (a literal, or built from literals and let-bound names), or name the whole configuration with --flake REF#HOST", r.Option)
		}
	}
	return &audit.HintError{
		Err:  fmt.Errorf("not moving anything: drift prune needs the system's whole configuration, and %s (read: %s); a path in use that drift could not read (a password file, host key, service's state or bind mount's source) would be taken for a stray", why, read),
		Hint: hint,
	}
}

// declaredStoragePaths are the persistent storage paths m's declarations
// name (never /), sorted, each once.
func declaredStoragePaths(m *audit.Model) []string {
	out := m.Decls.StoragePaths()
	slices.Sort(out)
	return out
}

// refuser says why a stray must stay where it is (refuse), from uses in
// pathx.Compare order (audit.Model.Uses) and mountPoints in byte order
// (audit.Model.MountPoints): a few lookups and binary searches a stray,
// not a scan of every use and mount point.
type refuser struct {
	uses        []audit.Use
	firstUse    map[string]int // a use's path, to its first index in uses
	mountPoints []string
}

func newRefuser(uses []audit.Use, mountPoints []string) *refuser {
	r := &refuser{uses: uses, firstUse: make(map[string]int, len(uses)), mountPoints: mountPoints}
	for i, u := range uses {
		if _, ok := r.firstUse[u.Path]; !ok {
			r.firstUse[u.Path] = i
		}
	}
	return r
}

// refuse says why the stray p must stay where it is, "" when it may move:
// the first use (in order) at, above or below it (pathx.HasPrefix either
// way), else the first mount point at or below it.
func (r *refuser) refuse(p string) string {
	first := -1
	// The uses at or above p: p, and p up to each of its slashes.
	for i := len(p); i > 0; i-- {
		if i == len(p) || p[i] == '/' {
			if k, ok := r.firstUse[p[:i]]; ok && (first < 0 || k < first) {
				first = k
			}
		}
	}
	if k, ok := r.firstUse["/"]; ok && len(p) > 0 && p[0] == '/' && (first < 0 || k < first) {
		first = k
	}
	// The uses below p follow it in pathx.Compare order, together.
	k := sort.Search(len(r.uses), func(i int) bool { return pathx.Compare(r.uses[i].Path, p) >= 0 })
	if k < len(r.uses) && pathx.HasPrefix(r.uses[k].Path, p) && (first < 0 || k < first) {
		first = k
	}
	if first >= 0 {
		u := r.uses[first]
		if u.Path == p {
			return "in use: " + u.By
		}
		return fmt.Sprintf("in use: %s is %s", u.Path, u.By)
	}
	// In byte order, p comes first, then the paths beginning with p+"/".
	mps := r.mountPoints
	if k, ok := slices.BinarySearch(mps, p); ok {
		return mps[k] + " is a mount point (drift never moves across a mount)"
	}
	below := p + "/"
	if p == "/" {
		below = "/"
	}
	if k, _ := slices.BinarySearch(mps, below); k < len(mps) && strings.HasPrefix(mps[k], below) {
		return mps[k] + " is a mount point (drift never moves across a mount)"
	}
	return ""
}

// moveBatch plans the objects of the storage path sp (type and identity
// now) and, unless o.DryRun, writes the batch's manifest and moves them.
func moveBatch(ctx context.Context, m *audit.Model, sp string, objs []Object, o Options) (*Batch, []Refusal, error) {
	spFD, err := fsys.OpenDirIn(m.Root, sp)
	if err != nil {
		return nil, nil, fmt.Errorf("persistent storage path %s: %w", sp, err)
	}
	defer unix.Close(spFD)
	var refused []Refusal
	kept := objs[:0]
	for _, obj := range objs {
		st, err := lstatIn(spFD, rel(sp, obj.Path))
		if err != nil {
			refused = append(refused, newRefusal(obj.Path, err.Error()))
			continue
		}
		obj.Type, obj.Dev, obj.Ino = typeOf(st.Mode), uint64(st.Dev), st.Ino
		obj.N = len(kept) + 1
		kept = append(kept, obj)
	}
	if len(kept) == 0 {
		return nil, refused, nil
	}
	b := &Batch{Manifest: Manifest{Version: manifestVersion, StoragePath: sp, Created: o.Now.UTC().Truncate(time.Second), Declarations: m.Sources, Objects: kept}}
	b.Quarantined = make([]bool, len(kept))
	if o.DryRun {
		return b, refused, nil
	}
	qFD, err := mkdirIn(spFD, Dir)
	if err != nil {
		return nil, refused, fmt.Errorf("making the quarantine %s/%s: %w", sp, Dir, err)
	}
	defer unix.Close(qFD)
	sweepUnstarted(qFD)
	id, bFD, err := newBatchDir(qFD, o.Now)
	if err != nil {
		return nil, refused, fmt.Errorf("making a batch in %s/%s: %w", sp, Dir, err)
	}
	defer unix.Close(bFD)
	b.ID, b.Dir = id, sp+"/"+Dir+"/"+id
	data, _ := json.MarshalIndent(&b.Manifest, "", "  ")
	if err := writeAtomic(bFD, manifestName, append(data, '\n')); err != nil {
		_ = unix.Unlinkat(qFD, id, unix.AT_REMOVEDIR)
		return nil, refused, fmt.Errorf("writing %s/%s: %w (nothing moved)", b.Dir, manifestName, err)
	}
	_ = unix.Fsync(qFD)
	_ = unix.Fsync(spFD)
	for i := range kept {
		if err := ctx.Err(); err != nil {
			_ = unix.Syncfs(bFD)
			return b, refused, err
		}
		if err := moveOne(spFD, bFD, sp, &kept[i]); err != nil {
			refused = append(refused, newRefusal(kept[i].Path, err.Error()))
			continue
		}
		b.Quarantined[i] = true
		if o.Moved != nil {
			o.Moved(kept[i])
		}
	}
	return b, refused, unix.Syncfs(bFD)
}

// moveOne renames the object from its place to ID/N of the batch bFD,
// after checking it is the object planned; RENAME_NOREPLACE, so nothing
// in the quarantine is ever overwritten.
func moveOne(spFD, bFD int, sp string, obj *Object) error {
	pfd, name, err := openParent(spFD, rel(sp, obj.Path))
	if err != nil {
		return fmt.Errorf("opening its directory: %s", why(err))
	}
	defer unix.Close(pfd)
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("gone since the audit: %v", err)
	}
	if uint64(st.Dev) != obj.Dev || st.Ino != obj.Ino {
		return errors.New("replaced since the audit (another inode): left in place")
	}
	if err := unix.Renameat2(pfd, name, bFD, obj.name(), unix.RENAME_NOREPLACE); err != nil {
		return fmt.Errorf("rename: %s", why(err))
	}
	return nil
}

// newBatchDir makes the batch directory for now in the quarantine qFD:
// 20261207T055230Z, or with -2, -3 … when taken.
func newBatchDir(qFD int, now time.Time) (string, int, error) {
	base := now.UTC().Format("20060102T150405Z")
	for n := 1; n < 1000; n++ {
		id := base
		if n > 1 {
			id = fmt.Sprintf("%s-%d", base, n)
		}
		err := unix.Mkdirat(qFD, id, 0o700)
		if errors.Is(err, unix.EEXIST) {
			continue
		}
		if err != nil {
			return "", -1, err
		}
		fd, err := fsys.OpenNoXDev(qFD, id, unix.O_RDONLY|unix.O_DIRECTORY)
		return id, fd, err
	}
	return "", -1, fmt.Errorf("%s: 999 batches of that second exist", base)
}

// rel is p (below the storage path sp) relative to sp.
func rel(sp, p string) string {
	r, _ := pathx.Rel(sp, p)
	return strings.TrimPrefix(r, "/")
}

// lstatIn lstats rel beneath dirFD (openParent: no symlink, no mount on
// the way).
func lstatIn(dirFD int, rel string) (unix.Stat_t, error) {
	var st unix.Stat_t
	pfd, name, err := openParent(dirFD, rel)
	if err != nil {
		return st, fmt.Errorf("opening its directory: %s", why(err))
	}
	defer unix.Close(pfd)
	err = unix.Fstatat(pfd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	return st, err
}

// why says what an openat2 or rename error means here.
func why(err error) string {
	switch {
	case errors.Is(err, unix.ELOOP):
		return "a symlink on the way (not followed)"
	case errors.Is(err, unix.EXDEV):
		return "another filesystem or a mount on the way (drift never moves across a mount)"
	case errors.Is(err, unix.EEXIST), errors.Is(err, unix.ENOTEMPTY):
		return "something is there"
	}
	return err.Error()
}

func typeOf(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return "file"
	case unix.S_IFDIR:
		return "dir"
	case unix.S_IFLNK:
		return "symlink"
	}
	return "other"
}

// sweepUnstarted removes the batch directories of the quarantine qFD that a
// prune interrupted before its manifest was in place: no manifest.json,
// nothing in them but a manifest.json.tmp. Nothing was moved into them
// (the manifest comes first); a directory holding anything else is left
// alone (drift prune --list warns about it).
func sweepUnstarted(qFD int) {
	dup, err := unix.Dup(qFD)
	if err != nil {
		return
	}
	q := os.NewFile(uintptr(dup), Dir)
	defer q.Close()
	names, _ := q.Readdirnames(-1)
	for _, id := range names {
		bFD, err := fsys.OpenNoXDev(qFD, id, unix.O_RDONLY|unix.O_DIRECTORY)
		if err != nil {
			continue
		}
		b := os.NewFile(uintptr(bFD), id)
		inside, err := b.Readdirnames(-1)
		b.Close()
		if err != nil || slices.ContainsFunc(inside, func(n string) bool { return n != manifestName+".tmp" }) {
			continue
		}
		if len(inside) > 0 {
			if fd, err := fsys.OpenNoXDev(qFD, id, unix.O_RDONLY|unix.O_DIRECTORY); err == nil {
				_ = unix.Unlinkat(fd, manifestName+".tmp", 0)
				unix.Close(fd)
			}
		}
		_ = unix.Unlinkat(qFD, id, unix.AT_REMOVEDIR)
	}
}
