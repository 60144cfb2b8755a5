package restore

import (
	"fmt"

	"github.com/nix-drift/drift/internal/pathx"
	"golang.org/x/sys/unix"
)

// The owner and mode a copy takes in place of its source's: the declared
// ones of its top directory (Owner) and of the parents it creates
// (ParentOwner).

// Owner is an owner and mode given to a copy's top directory in place of
// the source's (Request.Top). A negative field keeps the source's.
type Owner struct {
	UID, GID int
	// Mode holds permission and special bits (07777).
	Mode int
}

// apply gives the copy's top directory (res.Items[0], when the source's
// top st is a directory) the owner and mode o declares, in place of the
// source's; it says whether it did (false for a nil o). It is the one
// decision both a dry run (which reports that item) and a run (setOwner
// writes that item's metadata) follow.
func (o *Owner) apply(res *Result, st *unix.Stat_t) bool {
	if o == nil || kindOf(st.Mode) != KindDir || len(res.Items) == 0 {
		return false
	}
	it := &res.Items[0]
	if o.UID >= 0 {
		it.UID = uint32(o.UID)
	}
	if o.GID >= 0 {
		it.GID = uint32(o.GID)
	}
	if o.Mode >= 0 {
		it.Mode = uint32(o.Mode)
	}
	return true
}

// setOwner gives the directory name under dir the owner, group and mode
// of it (the top item, as Owner.apply decided it).
func setOwner(dir int, name string, it Item) error {
	fd, err := openDirAt(dir, name)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Fchown(fd, int(it.UID), int(it.GID)); err != nil {
		return fmt.Errorf("set the declared owner: %w", err)
	}
	if err := unix.Fchmod(fd, it.Mode); err != nil {
		return fmt.Errorf("set the declared mode: %w", err)
	}
	return nil
}

// ParentOwner is the owner and group of the missing parents a Run creates
// at or below Below (absolute as the live system sees it), in place of
// those mirrored from the source (Request.Parents). Their mode stays as
// Run decides it.
type ParentOwner struct {
	Below    string
	UID, GID int
}

// apply gives meta, that of the created parent dir, o's owner and group
// when dir is at or below o.Below (nothing for a nil o).
func (o *ParentOwner) apply(meta *dirMeta, dir string) {
	if o != nil && pathx.HasPrefix(dir, o.Below) {
		meta.uid, meta.gid = o.UID, o.GID
	}
}
