package adopt

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/nix-drift/drift/internal/restore"
	"golang.org/x/sys/unix"
)

// InterruptEnv names the test hook that interrupts drift adopt after N
// objects are written: "kill:N" (SIGKILL, as a power cut or the OOM killer
// would) or "int:N" (SIGINT, as Ctrl-C would). The end-to-end tests set it
// to check that an interrupted adopt leaves every persistent object either
// as it was or complete; nothing else should.
const InterruptEnv = "DRIFT_TEST_INTERRUPT"

// TestHook returns the Options.Copied that InterruptEnv asks for, or nil.
func TestHook() func(restore.Item) {
	sig, n, ok := strings.Cut(os.Getenv(InterruptEnv), ":")
	count, err := strconv.Atoi(n)
	if !ok || err != nil || count < 0 {
		return nil
	}
	s := unix.SIGINT
	if sig == "kill" {
		s = unix.SIGKILL
	}
	var done atomic.Int64
	return func(restore.Item) {
		if done.Add(1) == int64(count) {
			unix.Kill(os.Getpid(), s)
		}
	}
}
