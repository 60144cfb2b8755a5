// Package partial names the partial copies drift restore and drift adopt
// build beside a destination before renaming them into place
// (.NAME.drift-restore-PID-HEX, .NAME.drift-adopt-PID-HEX), reads such a
// name back (which command built it), and says whether the process that
// made one is gone (a run killed mid-copy): what a rerun removes and drift
// check reports. It imports no drift package.
package partial

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Mark is in the name of every partial copy drift restore builds, between
// the name it stands for and the pid of the process building it; drift
// adopt's before it had AdoptMark too.
const Mark = ".drift-restore-"

// AdoptMark is Mark for the partial copies drift adopt builds.
const AdoptMark = ".drift-adopt-"

// The commands that build partial copies (Copy.By), as Name takes them.
const (
	Restore = "restore"
	Adopt   = "adopt"
)

// maxName is how much of the destination's name a partial copy's name
// keeps, so that it stays within NAME_MAX.
const maxName = 180

// Copy is what a partial copy's name says.
type Copy struct {
	// Of is the name it stands for (its first 180 bytes).
	Of string
	// By is the command that built it: Restore or Adopt. A name made by a
	// drift adopt before adopt's copies had their own mark reads Restore.
	By string
	// PID is the process that built it.
	PID int
}

// Name is the partial copy of name built by process pid running the
// command by (Adopt, else Restore), told apart from others by hex (12 hex
// digits).
func Name(name, by string, pid int, hex string) string {
	mark := Mark
	if by == Adopt {
		mark = AdoptMark
	}
	return fmt.Sprintf(".%s%s%d-%s", trim(name), mark, pid, hex)
}

// Parse reads a partial copy's name n; ok false when n is not such a name.
func Parse(n string) (c Copy, ok bool) {
	if len(n) == 0 || n[0] != '.' {
		return Copy{}, false
	}
	i, mark, by := strings.LastIndex(n, Mark), Mark, Restore
	if j := strings.LastIndex(n, AdoptMark); j > i {
		i, mark, by = j, AdoptMark, Adopt
	}
	if i < 1 {
		return Copy{}, false
	}
	p, hex, found := strings.Cut(n[i+len(mark):], "-")
	id, err := strconv.Atoi(p)
	if !found || err != nil || id <= 0 || len(hex) != 12 || strings.Trim(hex, "0123456789abcdef") != "" {
		return Copy{}, false
	}
	return Copy{Of: n[1:i], By: by, PID: id}, true
}

// Of says whether n is a partial copy of name (by any process, either
// command).
func Of(n, name string) (pid int, ok bool) {
	c, ok := Parse(n)
	return c.PID, ok && c.Of == trim(name)
}

// Gone says whether the process pid that built a partial copy is gone (so
// the copy is left over from a run that was killed), not this process.
// Only for a copy made at this boot: a pid of an earlier boot may be
// another process's now.
func Gone(pid int) bool {
	return pid != os.Getpid() && errors.Is(unix.Kill(pid, 0), unix.ESRCH)
}

func trim(name string) string {
	if len(name) > maxName {
		return name[:maxName]
	}
	return name
}
