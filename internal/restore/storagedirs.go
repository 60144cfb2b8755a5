package restore

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/safefile"
)

// StorageDir is the persistent directory of a declaration
// (persist.Entry.Source, absolute as the live system sees it) and the
// owner and mode its declaration states (DeclaredOwner): Run gives them
// to that directory when it creates it, as a missing parent of the
// destination (Request.Storage) or as the copy's top (Request.Top), never
// the old root's or the live directory's. One rule for drift restore and
// drift adopt (ForDeclaration), as impermanence's
// createPersistentStorageDirs makes a missing persistent directory.
type StorageDir struct {
	Dir   string
	Owner Owner
}

// apply gives meta, that of the created parent dir, s's owner and mode
// when dir is s.Dir (nothing for a nil s); a negative field keeps meta's.
func (s *StorageDir) apply(meta *dirMeta, dir string) {
	if s == nil || dir != s.Dir {
		return
	}
	if s.Owner.UID >= 0 {
		meta.uid = s.Owner.UID
	}
	if s.Owner.GID >= 0 {
		meta.gid = s.Owner.GID
	}
	if s.Owner.Mode >= 0 {
		meta.mode = uint32(s.Owner.Mode)
	}
}

// Storage is what ForDeclaration says of the directories a copy into
// persistent storage creates: Top for the copy's top (Request.Top),
// Storage for the declared directory created as a missing parent
// (Request.Storage), Parents for a user's directories (Request.Parents).
type Storage struct {
	Top     *Owner
	Storage *StorageDir
	Parents *ParentOwner
}

// ForDeclaration is the one rule for the persistent directories drift
// adopt and drift restore create when they copy live (a path of the
// declaration e, read in root) to dest (its persistent copy): the
// declared directory gets the declared owner and mode (DeclaredOwner),
// whether it is the copy's top (live is e.Path) or a missing parent of
// it; a user's directories from the home's copy down are the user's
// (UserParents); the others mirror the source's directory of the same
// name (Run). warns are DeclaredOwner's.
func ForDeclaration(root string, e persist.Entry, live, dest string) (Storage, []string) {
	var s Storage
	o, warns := DeclaredOwner(root, e)
	if o != nil {
		s.Storage = &StorageDir{Dir: e.Source(), Owner: *o}
		if live == e.Path {
			s.Top = o
		}
	}
	s.Parents = UserParents(root, e, live, dest)
	return s, warns
}

// DeclaredOwner is the owner and mode the declaration e gives the
// persistent directory the module creates (impermanence's user, group and
// mode, applied by createPersistentStorageDirs when the directory is
// missing): the attributes written in the declaration (for an evaluated
// entry, those other than the defaults root, root, 0755). Names are
// resolved in root's /etc/passwd and /etc/group. nil when the declaration
// states none; a name or mode drift cannot resolve is left out with a
// warning (the live directory's is kept). For a users.<name> or
// home-manager entry (e.Owner) the user and group it does not write are
// that user's uid and primary gid in root's /etc/passwd, as the module
// gives them.
func DeclaredOwner(root string, e persist.Entry) (*Owner, []string) {
	if e.Kind != persist.Dir || e.Origin == nil {
		return nil, nil
	}
	written := func(name, value, def string) bool {
		if e.Evaluated {
			return value != "" && value != def
		}
		return slices.ContainsFunc(e.Attrs(), func(a persist.Attr) bool { return a.Name == name }) && value != ""
	}
	o := &Owner{UID: -1, GID: -1, Mode: -1}
	var warns []string
	var ids *diff.IDNames
	lookup := func(m map[uint32]string, name, what string) int {
		for id, n := range m {
			if n == name {
				return int(id)
			}
		}
		if id, err := strconv.ParseUint(name, 10, 32); err == nil {
			return int(id)
		}
		warns = append(warns, fmt.Sprintf("%s: the declared %s %s is not in %s: the persistent copy keeps the live directory's", e.Path, what, name, path.Join(root, "/etc/"+map[bool]string{true: "passwd", false: "group"}[what == "user"])))
		return -1
	}
	if written("user", e.User, "root") {
		if ids == nil {
			n, _ := diff.ReadIDNames(root)
			ids = &n
		}
		o.UID = lookup(ids.Users, e.User, "user")
	}
	if written("group", e.Group, "root") {
		if ids == nil {
			n, _ := diff.ReadIDNames(root)
			ids = &n
		}
		o.GID = lookup(ids.Groups, e.Group, "group")
	}
	if written("mode", e.Mode, "0755") {
		m, err := persist.DirMode(e.Mode)
		if err != nil {
			warns = append(warns, fmt.Sprintf("%s: the declared mode %q: %v: the persistent copy keeps the live directory's", e.Path, e.Mode, err))
		} else {
			o.Mode = int(m)
		}
	}
	if e.Owner != "" && (o.UID < 0 || o.GID < 0) {
		// A users.<name> or home-manager entry: the module makes the
		// persistent directory the user's (impermanence's user and
		// group default to the user and the user's group).
		uid, gid, ok := passwdIDs(root, e.Owner)
		switch {
		case !ok:
			warns = append(warns, fmt.Sprintf("%s: the user %s is not in %s: the persistent copy keeps the live directory's owner", e.Path, e.Owner, path.Join(root, "/etc/passwd")))
		default:
			if o.UID < 0 {
				o.UID = uid
			}
			if o.GID < 0 {
				o.GID = gid
			}
		}
	}
	if o.UID < 0 && o.GID < 0 && o.Mode < 0 {
		return nil, warns
	}
	return o, warns
}

// passwdIDs is the uid and primary gid of the user name in root's
// /etc/passwd (name:x:uid:gid:…); ok is false when it is not there or the
// file cannot be read.
func passwdIDs(root, name string) (uid, gid int, ok bool) {
	b, err := safefile.ReadFile(context.Background(), path.Join(root, "/etc/passwd"), 16<<20)
	if err != nil {
		return -1, -1, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, ":")
		if len(f) < 4 || f[0] != name {
			continue
		}
		u, err1 := strconv.ParseUint(f[2], 10, 32)
		g, err2 := strconv.ParseUint(f[3], 10, 32)
		if err1 != nil || err2 != nil {
			return -1, -1, false
		}
		return int(u), int(g), true
	}
	return -1, -1, false
}

// UserParents is the owner of the directories adopt creates for live, a
// path of the users.<name> or home-manager entry e, whose persistent copy
// is dest: at or below the copy of the home, the user's uid and primary
// gid in root's /etc/passwd (impermanence gives a user's directories and
// their parent directories the user and the user's group). nil for a
// system-wide entry, a user not in /etc/passwd, or a copy that does not
// end with live's path below the home.
func UserParents(root string, e persist.Entry, live, dest string) *ParentOwner {
	if e.Origin == nil || e.Owner == "" || e.Home == "" {
		return nil
	}
	rel, ok := pathx.Rel(e.Home, live)
	if !ok || rel == "/" || !strings.HasSuffix(dest, rel) {
		return nil
	}
	uid, gid, ok := passwdIDs(root, e.Owner)
	if !ok {
		return nil
	}
	return &ParentOwner{Below: strings.TrimSuffix(dest, rel), UID: uid, GID: gid}
}
