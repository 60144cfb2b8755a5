package adopt

import "github.com/nix-drift/drift/internal/restore"

// InterruptEnv names the test hook that interrupts drift adopt after N
// objects are written (restore.InterruptEnv: "kill:N" or "int:N").
const InterruptEnv = restore.InterruptEnv

// TestHook returns the Options.Copied that InterruptEnv asks for, or nil
// (restore.TestHook).
func TestHook() func(restore.Item) { return restore.TestHook() }
