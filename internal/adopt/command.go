package adopt

import (
	"github.com/nix-drift/drift/internal/escape"
)

// Command is the drift adopt command line for the live paths ps, each a
// shell word (escape.Shell): with --prefer p when p is not PreferNone;
// root, when not "/", passed as --root, and args (diff.Audit.Args: the
// declarations and mount table the audit was given) after it, so the
// command sees the same machine.
func Command(root string, args []string, p Prefer, ps ...string) string {
	sub := []string{"adopt"}
	if p != PreferNone {
		sub = append(sub, "--prefer", string(p))
	}
	return escape.DriftCommand(sub, root, args, ps...)
}

// Choice is the pair of commands that adopt paths whose persistent copy
// holds other content, one per side that may win: "keep the live objects:
// drift adopt --prefer live …, or the persistent copy's: drift adopt
// --prefer persistent …". Each runs as printed.
func Choice(root string, args []string, ps ...string) string {
	return "keep the live objects: " + Command(root, args, PreferLive, ps...) +
		", or the persistent copy's: " + Command(root, args, PreferPersistent, ps...)
}
