package btrfs

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// KillEnv names the test hook that kills the process (SIGKILL, as kill -9
// would) right after OpenTop has mounted the top level, before it is
// used. The end-to-end tests set it to "1" to check that nothing of the
// top level outlives a killed drift (no mount in the caller's namespace,
// no directory left); nothing else should.
const KillEnv = "DRIFT_TEST_TOP_KILL"

// killHook kills the process when KillEnv is "1".
func killHook() {
	if os.Getenv(KillEnv) != "1" {
		return
	}
	_ = unix.Kill(os.Getpid(), unix.SIGKILL)
	time.Sleep(time.Minute) // never reached: SIGKILL is delivered on the way out of kill(2)
}
