package audit

import (
	"fmt"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/pathx"
)

// OpenFile is a file a running process holds open: in use now, whatever
// the configuration says.
type OpenFile struct {
	// Path is the live path (the process's view, the audited root not
	// included).
	Path string
	PID  int
	// Comm is the process's name (/proc/PID/comm; "?" when unreadable).
	Comm string
}

// OpenBelow lists the open files of every process but this one (readlinks
// of /proc/*/fd/*) at or below one of paths (live, absolute; root is the
// audited system's / as this process sees it), sorted by path then pid.
// A deleted file counts under its old name. Processes that vanish or
// cannot be read are passed over; no /proc: none.
func OpenBelow(root string, paths []string) []OpenFile {
	procs, err := os.ReadDir("/proc")
	if err != nil || len(paths) == 0 {
		return nil
	}
	self := os.Getpid()
	var out []OpenFile
	for _, pe := range procs {
		pid, err := strconv.Atoi(pe.Name())
		if err != nil || pid == self {
			continue
		}
		fds, err := os.ReadDir("/proc/" + pe.Name() + "/fd")
		if err != nil {
			continue
		}
		seen := map[string]bool{}
		name := "" // comm(pid), read at the first match
		for _, fd := range fds {
			target, err := os.Readlink("/proc/" + pe.Name() + "/fd/" + fd.Name())
			if err != nil || !strings.HasPrefix(target, "/") || seen[target] {
				continue
			}
			seen[target] = true
			live, ok := pathx.Rel(root, strings.TrimSuffix(target, " (deleted)"))
			if !ok {
				continue
			}
			live = path.Join("/", live)
			for _, p := range paths {
				if pathx.Contains(p, live) {
					if name == "" {
						name = comm(pid)
					}
					out = append(out, OpenFile{Path: live, PID: pid, Comm: name})
					break
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b OpenFile) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return a.PID - b.PID
	})
	return out
}

func comm(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

// maxOpenNamed bounds how many open files NameOpen names.
const maxOpenNamed = 5

// NameOpen names open files as drift adopt and drift prune refuse them:
// "PATH by pid N (COMM)" each, escaped, comma-separated, the first five
// and then ", and N more".
func NameOpen(open []OpenFile) string {
	var b strings.Builder
	for i, f := range open {
		if i == maxOpenNamed {
			fmt.Fprintf(&b, ", and %d more", len(open)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s by pid %d (%s)", escape.Name(f.Path), f.PID, escape.Name(f.Comm))
	}
	return b.String()
}
