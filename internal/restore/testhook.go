package restore

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// InterruptEnv names the test hook that interrupts drift restore or drift
// adopt after N objects are written: "kill:N" (SIGKILL, as a power cut or
// the OOM killer would) or "int:N" (SIGINT, as Ctrl-C would). The
// end-to-end tests set it to check what an interrupted run leaves;
// nothing else should.
const InterruptEnv = "DRIFT_TEST_INTERRUPT"

// TestHook returns the Options.Copied (Request.Copied) that InterruptEnv
// asks for, or nil.
func TestHook() func(Item) {
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
	return func(Item) {
		if done.Add(1) == int64(count) {
			unix.Kill(os.Getpid(), s)
		}
	}
}
