package diff

import (
	"path"

	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
)

// LinkIntoStorageWhy is what drift check and drift suggest both say of an
// unpersisted symbolic link on the root whose target lies in a persistent
// storage path (/etc/ssh/ssh_host_rsa_key -> /nix/persist/etc/ssh/…): the
// data is safe, but the link itself is lost at the wipe unless something
// makes it again at boot.
const LinkIntoStorageWhy = "a link into persistent storage that nothing re-creates: declare it (an impermanence file) or add a systemd-tmpfiles L rule"

// LinkIntoStorage reports whether it is a symbolic link whose lexical
// target (a relative one taken from its directory) lies strictly below one
// of the persistent storage paths of decls (never /), and that target.
func LinkIntoStorage(decls *persist.Set, it *Item, extra ...string) (string, bool) {
	if it.Mode&0o170000 != 0o120000 || it.Target() == "" {
		return "", false
	}
	t := it.Target()
	if !path.IsAbs(t) {
		t = path.Join(path.Dir(it.Path), t)
	}
	t = path.Clean(t)
	in := func(sp string) bool { return sp != "/" && sp != "" && pathx.HasPrefix(t, sp) && t != sp }
	if decls != nil {
		for _, e := range decls.Entries {
			if in(e.StoragePath) {
				return t, true
			}
		}
	}
	for _, sp := range extra {
		if in(sp) {
			return t, true
		}
	}
	return "", false
}
