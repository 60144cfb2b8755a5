package prune

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// KillEnv names the test hook that kills drift prune (SIGKILL, as a power
// cut would) after N objects are moved. The end-to-end tests set it to
// check that an interrupted prune leaves every object in place or in the
// quarantine and listed; nothing else should.
const KillEnv = "DRIFT_TEST_PRUNE_KILL"

// TestHook returns the Options.Moved KillEnv asks for, or nil.
func TestHook() func(Object) {
	n, err := strconv.Atoi(os.Getenv(KillEnv))
	if err != nil || n < 1 {
		return nil
	}
	done := 0
	return func(Object) {
		if done++; done == n {
			_ = unix.Kill(os.Getpid(), unix.SIGKILL)
		}
	}
}
