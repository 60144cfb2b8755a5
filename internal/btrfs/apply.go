package btrfs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	dbtrfs "github.com/dennwc/btrfs"
	"golang.org/x/sys/unix"
)

// afterStep, when set (by tests), runs after each step Apply completes; an
// error it returns stops Apply as if the process died there.
var afterStep func(i int, s Step) error

// Apply performs p's steps in order on top. It stops at the first error of
// a step that is not a deletion (or when ctx is done between steps),
// returning it with the step named. A failed deletion skips the rest of
// that old root only: the other old roots are still deleted, and Apply
// returns every failure (errors.Join), each with its step named. Before
// each step deleting (part of) an old root, Apply checks that the old root
// is still the subvolume planned, unmounted, and still looks like a root
// (rootLike, the rule Plan applied): one that no longer does (its content
// changed since the plan) is kept, its Decision and p.Warnings say why,
// and the rest of its steps are skipped; that is no failure.
// Each step checks what it changes first: ActRetire and ActDelete refuse
// when another subvolume (by id) is at their path, or when it is mounted,
// ActRetire never replaces an existing entry (renameat2 RENAME_NOREPLACE:
// never into an existing old root), ActCreate and ActSnapshot never create
// inside an existing entry, and make the fresh root under another name
// (FreshName) and mark it before renaming it into place. A nested subvolume inside a read-only one (an
// old root kept read-only, a read-only snapshot holding another) is deleted
// after clearing the read-only flag of the one holding it, which is deleted
// next anyway. Apply is resumable: after an interruption at any point (a
// signal, a kill, a power cut), Plan on the new state followed by Apply, at
// the same boot or a later one, ends where an uninterrupted run does.
// Cancelling ctx lets the step in progress finish: the caller's top level
// must stay mounted until Apply returns (OpenTop with a context that is
// never cancelled, as drift wipe does).
func (t *Top) Apply(ctx context.Context, p *Plan) error {
	var failed []error
	skip := ""
	for i, s := range p.Steps {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(failed, err)...)
		}
		if s.Action == ActDelete && s.oldRoot != "" && s.oldRoot == skip {
			continue
		}
		t.step = i + 1
		kept, err := t.recheckOldRoot(p, s)
		if err == nil && !kept {
			err = t.apply(p, s)
		}
		if err != nil {
			err = fmt.Errorf("%s: %w", s, err)
			if s.Action != ActDelete || s.oldRoot == "" {
				return errors.Join(append(failed, err)...)
			}
			failed = append(failed, err)
			skip = s.oldRoot
			continue
		}
		if kept {
			skip = s.oldRoot
			continue
		}
		p.Steps[i].Done = true
		if afterStep != nil {
			if err := afterStep(i, s); err != nil {
				return err
			}
		}
	}
	return errors.Join(failed...)
}

// recheckOldRoot, for a step deleting (part of) an old root, verifies the
// old root as the plan saw it (verify: its id at its path, unmounted) and
// applies rootLike to it again; kept is true when it no longer looks like
// a root: keepNotRoot has recorded why. Other steps pass (false, nil).
func (t *Top) recheckOldRoot(p *Plan, s Step) (kept bool, err error) {
	if s.Action != ActDelete || s.oldRoot == "" {
		return false, nil
	}
	if err := t.verify(Step{Action: ActDelete, Path: s.oldRoot, ID: s.oldRootID}); err != nil {
		return false, err
	}
	not := rootLike(filepath.Join(t.Dir, s.oldRoot))
	if not == "" {
		return false, nil
	}
	p.keepNotRoot(s.oldRoot, not)
	return true, nil
}

// keepNotRoot records in p that the old root at path, planned for
// deletion, is kept because it no longer looks like a root (not: rootLike's
// reason): its Decision (Delete false, NotRoot, Why) and a warning.
func (p *Plan) keepNotRoot(path, not string) {
	for i := range p.OldRoots {
		if d := &p.OldRoots[i]; d.Path == path {
			d.Delete, d.NotRoot = false, not
			d.Why = "kept: no longer looks like a root: " + not
		}
	}
	p.Warnings = append(p.Warnings, fmt.Sprintf("%s no longer looks like a root (it changed since the plan): it %s: left alone, not deleted", path, not))
}

func (t *Top) apply(p *Plan, s Step) error {
	full := filepath.Join(t.Dir, s.Path)
	switch s.Action {
	case ActMkdir:
		if err := os.Mkdir(full, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		t.mutated("mkdir " + s.Path)
		return nil
	case ActRetire:
		if err := t.verify(s); err != nil {
			return err
		}
		if err := unix.Lsetxattr(full, XattrRetired, []byte(retiredMark(p.Options.BootID, s.Path, p.Options.Now)), 0); err != nil {
			return &os.PathError{Op: "setxattr", Path: full, Err: err}
		}
		t.mutated("mark " + s.Path + " retired")
		to := filepath.Join(t.Dir, s.To)
		if err := unix.Renameat2(unix.AT_FDCWD, full, unix.AT_FDCWD, to, unix.RENAME_NOREPLACE); err != nil {
			return &os.LinkError{Op: "rename", Old: full, New: to, Err: err}
		}
		t.mutated("rename " + s.Path + " to " + s.To)
		return nil
	case ActCreate, ActSnapshot:
		return t.makeFresh(p, s)
	case ActMark:
		if err := t.verify(s); err != nil {
			return err
		}
		if err := unix.Lsetxattr(full, XattrCreated, []byte(p.Options.BootID), 0); err != nil {
			return &os.PathError{Op: "setxattr", Path: full, Err: err}
		}
		t.mutated("mark " + s.Path + " created")
		if err := t.recordFresh(s.Path, s.Path); err != nil {
			return err
		}
		t.mutated("record " + s.Path + " on the top level")
		return nil
	case ActDelete:
		if err := t.verify(s); err != nil {
			return err
		}
		if s.parent != "" {
			if err := t.makeWritable(Step{Action: ActDelete, Path: s.parent, ID: s.parentID}); err != nil {
				return err
			}
		}
		if err := dbtrfs.DeleteSubVolume(full); err != nil {
			return err
		}
		t.mutated("delete " + s.Path)
		return nil
	}
	return fmt.Errorf("unknown action %q", s.Action)
}

// makeFresh performs ActCreate or ActSnapshot: it makes the fresh root at
// s.Via (unless an interrupted run left it there: s.Reuse, checked to be a
// subvolume again), marks it with this boot's id, records it as it is then
// on the top level (XattrFresh), and renames it to s.Path without replacing
// anything. A rerun after a stop at any point between
// finds either the subvolume at s.Via (and finishes it) or a marked root.
func (t *Top) makeFresh(p *Plan, s Step) error {
	full := filepath.Join(t.Dir, s.Path)
	if _, err := os.Lstat(full); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s exists already", s.Path)
	}
	via := filepath.Join(t.Dir, s.Via)
	if err := t.checkNoSymlinks(s.Via); err != nil {
		return err
	}
	if s.Reuse {
		var st unix.Stat_t
		if err := unix.Lstat(via, &st); err != nil {
			return &os.PathError{Op: "lstat", Path: via, Err: err}
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR || st.Ino != RootIno {
			return fmt.Errorf("%w: %s is not a subvolume", ErrUnsafe, s.Via)
		}
	} else {
		var err error
		if s.Action == ActCreate {
			err = dbtrfs.CreateSubVolume(via)
		} else {
			err = dbtrfs.SnapshotSubVolume(filepath.Join(t.Dir, s.From), via, false)
		}
		if err != nil {
			return err
		}
		t.mutated("make " + s.Via)
	}
	if p.Options.BootID != "" {
		if err := unix.Lsetxattr(via, XattrCreated, []byte(p.Options.BootID), 0); err != nil {
			return &os.PathError{Op: "setxattr", Path: via, Err: err}
		}
		t.mutated("mark " + s.Via + " created")
		if err := t.recordFresh(s.Path, s.Via); err != nil {
			return err
		}
		t.mutated("record " + s.Via + " on the top level")
	}
	if err := unix.Renameat2(unix.AT_FDCWD, via, unix.AT_FDCWD, full, unix.RENAME_NOREPLACE); err != nil {
		return &os.LinkError{Op: "rename", Old: via, New: full, Err: err}
	}
	t.mutated("rename " + s.Via + " to " + s.Path)
	return nil
}

// mutated calls t.AfterMutation, when set, after a change to the
// filesystem.
func (t *Top) mutated(what string) {
	if t.AfterMutation != nil {
		t.AfterMutation(t.step, what)
	}
}

// verify checks that the subvolume s.ID is at s.Path (no symlink on the way)
// and is not mounted.
func (t *Top) verify(s Step) error {
	if err := t.checkNoSymlinks(s.Path); err != nil {
		return err
	}
	full := filepath.Join(t.Dir, s.Path)
	var st unix.Stat_t
	if err := unix.Lstat(full, &st); err != nil {
		return &os.PathError{Op: "lstat", Path: full, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR || st.Ino != RootIno {
		return fmt.Errorf("%w: %s is not a subvolume", ErrUnsafe, s.Path)
	}
	fsys, err := dbtrfs.Open(full, true)
	if err != nil {
		return err
	}
	id, err := fsys.SubVolumeID()
	fsys.Close()
	if err != nil {
		return err
	}
	if id != s.ID {
		return fmt.Errorf("%w: %s is subvolume %d, the plan expected %d", ErrUnsafe, s.Path, id, s.ID)
	}
	mounted, err := t.MountedIDs()
	if err != nil {
		return err
	}
	if mps := mounted[id]; len(mps) > 0 {
		return fmt.Errorf("%w: %s is mounted at %v", ErrUnsafe, s.Path, mps)
	}
	return nil
}

// makeWritable clears the read-only flag of the subvolume s.ID at s.Path
// (verified as for a deletion) when it is set: deleting a subvolume inside a
// read-only one fails with EROFS.
func (t *Top) makeWritable(s Step) error {
	if err := t.verify(s); err != nil {
		return err
	}
	full := filepath.Join(t.Dir, s.Path)
	fsys, err := dbtrfs.Open(full, true)
	if err != nil {
		return err
	}
	defer fsys.Close()
	flags, err := fsys.GetFlags()
	if err != nil {
		return &os.PathError{Op: "get subvolume flags", Path: full, Err: err}
	}
	if !flags.ReadOnly() {
		return nil
	}
	if err := fsys.SetFlags(flags &^ dbtrfs.SubvolReadOnly); err != nil {
		return &os.PathError{Op: "clear the read-only flag of", Path: full, Err: err}
	}
	t.mutated("make " + s.Path + " writable")
	return nil
}
