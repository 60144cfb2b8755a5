// Package partial names the partial copies drift restore and drift adopt
// build beside a destination before renaming them into place
// (.NAME.drift-restore-PID-HEX), reads such a name back, and says whether
// the process that made one is gone (a run killed mid-copy): what a rerun
// removes and drift check reports. It imports no drift package.
package partial

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Mark is in every partial copy's name, between the name it stands for
// and the pid of the process building it.
const Mark = ".drift-restore-"

// maxName is how much of the destination's name a partial copy's name
// keeps, so that it stays within NAME_MAX.
const maxName = 180

// Name is the partial copy of name built by process pid, told apart from
// others by hex (12 hex digits).
func Name(name string, pid int, hex string) string {
	return fmt.Sprintf(".%s%s%d-%s", trim(name), Mark, pid, hex)
}

// Parse reads a partial copy's name n: of is the name it stands for
// (its first 180 bytes), pid the process that built it; ok false when n
// is not such a name.
func Parse(n string) (of string, pid int, ok bool) {
	i := strings.LastIndex(n, Mark)
	if i < 1 || n[0] != '.' {
		return "", 0, false
	}
	p, hex, found := strings.Cut(n[i+len(Mark):], "-")
	id, err := strconv.Atoi(p)
	if !found || err != nil || id <= 0 || len(hex) != 12 || strings.Trim(hex, "0123456789abcdef") != "" {
		return "", 0, false
	}
	return n[1:i], id, true
}

// Of says whether n is a partial copy of name (by any process).
func Of(n, name string) (pid int, ok bool) {
	of, pid, ok := Parse(n)
	return pid, ok && of == trim(name)
}

// Gone says whether the process pid that built a partial copy is gone (so
// the copy is left over from a run that was killed), not this process.
func Gone(pid int) bool {
	return pid != os.Getpid() && errors.Is(unix.Kill(pid, 0), unix.ESRCH)
}

func trim(name string) string {
	if len(name) > maxName {
		return name[:maxName]
	}
	return name
}
