package diff

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nix-drift/drift/internal/safefile"
	"github.com/nix-drift/drift/internal/units"
	"golang.org/x/sys/unix"
)

// maxIDFile bounds what is read of /etc/passwd, /etc/group and the
// /var/lib/nixos maps.
const maxIDFile = 64 << 20

// readBounded reads the regular file rel beneath dirFD (at most maxIDFile
// bytes; safefile.ReadBeneath). A missing file is (nil, nil).
func readBounded(dirFD int, rel string) ([]byte, error) {
	data, err := safefile.ReadBeneath(dirFD, rel, maxIDFile)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	return data, err
}

// idNames maps numeric ids to names.
type idNames map[uint32]string

// parseIDDB reads /etc/passwd or /etc/group lines ("name:password:id:…")
// into ids to names; the first line with an id wins, as for getpwuid.
// Blank lines, comments and NIS compat lines (+, -) are skipped; a line
// without a name or a numeric id in its third field is malformed: skipped
// and its number returned.
func parseIDDB(data []byte) (idNames, []int) {
	names := idNames{}
	var bad []int
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" || line[0] == '#' || line[0] == '+' || line[0] == '-' {
			continue
		}
		f := strings.SplitN(line, ":", 4)
		if len(f) < 3 || f[0] == "" {
			bad = append(bad, i+1)
			continue
		}
		id, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			bad = append(bad, i+1)
			continue
		}
		if _, ok := names[uint32(id)]; !ok {
			names[uint32(id)] = f[0]
		}
	}
	return names, bad
}

// parseIDMap reads /var/lib/nixos/uid-map or gid-map ({"name": id, …},
// what NixOS's update-users-groups.pl keeps) into ids to names. An id that
// two names claim is left out (ambiguous); entries whose value is not an
// id are counted as malformed.
func parseIDMap(data []byte) (idNames, int, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, 0, err
	}
	names := idNames{}
	ambiguous := map[uint32]bool{}
	bad := 0
	for name, v := range raw {
		var id uint32
		if name == "" || json.Unmarshal(v, &id) != nil {
			bad++
			continue
		}
		if old, ok := names[id]; ok && old != name {
			ambiguous[id] = true
		}
		names[id] = name
	}
	for id := range ambiguous {
		delete(names, id)
	}
	return names, bad, nil
}

// idDB is one root's names for uids and gids. noUIDs (noGIDs) is set when
// the root's /etc/passwd (/etc/group) is missing or empty: not
// written yet (the NixOS activation writes it), so who owns what cannot
// be checked, whatever /var/lib/nixos/uid-map holds (it lacks root and
// every static id).
type idDB struct {
	uid, gid       idNames
	noUIDs, noGIDs bool
}

// loadIDs reads a root's names: /etc/passwd and /etc/group first, then the
// ids they lack from /var/lib/nixos/uid-map and gid-map (ids of users no
// longer declared stay there). Malformed content is a warning that names
// the root (where).
// readFrom names what reading p in the live root really read, for
// messages: where itself, or, when another mount shows p (/var/lib/nixos
// bind-mounted from /nix/persist/var/lib/nixos), that mount: "the mount at
// /var/lib/nixos (mount 42, /persist/var/lib/nixos of /dev/vda2) in the
// live root". In an old root (fd is not the live root) it is where.
func (h *hist) readFrom(fd int, where, p string) string {
	if fd != h.live || h.c.cfg.Mounts == nil {
		return where
	}
	m := h.c.cfg.Mounts.Shows(p)
	if m == nil || m.MountPoint == "/" {
		return where
	}
	return fmt.Sprintf("the mount at %s (mount %d, %s of %s) in %s", m.MountPoint, m.ID, m.Root, m.Source, where)
}

func (h *hist) loadIDs(fd int, where string) idDB {
	db := idDB{uid: idNames{}, gid: idNames{}}
	for _, src := range []struct {
		db, mp string
		into   idNames
		none   *bool
	}{{"etc/passwd", "var/lib/nixos/uid-map", db.uid, &db.noUIDs}, {"etc/group", "var/lib/nixos/gid-map", db.gid, &db.noGIDs}} {
		data, err := readBounded(fd, src.db)
		haveDB := err != nil || data != nil
		if err != nil {
			h.c.warn(WarnIDs, "/"+src.db, fmt.Sprintf("cannot read /%s in %s: %v", src.db, h.readFrom(fd, where, "/"+src.db), err))
		} else {
			names, bad := parseIDDB(data)
			if len(bad) > 0 {
				h.c.warn(WarnIDs, "/"+src.db, fmt.Sprintf("/%s in %s: %s skipped (%s)", src.db, where, units.Plural(int64(len(bad)), "malformed line", "malformed lines"), lineList(bad)))
			}
			for id, n := range names {
				src.into[id] = n
			}
		}
		*src.none = !haveDB || err == nil && len(bytes.TrimSpace(data)) == 0
		data, err = readBounded(fd, src.mp)
		if err == nil && data != nil {
			var names idNames
			var bad int
			names, bad, err = parseIDMap(data)
			if bad > 0 {
				h.c.warn(WarnIDs, "/"+src.mp, fmt.Sprintf("/%s in %s: %s skipped", src.mp, where, units.Plural(int64(bad), "malformed entry", "malformed entries")))
			}
			for id, n := range names {
				if _, ok := src.into[id]; !ok {
					src.into[id] = n
				}
			}
		}
		if err != nil {
			h.c.warn(WarnIDs, "/"+src.mp, fmt.Sprintf("cannot read /%s in %s: %v", src.mp, h.readFrom(fd, where, "/"+src.mp), err))
		}
		if _, ok := src.into[0]; !ok {
			src.into[0] = "root" // uid 0 and gid 0 are root's on every Linux system
		}
	}
	return db
}

func lineList(lines []int) string {
	var s []string
	for i, l := range lines {
		if i == 5 {
			s = append(s, "…")
			break
		}
		s = append(s, strconv.Itoa(l))
	}
	if len(lines) == 1 {
		return "line " + s[0]
	}
	return "lines " + strings.Join(s, ", ")
}
