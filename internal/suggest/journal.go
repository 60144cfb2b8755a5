package suggest

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/safefile"
	"github.com/nix-drift/drift/internal/units"
	"golang.org/x/sys/unix"
)

// journalDir is where systemd-journald keeps persistent journals, one
// directory per machine ID (systemd-journald.service(8)).
const journalDir = "/var/log/journal"

// journalID is one machine ID's journal directory.
type journalID struct {
	id    string
	bytes int64
	mtime int64 // newest file in it (the directory's own when empty)
}

// isMachineID reports whether s is a machine ID as journald names its
// directories: 32 lowercase hexadecimal digits (machine-id(5)).
func isMachineID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// journals lists the machine-ID directories of /var/log/journal under
// root, with the sizes of the regular files directly in them. Nothing is
// followed through a symlink; a missing directory is none.
func journals(root string) ([]journalID, error) {
	fd, err := fsys.OpenDirIn(root, journalDir)
	if err != nil {
		if fsys.Absent(err) {
			return nil, nil
		}
		return nil, err
	}
	f := os.NewFile(uintptr(fd), journalDir)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	var out []journalID
	for _, n := range names {
		if !isMachineID(n) {
			continue
		}
		var st unix.Stat_t
		if unix.Fstatat(fd, n, &st, unix.AT_SYMLINK_NOFOLLOW) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
			continue
		}
		j := journalID{id: n, mtime: st.Mtim.Nano()}
		sub, err := fsys.OpenDirIn(root, journalDir+"/"+n)
		if err != nil {
			continue
		}
		sf := os.NewFile(uintptr(sub), n)
		files, _ := sf.Readdirnames(-1)
		newest := int64(0)
		for _, fn := range files {
			var fs unix.Stat_t
			if unix.Fstatat(sub, fn, &fs, unix.AT_SYMLINK_NOFOLLOW) == nil && fs.Mode&unix.S_IFMT == unix.S_IFREG {
				j.bytes += fs.Size
				newest = max(newest, fs.Mtim.Nano())
			}
		}
		sf.Close()
		if newest > 0 {
			j.mtime = newest
		}
		out = append(out, j)
	}
	slices.SortFunc(out, func(a, b journalID) int {
		if a.mtime != b.mtime {
			if a.mtime < b.mtime {
				return -1
			}
			return 1
		}
		return strings.Compare(a.id, b.id)
	})
	return out, nil
}

// machineIDPath is where systemd keeps the machine ID (machine-id(5)).
const machineIDPath = "/etc/machine-id"

// liveMachineID reads the machine ID of the system at root: the regular
// file /etc/machine-id, or — when it is a symlink whose target lies in
// one of the persistent storage paths storages (a systemd-tmpfiles "L"
// rule: /etc/machine-id -> /nix/persist/etc/machine-id) — the regular
// file it points at. Both are read beneath root with no symlink in any
// component (safefile.ReadIn: openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS),
// so a link out of the storage path, or one whose way passes through
// another symlink, is never followed. "" when there is no ID to read.
func liveMachineID(root string, storages []string) string {
	st, err := fsys.StatIn(root, machineIDPath)
	if err != nil {
		return ""
	}
	p := machineIDPath
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		target, err := fsys.ReadlinkIn(root, machineIDPath)
		if err != nil {
			return ""
		}
		link := &diff.Item{Path: machineIDPath, Mode: st.Mode}
		link.SetTarget(target)
		t, ok := intoStorage(link, storages)
		if !ok {
			return ""
		}
		p = t
		if st, err = fsys.StatIn(root, p); err != nil {
			return ""
		}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return "" // never open a fifo or a device
	}
	data, err := safefile.ReadIn(root, p, 4096)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// machineID adds the journal's evidence to the suggestion to persist
// /etc/machine-id: journal directories of several machine IDs in
// /var/log/journal mean the ID changes at every boot (the journal of each
// boot is filed under another ID, and journalctl --list-boots sees only
// the current one). The evidence names how many, whether the live ID is
// the newest, and how much belongs to earlier IDs.
func (in *Input) machineID(out []Suggestion, storages []string) {
	i := slices.IndexFunc(out, func(s Suggestion) bool { return s.Path == machineIDPath && s.Action == Persist })
	if i < 0 {
		return
	}
	js, err := journals(in.Root)
	if err != nil || len(js) < 2 {
		return
	}
	live := liveMachineID(in.Root, storages)
	s := &out[i]
	ev := fmt.Sprintf("%d journal directories in %s, named by %d different machine IDs: the ID changes at every boot", len(js), journalDir, len(js))
	var earlier int64
	for _, j := range js {
		if j.id != live {
			earlier += j.bytes
		}
	}
	switch at := slices.IndexFunc(js, func(j journalID) bool { return j.id == live }); {
	case at == len(js)-1:
		ev += "; the live ID matches only the newest"
	case at >= 0:
		ev += "; the live ID matches one of them, not the newest"
	default:
		ev += "; the live ID matches none of them"
	}
	if earlier > 0 {
		ev += fmt.Sprintf("; %s of journals belong to earlier IDs", units.Bytes(earlier))
	}
	s.Evidence = append(s.Evidence, ev)
	s.Score += scoreJournalIDs
}
