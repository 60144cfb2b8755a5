package btrfs

import (
	"context"
	"strings"

	"github.com/nix-drift/drift/internal/safefile"
)

// BootID is this boot's id (Options.BootID, the mark a wipe leaves on the
// roots it makes and retires), the kernel's boot_id
// (/proc/sys/kernel/random/boot_id), "" when it cannot be read.
func BootID() string {
	id, err := safefile.ReadFile(context.Background(), "/proc/sys/kernel/random/boot_id", 4096)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(id))
}
