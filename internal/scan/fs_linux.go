//go:build linux

package scan

import (
	"runtime"

	"github.com/nix-drift/drift/internal/fsys"
)

// RawCalls reports whether a walk with workers workers (0: DefaultWorkers)
// below the open directories roots makes raw system calls (fsys.Getdents): when
// it has no more workers than GOMAXPROCS, so a call that holds its P keeps
// no worker of the walk from running, and every root is on a local
// filesystem (fsys.LocalFS). Walk asks it for its root, internal/diff's Compare
// for both of its.
func RawCalls(workers int, roots ...int) bool {
	if workers <= 0 {
		workers = DefaultWorkers()
	}
	if workers > runtime.GOMAXPROCS(0) {
		return false
	}
	for _, fd := range roots {
		if !fsys.LocalFS(fd) {
			return false
		}
	}
	return true
}
