package diff

import (
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
)

// SecretsAt lists the boot secrets of a (Audit.BootSecrets) that the lost
// path p stands for: at p, below it (p a directory lost whole with it), or
// above it (p inside a secret directory: sops.gnupg.home), in the order of
// BootSecrets. Losing one is more than losing data: the next boot locks
// users out or cannot decrypt the system's secrets (persist.Ref.Loss).
func (a *Audit) SecretsAt(p string) []persist.Ref {
	var out []persist.Ref
	for _, r := range a.BootSecrets {
		if pathx.Contains(p, r.Path) || pathx.Contains(r.Path, p) {
			out = append(out, r)
		}
	}
	return out
}

// SecretWhy says, of the lost path p, what losing the boot secret r there
// does (r.Loss), naming the option: "users.users.alice.hashedPasswordFile
// names it: losing it locks users out …"; for a directory holding r, or a
// path inside r, which path the option names. Not escaped.
func SecretWhy(r persist.Ref, p string) string {
	switch {
	case r.Path == p:
		return r.Option + " names it: " + r.Loss
	case pathx.Contains(p, r.Path):
		return "holds " + r.Path + ", which " + r.Option + " names: " + r.Loss
	}
	return "inside " + r.Path + ", which " + r.Option + " names: " + r.Loss
}
