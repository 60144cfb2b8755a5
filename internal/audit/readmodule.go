package audit

import (
	"context"

	"github.com/nix-drift/drift/internal/persist"
)

// ReadModule reads the declarations of the .nix module file with the
// modules it imports, as --persist FILE reads them (persist.Load: with
// the system's configuration at Root, read for what is in use, and the
// users.users homes of every file read), with the --home flags and the
// texts and parses of the configuration the model read (persist.Parses):
// a module the command read already is neither read nor parsed again;
// file itself is read on its own. drift suggest reads the modules of its
// earlier rounds so. Errors: persist.Load's.
func (m *Model) ReadModule(ctx context.Context, file string) (*persist.Set, error) {
	set, _, err := persist.Load(ctx, m.Root, []string{file}, "", nil, m.read)
	return set, err
}
