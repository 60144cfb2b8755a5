package suggest

import (
	"fmt"
	"path"

	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/persist"
	"golang.org/x/sys/unix"
)

// attrs reads the owner and mode of the live directory (a file's parent)
// and returns them when they are not the module's defaults: root:root 0755
// for a system path, the home's owner and group with 0755 in a home. For a
// directory the knowledge base names with an owner or mode (Fact.User,
// Group, Mode: /var/lib/private/* 0700 root, a DynamicUser service's), the
// fact's win over the live directory's — the live owner of a DynamicUser
// directory is a user allocated at each start, which no declaration can
// name. A directory that cannot be read gets the knowledge base's alone.
func (in *Input) attrs(s *Suggestion) *Attrs {
	a := in.liveAttrs(s)
	f := s.Fact
	if f == nil || s.Kind != persist.Dir || f.User == "" && f.Group == "" && f.Mode == "" {
		return a
	}
	if a == nil {
		if _, err := fsys.StatIn(in.Root, s.Path); err != nil {
			return &Attrs{User: f.User, Group: f.Group, Mode: f.Mode}
		}
		a = &Attrs{User: "root", Group: "root", Mode: "0755"}
		if s.Home != "" {
			if hs, err := fsys.StatIn(in.Root, s.Home); err == nil {
				a.User, a.Group = in.name(in.IDs.Users, hs.Uid), in.name(in.IDs.Groups, hs.Gid)
			}
		}
	}
	for _, kv := range []struct {
		to   *string
		from string
	}{{&a.User, f.User}, {&a.Group, f.Group}, {&a.Mode, f.Mode}} {
		if kv.from != "" {
			*kv.to = kv.from
		}
	}
	return a
}

// liveAttrs is attrs from the live directory alone (nil: the module's
// defaults, or unreadable and no fact to fall back on).
func (in *Input) liveAttrs(s *Suggestion) *Attrs {
	dir := s.Path
	if s.Kind == persist.File {
		dir = path.Dir(s.Path)
		if s.Home != "" && dir == s.Home {
			return nil // the home itself: the module makes it
		}
	}
	wantUID, wantGID := uint32(0), uint32(0)
	if s.Home != "" {
		hs, err := fsys.StatIn(in.Root, s.Home)
		if err != nil {
			return nil
		}
		wantUID, wantGID = hs.Uid, hs.Gid
	}
	st, err := fsys.StatIn(in.Root, dir)
	if err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		if f := s.Fact; f != nil && s.Kind == persist.Dir && (f.User != "" || f.Group != "" || f.Mode != "") {
			return &Attrs{User: f.User, Group: f.Group, Mode: f.Mode}
		}
		return nil
	}
	mode := st.Mode & 0o7777
	if st.Uid == wantUID && st.Gid == wantGID && mode == 0o755 {
		return nil
	}
	return &Attrs{User: in.name(in.IDs.Users, st.Uid), Group: in.name(in.IDs.Groups, st.Gid), Mode: fmt.Sprintf("%04o", mode)}
}

func (in *Input) name(names map[uint32]string, id uint32) string {
	if n, ok := names[id]; ok {
		return n
	}
	return fmt.Sprint(id)
}
