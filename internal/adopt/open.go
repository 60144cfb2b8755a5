package adopt

import (
	"fmt"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/units"
)

// OpenFile is a file below an adopted path that a running process holds
// open: it may be written while it is copied (stop the service first).
type OpenFile struct {
	// Path is the live path (the process's view, Model.Root not included).
	Path string
	PID  int
	// Comm is the process's name (/proc/PID/comm).
	Comm string
}

// OpenError refuses an adopt (nothing written) while running processes
// hold files under the paths open: a file written during the copy may be
// copied half-written, and --mount would hide the file the process keeps
// writing (lost at the next wipe). Open is every one, sorted by path.
type OpenError struct {
	Open []OpenFile
}

// maxOpenNamed bounds how many open files OpenError's message names.
const maxOpenNamed = 5

func (e *OpenError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s under the paths to adopt held open by running programs: ", units.Plural(int64(len(e.Open)), "file", "files"))
	for i, f := range e.Open {
		if i == maxOpenNamed {
			fmt.Fprintf(&b, ", and %d more", len(e.Open)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s by pid %d (%s)", escape.Name(f.Path), f.PID, escape.Name(f.Comm))
	}
	return b.String()
}

// openBelow lists the open files of every process (readlinks of
// /proc/*/fd/*) at or below the paths to adopt, sorted by path then pid.
// Processes that vanish or cannot be read are passed over.
func openBelow(root string, paths []Path) []OpenFile {
	procs, err := os.ReadDir("/proc")
	if err != nil {
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
				if p.Persistent == "" && pathx.Contains(p.Path, live) {
					out = append(out, OpenFile{Path: live, PID: pid, Comm: comm(pid)})
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
