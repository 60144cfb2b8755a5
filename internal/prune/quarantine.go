package prune

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/persist"
	"golang.org/x/sys/unix"
)

// UsualStoragePaths are the persistent storage paths NixOS setups commonly
// use (impermanence's and preservation's documentation, the field's
// /persist, /nix/persist, /persistent): their quarantines are found even
// when no declaration names them (the configuration moved, a --persist
// forgotten).
var UsualStoragePaths = []string{"/nix/persist", "/nix/persistent", "/persist", "/persistent", "/state", "/nix/state"}

// StoragePaths are where quarantines are looked for: the persistent
// storage paths the declarations of o name (never /), UsualStoragePaths
// and extra's, sorted, each once. Declarations that cannot be read are a
// warning, not an error: the quarantines of the usual storage paths are
// still found (drift prune --undo must work after a prune took the
// configuration away).
func StoragePaths(ctx context.Context, o audit.Options, extra string) ([]string, []diff.Warning) {
	var out []string
	var warnings []diff.Warning
	set, _, err := persist.Load(ctx, o.Root, o.Persist, o.Flake, o.Stdin, persist.Options{Homes: o.Homes})
	if err != nil {
		warnings = append(warnings, diff.Warning{Kind: diff.WarnStorage, Message: fmt.Sprintf("reading the declarations: %v (looking in %s only)", err, joinOr(UsualStoragePaths))})
	} else {
		for _, e := range set.Entries {
			if e.StoragePath != "/" {
				out = append(out, e.StoragePath)
			}
		}
	}
	out = append(out, UsualStoragePaths...)
	if extra != "" {
		out = append(out, extra)
	}
	slices.Sort(out)
	return slices.Compact(out), warnings
}

// List reads the batches of the quarantines of the storage paths sps in
// the system at root, oldest first, each with which of its objects are in
// the quarantine now. A storage path without a quarantine yields nothing;
// a batch whose manifest cannot be read is a warning (its directory is
// left alone).
func List(root string, sps []string) ([]Batch, []diff.Warning) {
	var out []Batch
	var warnings []diff.Warning
	for _, sp := range sps {
		err := eachBatch(root, sp, func(_, bFD int, b *Batch) error {
			out = append(out, *b)
			return nil
		}, &warnings)
		if err != nil && !alias(root, sp, sps) {
			warnings = append(warnings, unreadable(root, sp, err))
		}
	}
	slices.SortStableFunc(out, func(a, b Batch) int { return a.Created.Compare(b.Created) })
	return out, warnings
}

// eachBatch calls f with the storage path's and each batch's directories
// (open beneath root, no symlink, no mount on the way) and the batch.
func eachBatch(root, sp string, f func(spFD, bFD int, b *Batch) error, warnings *[]diff.Warning) error {
	spFD, err := fsys.OpenDirIn(root, sp)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("persistent storage path %s: %s", sp, why(err))
	}
	defer unix.Close(spFD)
	qFD, err := fsys.OpenNoXDev(spFD, Dir, unix.O_RDONLY|unix.O_DIRECTORY)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s/%s: %s", sp, Dir, why(err))
	}
	q := os.NewFile(uintptr(qFD), sp+"/"+Dir)
	defer q.Close()
	names, err := q.Readdirnames(-1)
	if err != nil {
		return err
	}
	slices.Sort(names)
	for _, id := range names {
		where := sp + "/" + Dir + "/" + id
		bFD, err := fsys.OpenNoXDev(qFD, id, unix.O_RDONLY|unix.O_DIRECTORY)
		if err != nil {
			*warnings = append(*warnings, diff.Warning{Kind: diff.WarnStorage, Path: where, Message: fmt.Sprintf("%s: %s (not a batch of drift prune: left alone)", where, why(err))})
			continue
		}
		b, err := readBatch(bFD, where)
		if err == nil {
			err = f(spFD, bFD, b)
		}
		unix.Close(bFD)
		if err != nil {
			*warnings = append(*warnings, diff.Warning{Kind: diff.WarnStorage, Path: where, Message: err.Error()})
		}
	}
	return nil
}

// readBatch reads the manifest of the batch bFD and which objects are in
// it.
func readBatch(bFD int, where string) (*Batch, error) {
	data, err := readIn(bFD, manifestName)
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %s", where, manifestName, why(err))
	}
	m, err := decodeManifest(data, where+"/"+manifestName)
	if err != nil {
		return nil, err
	}
	b := &Batch{Manifest: *m, Dir: where, Quarantined: make([]bool, len(m.Objects))}
	for i := range m.Objects {
		if b.Quarantined[i], err = present(bFD, m.Objects[i].name()); err != nil {
			return nil, fmt.Errorf("%s/%d: %w", where, m.Objects[i].N, err)
		}
	}
	return b, nil
}

// Undone is what an undo did with one batch: the objects put back, and
// those refused (left in the quarantine) with why.
type Undone struct {
	ID       string    `json:"id"`
	Dir      string    `json:"dir"`
	Restored []string  `json:"restored"`
	Refused  []Refusal `json:"refused"`
	// Removed says the batch is now empty and its directory was removed.
	Removed bool `json:"removed"`
}

// Undo puts the objects of the batch id (or of every batch: "all") of the
// quarantines of sps back where they were, each by one rename with
// RENAME_NOREPLACE: an object whose original path is taken again
// (something new is there), whose parent directory is gone, or whose way
// holds a symlink or a mount is refused and stays in the quarantine. A
// batch left empty is removed (its manifest and directory). dryRun says
// what would be put back and moves nothing. Errors: no batch id in any
// quarantine.
func Undo(root string, sps []string, id string, dryRun bool) ([]Undone, []diff.Warning, error) {
	batches, warnings := List(root, sps)
	// Newest first: undoing prunes in the reverse of their order brings
	// back the state before the first.
	slices.Reverse(batches)
	var out []Undone
	for _, want := range batches {
		if id != "all" && want.ID != id {
			continue
		}
		sp := strings.TrimSuffix(want.Dir, "/"+Dir+"/"+want.ID)
		var ignored []diff.Warning // List said them
		err := eachBatch(root, sp, func(spFD, bFD int, b *Batch) error {
			if b.ID == want.ID {
				out = append(out, undoBatch(spFD, bFD, b, dryRun))
			}
			return nil
		}, &ignored)
		if err != nil {
			warnings = append(warnings, diff.Warning{Kind: diff.WarnStorage, Path: sp, Message: err.Error()})
		}
	}
	if len(out) == 0 {
		if id == "all" {
			return nil, warnings, fmt.Errorf("--undo all: nothing to put back: no batch in the quarantine of any storage path searched (%s)", joinOr(sps))
		}
		return nil, warnings, fmt.Errorf("no batch %q in the quarantine of any storage path searched (%s; drift prune --list lists the batches)", id, joinOr(sps))
	}
	return out, warnings, nil
}

func undoBatch(spFD, bFD int, b *Batch, dryRun bool) Undone {
	u := Undone{ID: b.ID, Dir: b.Dir}
	left := 0
	for i, obj := range b.Objects {
		if !b.Quarantined[i] {
			continue
		}
		if err := putBack(spFD, bFD, b.StoragePath, &obj, dryRun); err != nil {
			u.Refused = append(u.Refused, newRefusal(obj.Path, err.Error()))
			left++
			continue
		}
		u.Restored = append(u.Restored, obj.Path)
	}
	if !dryRun && len(u.Restored) > 0 && left > 0 {
		_ = unix.Syncfs(bFD)
	}
	if left == 0 && !dryRun {
		// Only the manifest is left: the renames on disk first (a crash
		// never leaves objects without their manifest), then unlink it,
		// then rmdir (which fails, keeping the batch, should anything else
		// be in it).
		u.Removed = unix.Syncfs(bFD) == nil && unix.Unlinkat(bFD, manifestName, 0) == nil && removeEmpty(spFD, b.ID) == nil
	}
	return u
}

// putBack renames the object obj from the batch bFD to its original path
// (RENAME_NOREPLACE).
func putBack(spFD, bFD int, sp string, obj *Object, dryRun bool) error {
	pfd, name, err := openParent(spFD, rel(sp, obj.Path))
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return errors.New("its directory is gone: left in the quarantine")
	}
	if err != nil {
		return fmt.Errorf("opening its directory: %s: left in the quarantine", why(err))
	}
	defer unix.Close(pfd)
	if dryRun {
		if there, err := present(pfd, name); err != nil || there {
			return errors.New("something new is there: left in the quarantine")
		}
		return nil
	}
	if err := unix.Renameat2(bFD, obj.name(), pfd, name, unix.RENAME_NOREPLACE); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return errors.New("something new is there: left in the quarantine")
		}
		return fmt.Errorf("rename: %s: left in the quarantine", why(err))
	}
	return nil
}

// removeBatch removes the batch b's directory: every object left in it
// (removeTree), then its manifest, then the directory.
func removeBatch(spFD int, b *Batch) error {
	qFD, err := fsys.OpenNoXDev(spFD, Dir, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer unix.Close(qFD)
	if err := removeTree(qFD, b.ID); err != nil {
		return err
	}
	return unix.Fsync(qFD)
}

// removeEmpty removes the empty batch directory id of the storage path
// spFD's quarantine.
func removeEmpty(spFD int, id string) error {
	qFD, err := fsys.OpenNoXDev(spFD, Dir, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer unix.Close(qFD)
	if err := unix.Unlinkat(qFD, id, unix.AT_REMOVEDIR); err != nil {
		return err
	}
	return unix.Fsync(qFD)
}

// Emptied is a batch drift prune empty deleted (or, dry run, would).
type Emptied struct {
	Batch
	// Entries and Bytes sum the objects deleted.
	Entries int64 `json:"entries"`
	Bytes   int64 `json:"bytes"`
	// Err says why the batch could not be deleted whole ("" when it was).
	Err string `json:"error,omitempty"`
}

// Empty deletes the batches of the quarantines of sps made before
// now-olderThan (Manifest.Created), every batch when olderThan is 0,
// objects and all, never following a symlink or crossing a mount
// (removeTree): the only deletion drift does outside the wipe. Errors:
// olderThan negative.
func Empty(root string, sps []string, olderThan time.Duration, now time.Time, dryRun bool) ([]Emptied, []diff.Warning, error) {
	if olderThan < 0 {
		return nil, nil, fmt.Errorf("--older-than %s: expected an age of 0 or more", olderThan)
	}
	cut := now.Add(-olderThan)
	var out []Emptied
	var warnings []diff.Warning
	for _, sp := range sps {
		err := eachBatch(root, sp, func(spFD, _ int, b *Batch) error {
			if olderThan > 0 && !b.Created.Before(cut) {
				return nil
			}
			e := Emptied{Batch: *b}
			for i, o := range b.Objects {
				if b.Quarantined[i] {
					e.Entries += o.Entries
					e.Bytes += o.Bytes
				}
			}
			if !dryRun {
				if err := removeBatch(spFD, b); err != nil {
					e.Err = err.Error()
				}
			}
			out = append(out, e)
			return nil
		}, &warnings)
		if err != nil && !alias(root, sp, sps) {
			warnings = append(warnings, unreadable(root, sp, err))
		}
	}
	return out, warnings, nil
}

// alias says whether the storage path sp is a symlink to another of sps,
// whose quarantine is read under that name (/persist -> /nix/persist).
func alias(root, sp string, sps []string) bool {
	at, link := audit.Blocked(root, sp)
	if at != sp || link == "" {
		return false
	}
	if !path.IsAbs(link) {
		link = path.Join(path.Dir(sp), link)
	}
	return path.Clean(link) != sp && slices.Contains(sps, path.Clean(link))
}

// unreadable is the warning for the storage path sp whose quarantine
// could not be read (err, eachBatch's): Unreadable lists it, and the
// command says its answer is incomplete.
func unreadable(root, sp string, err error) diff.Warning {
	msg := err.Error()
	if at, link := audit.Blocked(root, sp); at != "" {
		what := at + " is not a directory"
		if link != "" {
			what = at + " is a symlink (to " + link + "), not followed"
		}
		msg = "persistent storage path " + sp + ": " + what
	}
	return diff.Warning{Kind: diff.WarnStorage, Path: sp, Message: msg + ": its quarantine is not read"}
}

// Unreadable are the storage paths of sps whose quarantine List, Undo or
// Empty could not read, per their warnings: what they answer leaves those
// out.
func Unreadable(sps []string, warnings []diff.Warning) []string {
	var out []string
	for _, w := range warnings {
		if w.Kind == diff.WarnStorage && slices.Contains(sps, w.Path) && !slices.Contains(out, w.Path) {
			out = append(out, w.Path)
		}
	}
	return out
}

func joinOr(sps []string) string {
	if len(sps) == 0 {
		return "no persistent storage path"
	}
	s := sps[0]
	for _, x := range sps[1:] {
		s += ", " + x
	}
	return s
}
