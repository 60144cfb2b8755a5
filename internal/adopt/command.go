package adopt

import (
	"strings"

	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/restore"
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

// ChoiceNewer is Choice where the persistent copy's object is the newer
// one at newer (live paths, escaped by the caller; at least one): the
// newer side first, named, so that the first command is not the one that
// replaces newer data: "the persistent copy is newer at …: keep the
// persistent copy's: drift adopt --prefer persistent …, or the live
// objects: drift adopt --prefer live …". With newer empty, Choice.
func ChoiceNewer(root string, args []string, newer []string, ps ...string) string {
	if len(newer) == 0 {
		return Choice(root, args, ps...)
	}
	return "the persistent copy is newer at " + strings.Join(newer, ", ") + ": keep the persistent copy's: " + Command(root, args, PreferPersistent, ps...) +
		", or the live objects: " + Command(root, args, PreferLive, ps...)
}

// NewerInCopy are the live paths of res whose persistent copy holds a
// differing object modified after the live one (restore.Outcome.DestNewer):
// where --prefer live would replace newer data.
func NewerInCopy(res *Result) []string {
	var out []string
	for _, p := range res.Paths {
		for _, o := range p.Outcomes {
			if (o.Action == restore.Differs || o.Action == restore.Replace || o.Action == restore.Keep) && o.DestNewer() {
				out = append(out, o.Path)
			}
		}
	}
	return out
}
